"""Gallery search with several photos per identity, margin, calibration and byte round trip."""

from __future__ import annotations

import numpy as np
import pytest

from congress.errors import ConfigError
from congress.faces import Gallery, threshold_for_far


def unit(rng, n=1):
    v = rng.standard_normal((n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_search_score_and_margin():
    rng = np.random.default_rng(1)
    alice, bob = unit(rng, 2), unit(rng, 1)
    gallery = Gallery(threshold=0.5)
    gallery.add("alice", alice)
    gallery.add("bob", bob)
    probe = alice[1] + 0.1 * unit(rng)[0]
    match = gallery.search(probe)
    scores = gallery.scores(probe)
    assert match.identity == "alice" and match.accepted
    assert match.score == pytest.approx(max(float(alice[0] @ probe), float(alice[1] @ probe))
                                        / np.linalg.norm(probe), abs=1e-5)
    assert match.margin == pytest.approx(scores["alice"] - scores["bob"], abs=1e-6)
    stranger = gallery.search(unit(rng)[0])
    assert not stranger.accepted and stranger.score < 0.5


def test_several_photos_and_remove():
    rng = np.random.default_rng(2)
    gallery = Gallery()
    first, second = unit(rng, 2)
    gallery.add("carol", first)
    gallery.add("carol", second)
    assert len(gallery) == 1 and gallery.embeddings("carol").shape == (2, 128)
    assert gallery.search(second).score == pytest.approx(1.0, abs=1e-5)
    gallery.remove("carol")
    empty = gallery.search(second)
    assert empty.identity is None and not empty.accepted


def test_bytes_round_trip_and_bad_data():
    rng = np.random.default_rng(3)
    gallery = Gallery(threshold=0.91)
    for name in ("a", "b", "c"):
        gallery.add(name, unit(rng, 2))
    copy = Gallery.from_bytes(gallery.to_bytes())
    assert copy.identities == ["a", "b", "c"] and copy.threshold == 0.91
    probe = unit(rng)[0]
    assert copy.search(probe) == gallery.search(probe)
    with pytest.raises(ConfigError, match="not valid"):
        Gallery.from_bytes(b"garbage")
    with pytest.raises(ValueError, match="128-d"):
        gallery.add("d", np.ones(64))


def test_threshold_for_far():
    impostors = np.linspace(0.0, 0.99, 100)
    threshold = threshold_for_far(impostors, 0.05)
    assert np.mean(impostors >= threshold) <= 0.05
    assert np.mean(impostors >= threshold - 0.011) > 0.05  # the lowest such threshold
    assert np.mean(impostors >= threshold_for_far(impostors, 0.0)) == 0.0

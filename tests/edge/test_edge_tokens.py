"""Badge tokens and the sealed gallery format (shared with the controller)."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from congress import badge_token, gallery_crypto
from congress.errors import ProtocolError


def test_badge_round_trip_and_refusals():
    key = Ed25519PrivateKey.generate()
    tok = badge_token.issue(key, "v1", "D-0042", badge_no=2)
    assert tok.startswith("DC1.") and len(tok) < 200
    c = badge_token.verify(tok, key.public_key(), "v1")
    assert (c.delegate_id, c.badge_no) == ("D-0042", 2)
    with pytest.raises(ProtocolError) as e:
        badge_token.verify(tok, key.public_key(), "v2")
    assert e.value.reason == badge_token.BadgeReason.VENUE
    with pytest.raises(ProtocolError) as e:
        badge_token.verify(tok, Ed25519PrivateKey.generate().public_key(), "v1")
    assert e.value.reason == badge_token.BadgeReason.SIGNATURE
    forged = badge_token.issue(key, "v1", "D-0043").split(".")
    with pytest.raises(ProtocolError) as e:
        badge_token.verify(".".join([forged[0], forged[1], tok.split(".")[2]]), key.public_key(), "v1")
    assert e.value.reason == badge_token.BadgeReason.SIGNATURE
    for junk in ["", "hello", "DC1.!!.??", "DC1." + "A" * 500]:
        with pytest.raises(ProtocolError) as e:
            badge_token.verify(junk, key.public_key(), "v1")
        assert e.value.reason == badge_token.BadgeReason.MALFORMED


def test_gallery_seal_open_only_for_its_unit():
    master = bytes(range(32))
    k1 = gallery_crypto.derive_unit_key(master, "v", "door-1")
    k2 = gallery_crypto.derive_unit_key(master, "v", "door-2")
    assert k1 != k2
    emb = np.random.default_rng(0).standard_normal((3, 128)).astype(np.float32)
    plain = gallery_crypto.encode(["a", "a", "b"], emb)
    blob = gallery_crypto.seal(k1, "v", "door-1", 7, plain)
    assert gallery_crypto.blob_version(blob) == 7
    g = gallery_crypto.open_sealed(k1, "v", "door-1", blob)
    assert g.version == 7 and g.ids == ("a", "a", "b")
    np.testing.assert_array_equal(g.embeddings, emb)
    with pytest.raises(ProtocolError) as e:
        gallery_crypto.open_sealed(k2, "v", "door-2", blob)  # another unit's key
    assert e.value.reason == "gallery_key"
    relabelled = blob[:3] + (8).to_bytes(8, "big") + blob[11:]
    with pytest.raises(ProtocolError):
        gallery_crypto.open_sealed(k1, "v", "door-1", relabelled)

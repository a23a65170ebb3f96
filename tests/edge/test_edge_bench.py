"""``congress edge bench``: genuine photos that the thresholds turn away are reported, not counted as lost."""

from __future__ import annotations

import json

import numpy as np

from congress.cli import main
from congress.faces import decode_image
from edge.camera.replay import letterbox
from edge.engine import EngineAnalyzer
from edge.gallery import GalleryIndex


def test_bench_separates_photos_below_the_threshold_from_lost_check_ins(tmp_path, faces_dir, capsys):
    images = tmp_path / "images"
    people = {}
    for person in ("id01", "id02", "id03"):  # two photos each: the first is enrolled, the second shown
        photos = sorted((faces_dir / "celebs" / person).glob("*.jpg"))[:2]
        (images / person).mkdir(parents=True)
        for p in photos:
            (images / person / p.name).symlink_to(p)
        people[person] = photos
    analyzer = EngineAnalyzer.load()

    def embedding(p):
        (face,) = analyzer.analyze(letterbox(decode_image(p), (640, 480)))
        return face.embedding

    gallery = GalleryIndex(1, tuple(people), np.array([embedding(p[0]) for p in people.values()]))
    scores = {person: gallery.search(embedding(p[1])) for person, p in people.items()}
    assert all(m.identity == person for person, m in scores.items())
    # A threshold between the genuine scores: the lower photos are turned away by it, not lost.
    ordered = sorted(m.score for m in scores.values())
    threshold = round((ordered[0] + ordered[-1]) / 2, 4)
    below = {person for person, m in scores.items() if m.score < threshold or m.margin < 0.03}
    assert below and len(below) < len(people)

    code = main(["edge", "bench", "--images", str(images), "--min-score", str(threshold), "--json"])
    r = json.loads(capsys.readouterr().out)
    assert r["probes"] == 3 and r["min_score"] == threshold
    assert {b["identity"] for b in r["below_threshold"]} == below
    assert r["expected"] == 3 - len(below)
    assert r["checkins"] == r["expected"] and r["mismatched"] == 0
    assert code == 0

"""Pieces of the demo that need no running venue: photo selection, the registry fallback's cache, and the
scenario's voting script (its expected results must be unambiguous for any number of delegates)."""

from __future__ import annotations

from pathlib import Path

import pytest

from congress.errors import ConfigError
from demo import photos, registry_faces
from demo.scenario import _elected, _expected_counts, election_choice, motion_choice


def test_choose_enrolls_the_first_acceptable_photo(tmp_path):
    shots = {name: tmp_path / f"{name}.jpg" for name in ("a1", "a2", "a3", "b1", "c1", "c2")}
    for p in shots.values():
        p.write_bytes(b"x")
    cands = [("A", [shots["a1"], shots["a2"], shots["a3"]]), ("B", [shots["b1"]]),
             ("C", [shots["c1"], shots["c2"]])]
    refused = {shots["a1"], shots["c1"], shots["c2"]}
    people = photos.choose(cands, 2, lambda p: p not in refused, arrivals=2)
    assert [p.identity for p in people] == ["A", "B"]
    assert people[0].enroll == (shots["a2"],) and people[0].arrive == (shots["a1"], shots["a3"])
    assert people[1].enroll == people[1].arrive == (shots["b1"],)  # one photo: arrives with it
    with pytest.raises(ConfigError, match="only 2 usable people"):
        photos.choose(cands, 3, lambda p: p not in refused)


def test_registry_fallback_is_used_only_when_complete(tmp_path):
    assert registry_faces.candidates(tmp_path) is None
    for files in registry_faces.PEOPLE.values():
        for f in files:
            (tmp_path / "test_images").mkdir(exist_ok=True)
            (tmp_path / "test_images" / f).write_bytes(b"jpeg")
    got = registry_faces.candidates(tmp_path)
    assert [who for who, _ in got] == ["Barack_Obama", "Joe_Biden"]
    assert got[0][1][0] == tmp_path / "test_images" / "obama.jpg"
    (tmp_path / "test_images" / "biden.jpg").unlink()
    assert registry_faces.candidates(tmp_path) is None


def test_demo_without_any_photos_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("CONGRESS_DEMO_FACES", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ConfigError, match="--fetch-faces"):
        photos.demo_candidates()


def test_scripted_election_has_clear_winners():
    for present in range(2, 121):
        plan = {i: election_choice(i) for i in range(present)}
        expected = _expected_counts(plan, ["A", "B", "C", "D"], 2)
        counts = expected["counts"]
        assert counts["A"] >= counts["C"] > counts["B"] >= counts["D"] == 0, present  # no tie for seat 2
        assert _elected(expected, 2) == ["A", "C"]
        assert expected["valid"] + expected["invalid"] == present


def test_scripted_motion_passes():
    plan = {i: motion_choice(i) for i in range(40)}
    counts = _expected_counts(plan, ["Yes", "No", "Abstain"], 1)["counts"]
    assert counts == {"Yes": 24, "No": 8, "Abstain": 8}


def test_photo_folder_override(monkeypatch, tmp_path):
    (tmp_path / "lfw-dev").mkdir()
    (tmp_path / "lfw-dev" / "enroll.csv").write_text("path,identity\n")
    monkeypatch.setenv("CONGRESS_DEMO_FACES", str(tmp_path))
    assert photos.faces_dir() == Path(tmp_path).resolve()

"""Tracking, voting and liveness logic on controlled inputs (the photos are in the other tests)."""

from __future__ import annotations

import numpy as np

from congress.config.edge import DoorMode, DoorSection, RecognitionSection
from edge.gallery import GalleryIndex
from edge.liveness import LivenessChecker, LivenessVerdict
from edge.recognition import Decision, Recognizer
from edge.tracking import Face, Tracker, iou


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def vectors(n, seed=0):
    return [unit(v) for v in np.random.default_rng(seed).standard_normal((n, 128))]


def test_iou_and_tracks_follow_overlap_and_split_on_a_new_person():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    a, b = vectors(2)
    tr = Tracker(min_iou=0.3, max_gap_s=1.0, min_similarity=0.9)
    (p1,), _ = tr.update([Face((0, 0, 100, 100), embedding=a)], 0.0)
    (p2,), _ = tr.update([Face((5, 5, 105, 105), embedding=a)], 0.1)
    assert p1[0].id == p2[0].id and p2[0].frames == 2
    (p3,), ended = tr.update([Face((5, 5, 105, 105), embedding=b)], 0.2)  # someone else, same spot
    assert p3[0].id != p1[0].id and [t.id for t in ended] == [p1[0].id]
    _, ended = tr.update([], 1.5)
    assert [t.id for t in ended] == [p3[0].id] and not tr.tracks


def frames(rec, gallery, embs, t0=0.0, box=(0, 0, 100, 100)):
    img = np.zeros((120, 120, 3), np.uint8)
    out = []
    for i, e in enumerate(embs):
        out += rec.process(img, [Face(box, embedding=e)], t0 + i * 0.1, gallery)
    return out


def test_votes_confirm_debounce_unknown_and_attendant():
    d1, d2, stranger = vectors(3, seed=1)
    g = GalleryIndex(1, ("D1", "D2"), np.array([d1, d2]))
    s = RecognitionSection(confirm_frames=3, min_score=0.8, min_margin=0.05, debounce_s=10)
    rec = Recognizer(s, DoorSection(liveness=False))
    out = frames(rec, g, [d1] * 5)
    assert [(o.decision, o.delegate_id) for o in out] == [(Decision.ACCEPTED, "D1")]  # one, on frame 3
    assert [o.decision for o in frames(rec, g, [stranger] * 3, t0=3.0)] == [Decision.UNKNOWN]
    out = frames(rec, g, [d1] * 3, t0=5.0, box=(300, 300, 400, 400))
    assert [o.decision for o in out] == [Decision.DEBOUNCED]
    rec2 = Recognizer(s, DoorSection(liveness=False))
    assert [o.decision for o in frames(rec2, g, [stranger] * 3)] == [Decision.UNKNOWN]
    # A near match (0.85 < min_score 0.9) in attendant mode asks staff; in face mode it is unknown.
    near = unit(d2 * 0.85 + stranger * np.sqrt(1 - 0.85**2))
    s2 = RecognitionSection(min_score=0.9, attendant_score=0.8, min_margin=0.0)
    att = Recognizer(s2, DoorSection(mode=DoorMode.ATTENDANT, liveness=False))
    assert [(o.decision, o.delegate_id) for o in frames(att, g, [near] * 3)] == [(Decision.ATTENDANT, "D2")]
    face = Recognizer(s2, DoorSection(liveness=False))
    assert [o.decision for o in frames(face, g, [near] * 3)] == [Decision.UNKNOWN]


def test_disagreeing_votes_wait():
    d1, d2 = vectors(2, seed=2)
    g = GalleryIndex(1, ("D1", "D2"), np.array([d1, d2]))
    rec = Recognizer(RecognitionSection(confirm_frames=3, min_score=0.8, same_person=0.0),
                     DoorSection(liveness=False))
    assert frames(rec, g, [d1, d2, d1]) == []


def kp(nose_dx=0.0):
    return np.array([[40, 50], [80, 50], [60 + nose_dx, 70], [60, 90]], dtype=np.float32)


def test_liveness_still_face_fails_turning_face_passes():
    gray = np.random.default_rng(3).integers(0, 255, (160, 160), dtype=np.uint8)
    chk = LivenessChecker(window_s=1.0)
    still: dict = {}
    verdicts = [chk.update(still, gray, kp(), t / 10) for t in range(12)]
    assert verdicts[-1] is LivenessVerdict.FAIL and LivenessVerdict.PASS not in verdicts
    # A photo moved, tilted and zoomed is still a photo: the measure is in the eyes' own frame.
    moved: dict = {}
    rot = np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]], dtype=np.float32)
    for t in range(12):
        pts = (kp() - 60) @ rot.T * (1 + t / 20) + 60 + t
        v = chk.update(moved, gray, pts, t / 10)
    assert v is LivenessVerdict.FAIL
    turning: dict = {}
    v = [chk.update(turning, gray, kp(dx), t / 10) for t, dx in enumerate([0, 2, 4, 6, 8])]
    assert v[-1] is LivenessVerdict.PASS and LivenessChecker.explain(turning) == "head movement"


def test_liveness_blink_changes_the_eyes_only():
    rng = np.random.default_rng(4)
    open_ = rng.integers(0, 255, (160, 160), dtype=np.uint8)
    closed = open_.copy()
    closed[40:60, 30:90] = rng.integers(0, 255, (20, 60), dtype=np.uint8)  # only the eye band differs
    chk = LivenessChecker(window_s=2.0)
    st: dict = {}
    seq = [open_, open_, closed, open_]
    v = [chk.update(st, g, kp(), t / 10) for t, g in enumerate(seq)]
    assert v[-1] is LivenessVerdict.PASS and LivenessChecker.explain(st) == "blink"


def test_liveness_eye_aspect_ratio_blink_and_steady_eyes():
    gray = np.zeros((160, 160), np.uint8)
    chk = LivenessChecker(window_s=1.0)
    blink: dict = {}
    ears = iter([0.31, 0.30, 0.12, 0.29])
    v = [chk.update(blink, gray, kp(), t / 10, lambda: next(ears)) for t in range(4)]
    assert v[2] is LivenessVerdict.PASS and LivenessChecker.explain(blink) == "blink"
    steady: dict = {}
    v = [chk.update(steady, gray, kp(), t / 10, lambda: 0.30) for t in range(12)]
    assert v[-1] is LivenessVerdict.FAIL
    calls = []
    chk.update(steady, gray, kp(), 2.0, lambda: calls.append(1) or 0.1)
    assert calls == []  # decided: the face-mesh model is not run again

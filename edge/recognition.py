"""Recognition loop logic: faces of a frame -> tracks -> votes -> one decision per person.

:class:`Recognizer` is pure logic fed with frames; the thread that reads the camera and acts on the
decisions is :class:`edge.door.Door`. For each track (one person followed by :mod:`edge.tracking`):

* every frame's embedding is searched in the gallery; the last ``confirm_frames`` votes must name the
  same delegate with score >= ``min_score`` and margin >= ``min_margin`` to confirm them;
* with liveness on, a confirmed delegate is accepted only once :class:`edge.liveness.LivenessChecker`
  saw a blink or head movement; when its window runs out the track is refused (``SPOOF``);
* a track whose last ``confirm_frames`` votes are all below the thresholds is refused (``UNKNOWN``); in
  ``attendant`` mode, votes that agree on a delegate with a score between ``attendant_score`` and
  ``min_score`` become an ``ATTENDANT`` request for a staff member instead;
* a delegate accepted less than ``debounce_s`` ago is ``DEBOUNCED`` (shown green, not sent again).

Badge modes (``badge``, ``badge+face``) are layered on top by :mod:`edge.badges`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from congress.config.edge import DoorMode, DoorSection, RecognitionSection
from edge.gallery import GalleryIndex
from edge.liveness import LivenessChecker, LivenessVerdict
from edge.tracking import Face, Track, Tracker


class Decision(StrEnum):
    ACCEPTED = "accepted"
    DEBOUNCED = "debounced"
    UNKNOWN = "unknown"
    SPOOF = "spoof"
    ATTENDANT = "attendant"
    REFUSED = "refused"  # a badge that is forged, from another venue, or not matched by the face


@dataclass(frozen=True)
class Outcome:
    """What the door decided about one person, at frame time ``t``."""

    decision: Decision
    delegate_id: str | None
    t: float
    track_id: int = 0
    score: float | None = None
    margin: float | None = None
    liveness: LivenessVerdict | None = None
    reason: str = ""


@dataclass(frozen=True)
class Vote:
    identity: str | None
    score: float
    margin: float


class Recognizer:
    """Turns frames (with their faces) into :class:`Outcome` objects. Not thread-safe: one loop owns it."""

    def __init__(self, settings: RecognitionSection, door: DoorSection) -> None:
        self.s = settings
        self.door = door
        self.tracker = Tracker(min_iou=settings.track_iou, max_gap_s=1.0, min_similarity=settings.same_person)
        self.liveness = LivenessChecker(door.liveness_window_s) if door.liveness else None
        self.last_accepted: dict[str, float] = {}

    def process(self, image: np.ndarray, faces: list[Face], t: float, gallery: GalleryIndex) -> list[Outcome]:
        """Feed one frame and its detected faces; return the decisions taken on this frame."""
        pairs, _ended = self.tracker.update(faces, t)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if self.liveness and pairs else None
        out = []
        for track, face in pairs:
            o = self._step(track, face, gray, t, gallery)
            if o is not None:
                track.data["decided"] = o
                out.append(o)
        return out

    def _step(self, tr: Track, face: Face, gray, t: float, gallery: GalleryIndex) -> Outcome | None:
        if face.embedding is None:
            return None
        if "decided" in tr.data:
            if not self._someone_else(tr.data["decided"], face, gallery):
                return None
            tr.data.clear()  # a different, confidently known person took the spot: decide again
        verdict = None
        if self.liveness is not None:
            verdict = self.liveness.update(tr.data, gray, face.keypoints, t, face.ear)
        m = gallery.search(face.embedding)
        votes: deque[Vote] = tr.data.setdefault("votes", deque(maxlen=self.s.confirm_frames))
        votes.append(Vote(m.identity, m.score, m.margin))
        if len(votes) < self.s.confirm_frames:
            return None
        first = votes[0].identity
        same = first is not None and all(v.identity == first for v in votes)
        score = min(v.score for v in votes)
        margin = min(v.margin for v in votes)
        confident = same and score >= self.s.min_score and margin >= self.s.min_margin
        base = {"t": t, "track_id": tr.id, "score": round(score, 4), "margin": round(margin, 4)}
        if confident:
            if verdict is LivenessVerdict.PENDING:
                return None
            if verdict is LivenessVerdict.FAIL:
                return Outcome(
                    Decision.SPOOF, first, liveness=verdict, reason=LivenessChecker.explain(tr.data), **base
                )
            return self.accept(first, verdict, base)
        if (
            self.door.mode is DoorMode.ATTENDANT
            and same
            and score >= self.s.attendant_score
            and verdict is not LivenessVerdict.FAIL
        ):
            if verdict is LivenessVerdict.PENDING:
                return None
            return Outcome(Decision.ATTENDANT, first, liveness=verdict, reason="low confidence", **base)
        best = max(v.score for v in votes)
        if best < self.s.min_score or verdict is LivenessVerdict.FAIL:
            reason = "not in the gallery" if best < self.s.min_score else LivenessChecker.explain(tr.data)
            decision = Decision.UNKNOWN if best < self.s.min_score else Decision.SPOOF
            return Outcome(decision, None, liveness=verdict, reason=reason, **base)
        return None  # votes disagree: keep watching

    def _someone_else(self, decided: Outcome, face: Face, gallery: GalleryIndex) -> bool:
        m = gallery.search(face.embedding)
        return (
            m.identity is not None
            and m.identity != decided.delegate_id
            and m.score >= self.s.min_score
            and m.margin >= self.s.min_margin
        )

    def accept(self, delegate: str, verdict, base: dict) -> Outcome:
        """Accepted, or DEBOUNCED when the delegate was accepted less than debounce_s ago."""
        t = base["t"]
        last = self.last_accepted.get(delegate)
        if last is not None and t - last < self.s.debounce_s:
            return Outcome(
                Decision.DEBOUNCED, delegate, liveness=verdict, reason="already checked in", **base
            )
        self.last_accepted[delegate] = t
        return Outcome(Decision.ACCEPTED, delegate, liveness=verdict, **base)

"""Active liveness: a face must blink or turn its head within a time window before it checks in.

Works from the detector's keypoints (right eye, left eye, nose, ...), which every frame already has:

* **head movement**: the nose's offset from the eye midpoint, measured in the eye line's own frame and
  divided by the eye distance, changes as the head turns (yaw) or nods (pitch). Moving, tilting or
  zooming a photograph does not change it; a real head turning does. Pass when its range within the
  window reaches ``min_pose_change``.
* **blink**, two cues: (1) the eye aspect ratio from the face engine's face-mesh model, when it is
  available, drops from open (>= ``ear_open``) to closed (<= ``ear_closed``); (2) small patches around
  the eyes are compared with the first patches of the track by normalised correlation: a blink changes
  the eye patches while the rest of the face (nose and mouth patch) stays the same — pass when some
  frame's eye change reaches ``min_eye_change`` while the face change stays below ``max_face_change``.

A still photo or a screen held still gives the same picture frame after frame: no measure changes and
the window runs out (``FAIL``). The check is per track (one person in front of the door).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

PATCH = 24


class LivenessVerdict(StrEnum):
    PENDING = "pending"
    PASS = "pass"
    FAIL = "fail"


@dataclass
class _State:
    first_t: float
    poses: list[tuple[float, float]] = field(default_factory=list)
    eyes0: np.ndarray | None = None
    face0: np.ndarray | None = None
    max_eye_change: float = 0.0
    ears: list[float] = field(default_factory=list)
    verdict: LivenessVerdict = LivenessVerdict.PENDING
    how: str = ""


def _patch(gray: np.ndarray, centre: np.ndarray, half: float) -> np.ndarray | None:
    x, y, h = round(float(centre[0])), round(float(centre[1])), max(2, round(half))
    if x - h < 0 or y - h < 0 or x + h > gray.shape[1] or y + h > gray.shape[0]:
        return None
    p = cv2.resize(gray[y - h : y + h, x - h : x + h], (PATCH, PATCH), interpolation=cv2.INTER_AREA)
    p = p.astype(np.float32) - p.mean()
    n = float(np.linalg.norm(p))
    return p / n if n > 1e-3 else p * 0


def _change(a: np.ndarray, b: np.ndarray) -> float:
    """1 - normalised correlation of two patches: 0 for the same picture, about 1 for unrelated ones."""
    return float(1.0 - np.sum(a * b))


class LivenessChecker:
    """Feed every frame of a track with :meth:`update`; it returns the verdict so far."""

    def __init__(
        self,
        window_s: float = 4.0,
        *,
        min_pose_change: float = 0.12,
        min_eye_change: float = 0.25,
        max_face_change: float = 0.12,
        ear_open: float = 0.24,
        ear_closed: float = 0.17,
    ) -> None:
        self.ear_open, self.ear_closed = ear_open, ear_closed
        self.window_s = window_s
        self.min_pose_change = min_pose_change
        self.min_eye_change = min_eye_change
        self.max_face_change = max_face_change

    def update(
        self,
        state: dict,
        gray: np.ndarray,
        keypoints: np.ndarray | None,
        t: float,
        ear: Callable[[], float | None] | None = None,
    ) -> LivenessVerdict:
        """``state`` is the track's own dict; ``gray`` the frame in grey; ``t`` the frame time;
        ``ear`` returns the eye aspect ratio (called only while the verdict is pending)."""
        st: _State = state.setdefault("liveness", _State(first_t=t))
        if st.verdict is not LivenessVerdict.PENDING:
            return st.verdict
        if ear is not None and (value := ear()) is not None:
            st.ears.append(value)
            if max(st.ears) >= self.ear_open and min(st.ears) <= self.ear_closed:
                st.verdict, st.how = LivenessVerdict.PASS, "blink"
                return st.verdict
        if keypoints is not None and len(keypoints) >= 3:
            self._measure(st, gray, np.asarray(keypoints, dtype=np.float32))
        if st.verdict is LivenessVerdict.PENDING and t - st.first_t > self.window_s:
            st.verdict = LivenessVerdict.FAIL
            st.how = "no blink or head movement within the window"
        return st.verdict

    @staticmethod
    def explain(state: dict) -> str:
        st = state.get("liveness")
        return st.how if st else ""

    def _measure(self, st: _State, gray: np.ndarray, kp: np.ndarray) -> None:
        right, left, nose = kp[0], kp[1], kp[2]
        axis = left - right
        dist = float(np.linalg.norm(axis))
        if dist < 4:
            return
        ux = axis / dist
        uy = np.array([-ux[1], ux[0]], dtype=np.float32)
        rel = nose - (left + right) / 2
        st.poses.append((float(rel @ ux) / dist, float(rel @ uy) / dist))
        yaw = [p[0] for p in st.poses]
        pitch = [p[1] for p in st.poses]
        if max(max(yaw) - min(yaw), max(pitch) - min(pitch)) >= self.min_pose_change:
            st.verdict, st.how = LivenessVerdict.PASS, "head movement"
            return
        er, el = _patch(gray, right, dist * 0.3), _patch(gray, left, dist * 0.3)
        mouth = kp[3] if len(kp) > 3 else nose + uy * dist * 0.5
        fc = _patch(gray, (nose + mouth) / 2, dist * 0.45)
        if er is None or el is None or fc is None:
            return
        eyes = np.concatenate([er.ravel(), el.ravel()]) / np.sqrt(2)
        if st.eyes0 is None:
            st.eyes0, st.face0 = eyes, fc
            return
        eye_change, face_change = _change(eyes, st.eyes0), _change(fc, st.face0)
        st.max_eye_change = max(st.max_eye_change, eye_change)
        if eye_change >= self.min_eye_change and face_change <= self.max_face_change:
            st.verdict, st.how = LivenessVerdict.PASS, "blink"

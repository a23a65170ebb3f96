"""Follow faces from frame to frame by box overlap (IoU), so votes and liveness belong to one person.

A track ends when its face has not been seen for ``max_gap_s`` of frame time. Matching is greedy by
descending IoU, which is exact enough for the one to three faces a door camera sees at once. A face
whose embedding is far from the track's last one (cosine below ``min_similarity``) starts a new track
even where the boxes overlap: the next person stepping into the same spot is someone else.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Face:
    """One detected face in a frame: pixel box (x1, y1, x2, y2), keypoints (k, 2) and its embedding."""

    box: tuple[float, float, float, float]
    score: float = 1.0
    keypoints: np.ndarray | None = None
    embedding: np.ndarray | None = None
    #: Eye aspect ratio from the face-mesh model, computed only when called (liveness asks for it).
    ear: Callable[[], float | None] | None = None


@dataclass
class Track:
    """A face followed across frames; ``data`` holds what the recogniser accumulates for it."""

    id: int
    box: tuple[float, float, float, float]
    first_t: float
    last_t: float
    frames: int = 0
    embedding: np.ndarray | None = None
    data: dict = field(default_factory=dict)


def iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class Tracker:
    """Assigns each face of a frame to a track (existing or new) and ends stale tracks."""

    def __init__(self, min_iou: float = 0.3, max_gap_s: float = 1.0, min_similarity: float = 0.3) -> None:
        self.min_iou = min_iou
        self.min_similarity = min_similarity
        self.max_gap_s = max_gap_s
        self.tracks: dict[int, Track] = {}
        self._ids = itertools.count(1)

    def update(self, faces: list[Face], t: float) -> tuple[list[tuple[Track, Face]], list[Track]]:
        """Return (track, face) pairs for this frame and the tracks that ended."""
        pairs = sorted(
            (
                (iou(tr.box, f.box), tid, i)
                for tid, tr in self.tracks.items()
                for i, f in enumerate(faces)
                if self._same_person(tr, f)
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_f: set[int] = set()
        out: list[tuple[Track, Face]] = []
        for overlap, tid, i in pairs:
            if overlap < self.min_iou:
                break
            if tid in used_t or i in used_f:
                continue
            used_t.add(tid)
            used_f.add(i)
            out.append((self.tracks[tid], faces[i]))
        for i, f in enumerate(faces):
            if i not in used_f:
                tr = Track(next(self._ids), f.box, t, t)
                self.tracks[tr.id] = tr
                out.append((tr, f))
        for tr, f in out:
            tr.box, tr.last_t = f.box, t
            if f.embedding is not None:
                tr.embedding = f.embedding
            tr.frames += 1
        seen = {tr.id for tr, _ in out}
        ended = [
            tr
            for tr in self.tracks.values()
            if t - tr.last_t > self.max_gap_s or (tr.id not in seen and self._displaced(tr, out))
        ]
        for tr in ended:
            del self.tracks[tr.id]
        return out, ended

    def _same_person(self, tr: Track, f: Face) -> bool:
        if tr.embedding is None or f.embedding is None:
            return True
        return float(np.dot(tr.embedding, f.embedding)) >= self.min_similarity

    def _displaced(self, tr: Track, out: list[tuple[Track, Face]]) -> bool:
        """A track whose spot a new person took in this frame has ended (they walked on)."""
        return any(o.frames == 1 and iou(tr.box, o.box) >= self.min_iou for o, _ in out)

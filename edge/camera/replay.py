"""Replay images from a folder or a playlist as camera frames; an instrument for tests and the demo.

A playlist is a text file with one image per line (relative to the playlist's folder), optionally
followed by how many frames to hold it (``eyes/open.jpg 3``); ``#`` starts a comment. Opening checks
that every image is readable; an image is decoded when its turn comes and only the current one is
kept, so a long playlist costs no memory. ``served`` records, in order, which image each frame showed.
Frame times are virtual (index / fps) so time windows do not depend on the machine's speed; with
``realtime`` the camera also paces delivery at ``fps``. With ``size`` every image is scaled to fit and
centred on a grey frame of that size, as a real camera delivers one frame size whatever it sees.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from congress.errors import DeviceError
from edge.camera.base import Camera, Frame

#: How many served frames the camera remembers (the newest), so a looping demo does not grow.
SERVED_KEPT = 10_000
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def read_playlist(path: Path, default_hold: int) -> list[tuple[Path, int]]:
    """Parse a playlist file into (image path, hold frames); errors name the line."""
    items = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.rsplit(None, 1)
        hold = default_hold
        if len(parts) == 2 and parts[1].isdigit():
            line, hold = parts[0], int(parts[1])
        if hold < 1:
            raise DeviceError(f"{path}:{n}: hold must be at least 1 frame")
        p = Path(line)
        items.append((p if p.is_absolute() else path.parent / p, hold))
    return items


def letterbox(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``img`` scaled to fit ``size`` (width, height), centred on mid grey."""
    import cv2

    w, h = size
    scale = min(w / img.shape[1], h / img.shape[0])
    nw, nh = max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale))
    out = np.full((h, w, 3), 128, np.uint8)
    x, y = (w - nw) // 2, (h - nh) // 2
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out[y : y + nh, x : x + nw] = cv2.resize(img, (nw, nh), interpolation=interp)
    return out


class ReplayCamera(Camera):
    """Serves ``items`` (image path, frames to hold) in order, optionally looping."""

    def __init__(
        self,
        items: list[tuple[Path, int]],
        *,
        fps: float = 10.0,
        loop: bool = False,
        realtime: bool = False,
        size: tuple[int, int] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if not items:
            raise DeviceError("replay camera has no images", hint="point [camera] path at images")
        self.items, self.fps, self.loop, self.realtime = items, fps, loop, realtime
        self.name = "replay"
        self.size = size
        self.served: deque[str] = deque(maxlen=SERVED_KEPT)
        self._open = False
        self._current: tuple[int, np.ndarray | None] = (-1, None)
        self._stop = stop or threading.Event()
        self._n = 0
        self._t0 = 0.0

    @classmethod
    def from_path(cls, path: Path, *, hold_frames: int = 5, **kw) -> ReplayCamera:
        """A folder (images sorted by name) or a playlist file."""
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            items = [(p, hold_frames) for p in files]
        elif path.is_file():
            items = read_playlist(path, hold_frames)
        else:
            raise DeviceError(f"replay source {path} does not exist", hint="check [camera] path")
        return cls(items, **kw)

    def open(self) -> None:
        import cv2

        for p, _ in self.items:
            if not p.is_file() or not cv2.haveImageReader(str(p)):
                raise DeviceError(f"replay image {p} cannot be read", hint="is it a JPEG/PNG file?")
        self._open = True
        self._current = (-1, None)
        self._schedule = [i for i, (_, hold) in enumerate(self.items) for _ in range(hold)]
        self._n = 0
        self._t0 = time.monotonic()

    def read(self) -> Frame | None:
        if not self._open:
            raise DeviceError("replay camera is not open")
        n = self._n
        if n >= len(self._schedule) and not self.loop:
            return None
        k = self._schedule[n % len(self._schedule)]
        if self.realtime:
            delay = self._t0 + n / self.fps - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return None
        self._n += 1
        src = str(self.items[k][0])
        self.served.append(src)
        return Frame(self._image(k), n, n / self.fps, src)

    def _image(self, k: int) -> np.ndarray:
        import cv2

        if self._current[0] != k:
            p = self.items[k][0]
            img = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if img is None:
                raise DeviceError(f"replay image {p} cannot be decoded", hint="is it a JPEG/PNG file?")
            self._current = (k, letterbox(img, self.size) if self.size else img)
        return self._current[1]

    def close(self) -> None:
        self._stop.set()
        self._open = False
        self._current = (-1, None)

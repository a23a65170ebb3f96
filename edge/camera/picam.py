"""The Raspberry Pi camera through picamera2 (apt ``python3-picamera2``; venv with system site packages).

picamera2 is imported only in :meth:`Picamera2Camera.open`, so the rest of the unit runs anywhere.
"""

from __future__ import annotations

import time

import numpy as np

from congress.errors import DeviceError
from edge.camera.base import Camera, Frame


class Picamera2Camera(Camera):
    """Frames from libcamera in BGR888 at the configured size and rate."""

    def __init__(self, index: int = 0, *, width: int = 640, height: int = 480, fps: float = 10.0) -> None:
        self.index, self.width, self.height, self.fps = index, width, height, fps
        self.name = f"picamera2:{index}"
        self._cam = None
        self._n = 0

    def open(self) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError:
            raise DeviceError(
                "picamera2 is not available: this is not a Raspberry Pi or python3-picamera2 is missing",
                hint="on a Pi: apt install python3-picamera2 and create the venv with "
                '--system-site-packages; elsewhere set [camera] type = "opencv" or "replay"',
            ) from None
        try:
            cam = Picamera2(self.index)
            config = cam.create_video_configuration(
                main={"size": (self.width, self.height), "format": "BGR888"},
                controls={"FrameRate": float(self.fps)},
            )
            cam.configure(config)
            cam.start()
        except (RuntimeError, IndexError, OSError) as exc:
            raise DeviceError(
                f"Pi camera {self.index} cannot be opened: {exc}",
                hint="check the ribbon cable and `rpicam-hello --list-cameras`",
            ) from None
        self._cam = cam

    def read(self) -> Frame | None:
        if self._cam is None:
            raise DeviceError("Pi camera is not open")
        # "BGR888" in libcamera terms is stored B,G,R... per pixel as OpenCV expects on little endian.
        img = np.ascontiguousarray(self._cam.capture_array("main")[:, :, :3])
        self._n += 1
        return Frame(img, self._n - 1, time.monotonic(), self.name)

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            cam.stop()
            cam.close()

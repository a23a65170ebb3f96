"""The Raspberry Pi camera through picamera2 (apt ``python3-picamera2``; venv with system site packages).

picamera2 is imported only in :meth:`Picamera2Camera.open`, so the rest of the unit runs anywhere.

Colour order: picamera2 names formats after libcamera's DRM fourcc codes, which give the order of the
bytes in a little-endian *word*, so in memory (and in the numpy array) "RGB888" is B, G, R per pixel,
the order OpenCV and the face engine expect, and "BGR888" is R, G, B (picamera2 manual, "Image
formats"). The unit asks for "RGB888".
"""

from __future__ import annotations

import time

import numpy as np

from congress.errors import DeviceError
from edge.camera.base import Camera, Frame

#: The picamera2 format whose arrays are B, G, R per pixel (see the module docstring).
FORMAT = "RGB888"
NUMPY_HINT = (
    "python3-picamera2 and its compiled helpers are built against Debian's numpy; a numpy from pip in "
    "the venv shadows it. Remove it (/opt/congress/venv/bin/pip uninstall numpy) so the venv uses "
    "python3-numpy, or re-provision the unit from a card made for this Raspberry Pi OS release"
)


class Picamera2Camera(Camera):
    """Frames from libcamera at the configured size and rate, in OpenCV's B, G, R order."""

    def __init__(self, index: int = 0, *, width: int = 640, height: int = 480, fps: float = 10.0) -> None:
        self.index, self.width, self.height, self.fps = index, width, height, fps
        self.name = f"picamera2:{index}"
        self._cam = None
        self._n = 0

    def open(self) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError as exc:
            if "numpy" in str(exc):  # "numpy.core.multiarray failed to import" and the like
                raise DeviceError(f"picamera2 cannot load with this numpy: {exc}", hint=NUMPY_HINT) from None
            raise DeviceError(
                "picamera2 is not available: this is not a Raspberry Pi or python3-picamera2 is missing",
                hint="on a Pi: apt install python3-picamera2 and create the venv with "
                '--system-site-packages; elsewhere set [camera] type = "opencv" or "replay"',
            ) from None
        except ValueError as exc:  # "numpy.dtype size changed, may indicate binary incompatibility"
            if "numpy" not in str(exc):
                raise
            raise DeviceError(f"picamera2 cannot load with this numpy: {exc}", hint=NUMPY_HINT) from None
        try:
            cam = Picamera2(self.index)
            config = cam.create_video_configuration(
                main={"size": (self.width, self.height), "format": FORMAT},
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
        img = np.ascontiguousarray(self._cam.capture_array("main")[:, :, :3])
        self._n += 1
        return Frame(img, self._n - 1, time.monotonic(), self.name)

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            cam.stop()
            cam.close()

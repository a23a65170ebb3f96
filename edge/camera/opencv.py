"""USB webcams, RTSP streams and video files through OpenCV's ``VideoCapture``."""

from __future__ import annotations

import time

from congress.errors import DeviceError
from edge.camera.base import Camera, Frame


class OpenCVCamera(Camera):
    """``source`` is a USB index ("0"), an RTSP/HTTP URL or a video file path.

    A video file ends (``read`` returns None); a live source that stops delivering raises DeviceError.
    """

    def __init__(self, source: str, *, width: int = 640, height: int = 480, fps: float = 10.0) -> None:
        self.source, self.width, self.height, self.fps = source, width, height, fps
        self.is_device = source.isdigit()
        self.is_file = not self.is_device and "://" not in source
        self.name = f"opencv:{source}"
        self._cap = None
        self._n = 0

    def open(self) -> None:
        import cv2

        arg = int(self.source) if self.is_device else self.source
        cap = cv2.VideoCapture(arg)
        if not cap.isOpened():
            cap.release()
            hint = (
                "check `v4l2-ctl --list-devices` and that the user is in the video group"
                if self.is_device
                else "check the path or URL and that the stream is reachable"
            )
            raise DeviceError(f"camera {self.source!r} cannot be opened", hint=hint)
        if self.is_device:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        self._cap = cap

    def read(self) -> Frame | None:
        if self._cap is None:
            raise DeviceError(f"camera {self.source!r} is not open")
        ok, img = self._cap.read()
        if not ok:
            if self.is_file:
                return None
            raise DeviceError(f"camera {self.source!r} stopped delivering frames", hint="check the cable")
        self._n += 1
        return Frame(img, self._n - 1, time.monotonic(), self.name)

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

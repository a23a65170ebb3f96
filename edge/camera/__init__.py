"""Camera sources behind one interface, chosen by the ``type`` of the ``[camera]`` table.

:func:`open_camera` is the only place a camera is constructed from configuration; there is no silent
fallback from one type to another (a Pi whose camera is missing fails loudly with a hint instead of
quietly using a webcam).
"""

from __future__ import annotations

from congress.config.edge import OpenCVCamera as OpenCVSettings
from congress.config.edge import Picamera2Camera as Picamera2Settings
from congress.config.edge import ReplayCamera as ReplaySettings
from edge.camera.base import Camera, Frame

__all__ = ["Camera", "Frame", "open_camera"]


def open_camera(
    settings: Picamera2Settings | OpenCVSettings | ReplaySettings, *, realtime: bool = True
) -> Camera:
    """Construct and open the camera the configuration names; raise DeviceError when it cannot."""
    if isinstance(settings, ReplaySettings):
        from edge.camera.replay import ReplayCamera

        cam: Camera = ReplayCamera.from_path(
            settings.path,
            fps=settings.fps,
            hold_frames=settings.hold_frames,
            loop=settings.loop,
            realtime=realtime,
            size=(settings.width, settings.height),
        )
    elif isinstance(settings, OpenCVSettings):
        from edge.camera.opencv import OpenCVCamera

        cam = OpenCVCamera(settings.source, width=settings.width, height=settings.height, fps=settings.fps)
    else:
        from edge.camera.picam import Picamera2Camera

        cam = Picamera2Camera(settings.index, width=settings.width, height=settings.height, fps=settings.fps)
    cam.open()
    return cam

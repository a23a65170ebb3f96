"""A stand-in for the ``picamera2`` module, built from its manual, so the camera code can be tested off a Pi.

The one thing it must get right is what picamera2 documents about colour ("Image formats" in the
Picamera2 manual): the names are libcamera's DRM fourcc codes, so "RGB888" arrays hold B, G, R per
pixel, "BGR888" arrays R, G, B, "XRGB8888" B, G, R, 255 and "XBGR8888" R, G, B, 255. The camera
"sees" ``scene``, an RGB image; ``configured`` records what the code asked for.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

_ORDER = {"RGB888": (2, 1, 0), "BGR888": (0, 1, 2), "XRGB8888": (2, 1, 0), "XBGR8888": (0, 1, 2)}


class Picamera2:
    scene: np.ndarray = np.zeros((480, 640, 3), np.uint8)  # RGB
    instances: ClassVar[list[Picamera2]] = []

    def __init__(self, index: int = 0) -> None:
        self.index = index
        self.configured: dict | None = None
        self.started = False
        Picamera2.instances.append(self)

    def create_video_configuration(self, main: dict, controls: dict | None = None) -> dict:
        fmt = main.get("format", "XBGR8888")
        if fmt not in _ORDER:
            raise RuntimeError(f"unsupported format {fmt}")
        return {"main": dict(main), "controls": dict(controls or {})}

    def configure(self, config: dict) -> None:
        self.configured = config

    def start(self) -> None:
        self.started = True

    def capture_array(self, name: str = "main") -> np.ndarray:
        main = self.configured[name]
        w, h = main["size"]
        assert self.scene.shape[:2] == (h, w), "the test sets a scene of the configured size"
        px = self.scene[:, :, list(_ORDER[main["format"]])]
        if main["format"].startswith("X"):
            px = np.concatenate([px, np.full((h, w, 1), 255, np.uint8)], axis=2)
        return np.ascontiguousarray(px)

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        pass

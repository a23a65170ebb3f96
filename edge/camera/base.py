"""The camera interface every source implements, and the frame it delivers."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One picture: ``image`` is BGR uint8 (OpenCV order); ``t`` is seconds on the camera's clock.

    ``t`` is monotonic for live cameras; a replay camera gives virtual time (index / fps) so that
    time windows (liveness, debounce) behave the same however fast the machine is.
    """

    image: np.ndarray
    index: int
    t: float
    source: str = field(default="")


class Camera(abc.ABC):
    """A source of frames: ``open()``, ``read()`` (None at the end of a finite source), ``close()``."""

    name: str = "camera"

    @abc.abstractmethod
    def open(self) -> None:
        """Acquire the device; raise :class:`congress.errors.DeviceError` with a hint when it cannot."""

    @abc.abstractmethod
    def read(self) -> Frame | None:
        """Return the next frame, or None when a finite source (file, replay) has ended."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    def __enter__(self) -> Camera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

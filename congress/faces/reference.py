"""The dlib ``face_recognition`` pipeline, run side by side with ours for accuracy and speed figures.

It is what users of the well-known ``face_recognition`` package get: HOG detector (one upsampling),
5-point shape predictor, dlib's ResNet descriptor on a 150×150 chip with padding 0.25, no jitter.
Needs the ``dlib-bin`` and ``face_recognition_models`` packages (``dev``/``build-models`` extras);
the door unit never imports this module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from congress.errors import ModelError


def models_path(name: str) -> Path:
    """Path of a file shipped in the ``face_recognition_models`` package."""
    try:
        import face_recognition_models
    except ImportError as exc:
        raise ModelError(
            "the dlib reference needs the face_recognition_models package",
            hint="pip install -e '.[dev]'",
        ) from exc
    return Path(face_recognition_models.__file__).parent / "models" / name


@dataclass
class ReferenceFace:
    """One face found by dlib: box (x0, y0, x1, y1), 5 landmarks, L2-normalised descriptor."""

    box: tuple[int, int, int, int]
    landmarks: np.ndarray
    embedding: np.ndarray


class DlibPipeline:
    """HOG detect → 5-point landmarks → ResNet descriptor, as ``face_recognition`` does it."""

    def __init__(self, upsample: int = 1) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise ModelError("the dlib reference needs dlib", hint="pip install dlib-bin") from exc
        self._dlib = dlib
        self.upsample = upsample
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(models_path("shape_predictor_5_face_landmarks.dat")))
        self.encoder = dlib.face_recognition_model_v1(
            str(models_path("dlib_face_recognition_resnet_model_v1.dat"))
        )
        self.timings: dict[str, list[float]] = {"detect": [], "align": [], "embed": []}

    def chip(self, bgr: np.ndarray, shape) -> np.ndarray:
        """dlib's own 150×150 RGB chip (padding 0.25) for a detected shape."""
        return self._dlib.get_face_chip(np.ascontiguousarray(bgr[:, :, ::-1]), shape, 150, 0.25)

    def descriptor(self, rgb_chip: np.ndarray) -> np.ndarray:
        """dlib's raw (not normalised) 128-d descriptor of a 150×150 RGB chip."""
        return np.asarray(self.encoder.compute_face_descriptor(np.ascontiguousarray(rgb_chip)))

    def shapes(self, bgr: np.ndarray):
        """Detected rectangles with their 5-point shapes, largest face first."""
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        start = time.perf_counter()
        rects = sorted(self.detector(rgb, self.upsample), key=lambda r: -r.area())
        mid = time.perf_counter()
        shapes = [self.predictor(rgb, r) for r in rects]
        self.timings["detect"].append((mid - start) * 1000)
        self.timings["align"].append((time.perf_counter() - mid) * 1000)
        return rgb, list(zip(rects, shapes, strict=True))

    def central_face(self, bgr: np.ndarray) -> ReferenceFace | None:
        """The face nearest the image centre (same rule as ``FaceEngine.central_face``), or None."""
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        rects = self.detector(rgb, self.upsample)
        if not rects:
            return None
        height, width = bgr.shape[:2]
        rect = min(rects, key=lambda r: np.hypot(r.left() + r.right() - width, r.top() + r.bottom() - height))
        shape = self.predictor(rgb, rect)
        vector = np.asarray(self.encoder.compute_face_descriptor(rgb, shape, 1), dtype=np.float32)
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        box = (rect.left(), rect.top(), rect.right(), rect.bottom())
        return ReferenceFace(box, points, vector / np.linalg.norm(vector))

    def faces(self, bgr: np.ndarray) -> list[ReferenceFace]:
        """Every face in a BGR image, largest first."""
        rgb, found = self.shapes(bgr)
        out = []
        start = time.perf_counter()
        for rect, shape in found:
            vector = np.asarray(self.encoder.compute_face_descriptor(rgb, shape, 1), dtype=np.float32)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            box = (rect.left(), rect.top(), rect.right(), rect.bottom())
            out.append(ReferenceFace(box, points, vector / np.linalg.norm(vector)))
        self.timings["embed"].append((time.perf_counter() - start) * 1000)
        return out

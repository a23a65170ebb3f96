"""``FaceEngine``: detect → align → embed, the one pipeline the door unit and enrollment share.

Construct once (it loads and sha256-checks the models listed in ``models/manifest.json``) and call
from one thread at a time (TFLite interpreters are not thread-safe); a process that needs parallel
work makes one engine per thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from congress.errors import ImageError
from congress.faces.align import AlignMode, keypoints_transform, mesh_transform, warp_chip
from congress.faces.detector import VARIANTS, BlazeFace, Detection, DetectorModel, GroupDetector
from congress.faces.embedder import DEFAULT_EMBEDDER, Embedder, EmbedderModel, embedder_spec
from congress.faces.manifest import Manifest

#: Score threshold of the group detector: its tiles see more background, so it needs more evidence.
GROUP_MIN_SCORE = 0.65
#: Faces narrower than this (pixels) are ignored: too small to recognise reliably.
MIN_FACE_PIXELS = 24


def central_distance(box, shape) -> float:
    """Distance from a box's centre to the image centre, in pixels."""
    height, width = shape[:2]
    return float(np.hypot((box[0] + box[2] - width) / 2, (box[1] + box[3] - height) / 2))


@dataclass
class Face:
    """A detected face and its L2-normalised embedding."""

    detection: Detection
    embedding: np.ndarray = field(repr=False)

    @property
    def box(self) -> np.ndarray:
        return self.detection.box

    @property
    def score(self) -> float:
        return self.detection.score


class FaceEngine:
    """Loads the detector and embedder from a models folder and runs the pipeline on BGR frames.

    ``model`` names the embedder (``congress.faces.embedder.EMBEDDERS``: ``sface``, the default, or
    ``dlib-resnet``); ``embedder`` its precision (``int8`` or ``float``; default: the embedder's own
    ``precision``, what door units run).
    """

    def __init__(
        self,
        models_dir: Path | str | None = None,
        *,
        detector: DetectorModel | str = DetectorModel.SHORT,
        embedder: EmbedderModel | str | None = None,
        align: AlignMode | str = AlignMode.MESH,
        threads: int | None = None,
        min_score: float | None = None,
        min_face: int = MIN_FACE_PIXELS,
        flip: bool = False,
        model: str = DEFAULT_EMBEDDER,
    ) -> None:
        self.manifest = Manifest(models_dir)
        self.detector_model = DetectorModel(detector)
        self.spec = embedder_spec(model)
        self.embedder_model = self.spec.precision if embedder is None else EmbedderModel(embedder)
        self.align_mode = AlignMode(align)
        self.threads = threads
        self.min_face = min_face
        self.flip = flip
        self.detector = self._make_detector(min_score)
        self.embedder = Embedder(self.manifest.read(self.spec.files[self.embedder_model]),
                                 self.embedder_model, threads=threads, spec=self.spec)
        self._landmarker = None

    def _make_detector(self, min_score: float | None):
        def load(model: DetectorModel) -> BlazeFace:
            content = self.manifest.read(VARIANTS[model].file)
            return BlazeFace(content, model, threads=self.threads, min_score=min_score)

        if self.detector_model is DetectorModel.GROUP:
            min_score = GROUP_MIN_SCORE if min_score is None else min_score
            return GroupDetector(load(DetectorModel.SHORT), load(DetectorModel.FULL))
        return load(self.detector_model)

    @staticmethod
    def _check(img: np.ndarray) -> None:
        if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ImageError("expected a BGR uint8 image (height × width × 3)", hint="use decode_image")
        if img.shape[0] == 0 or img.shape[1] == 0:
            raise ImageError("the image is empty (zero width or height)")

    def detect(self, img: np.ndarray) -> list[Detection]:
        """Faces in a BGR frame, most confident first (tiny faces dropped)."""
        self._check(img)
        return [d for d in self.detector(img) if d.width >= self.min_face]

    @property
    def model(self) -> str:
        """Name of the embedder: recorded with every embedding so galleries never mix embedders."""
        return self.spec.name

    def align(self, img: np.ndarray, det: Detection) -> np.ndarray:
        """The RGB chip of ``det`` on the embedder's template, whatever its position, scale or roll."""
        template, size = self.spec.template, self.spec.chip_size
        if self.align_mode is AlignMode.MESH:
            return warp_chip(img, mesh_transform(self.landmarks(img, det).points, template), size)
        return warp_chip(img, keypoints_transform(det.keypoints, template), size)

    def embed(self, chip: np.ndarray, *, flip: bool | None = None) -> np.ndarray:
        """L2-normalised embedding of a chip from ``align``.

        With ``flip`` (default: the engine's setting) the chip and its mirror image are embedded and
        averaged: twice the embedder time, better separation at low false-accept rates. Enrollment
        can afford it even where the door unit cannot (see docs/benchmarks.md).
        """
        vector = self.embedder(chip)
        if self.flip if flip is None else flip:
            vector = vector + self.embedder(np.ascontiguousarray(chip[:, ::-1]))
            vector /= max(float(np.linalg.norm(vector)), 1e-12)
        return vector

    def faces(self, img: np.ndarray, *, limit: int | None = None, flip: bool | None = None) -> list[Face]:
        """Detect, align and embed every face (or the ``limit`` largest) in a BGR frame.

        Enrollment should pass ``flip=True`` (see ``embed``): the gallery then matches door-unit
        probes better at no cost to the door unit.
        """
        detections = self.detect(img)
        if limit is not None:
            detections = sorted(detections, key=lambda d: -d.width)[:limit]
        return [Face(d, self.embed(self.align(img, d), flip=flip)) for d in detections]

    def central_face(self, img: np.ndarray, *, flip: bool | None = None) -> Face | None:
        """The face nearest the image centre (a cropped portrait, an enrollment photo), or None."""
        detections = self.detect(img)
        if not detections:
            return None
        det = min(detections, key=lambda d: central_distance(d.box, img.shape))
        return Face(det, self.embed(self.align(img, det), flip=flip))

    def landmarks(self, img: np.ndarray, det: Detection):
        """468-point face mesh (``congress.faces.landmarks.FaceMesh``) for blink liveness.

        Computed once per detection: mesh alignment already ran it, so liveness gets it for free.
        """
        from congress.faces.landmarks import FaceLandmarker

        if det.mesh is not None:
            return det.mesh
        self._check(img)
        if self._landmarker is None:
            content = self.manifest.read("face_landmark.tflite")
            self._landmarker = FaceLandmarker(content, threads=self.threads)
        det.mesh = self._landmarker(img, det)
        return det.mesh

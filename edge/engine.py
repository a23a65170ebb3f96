"""The face analyser of the door loop: :class:`congress.faces.FaceEngine` with per-stage timings.

Enrollment on the controller uses the same engine, so embeddings on both sides come from the same
models and preprocessing. :meth:`EngineAnalyzer.analyze` turns a BGR frame into
:class:`edge.tracking.Face` objects (box, BlazeFace keypoints, embedding) and records how long each
stage took in ``last_timings`` (milliseconds, per calling thread) for the heartbeat and the bench.
TFLite interpreters are not thread-safe, so one analyser shared by several door loops (the demo runs
two doors on one machine) serialises its calls with a lock.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from pathlib import Path

import numpy as np

from congress.errors import ModelError
from edge.tracking import Face

log = logging.getLogger(__name__)

#: Faces a door camera can sensibly handle in one frame; the largest are kept.
MAX_FACES = 3


class EngineAnalyzer:
    """detect -> align -> embed for every (up to ``max_faces``) face of a frame."""

    def __init__(self, engine, *, max_faces: int = MAX_FACES) -> None:
        self.engine = engine
        self.max_faces = max_faces
        self._lock = threading.Lock()
        self._no_mesh = False
        self._local = threading.local()
        self.version = self._version()

    @classmethod
    def load(cls, models_dir: Path | None = None, **kw) -> EngineAnalyzer:
        """Load (and sha256-check) the models; raise ModelError with a hint when they are not right."""
        from congress.faces import FaceEngine

        engine_kw = {k: kw.pop(k, None) for k in ("threads", "model")}
        return cls(FaceEngine(models_dir, **{k: v for k, v in engine_kw.items() if v is not None}), **kw)

    def _version(self) -> str:
        """Model files in use with the start of their sha256, e.g. ``blazeface_short_range:3bc182eb``."""
        entries = self.engine.manifest.entries
        try:
            from congress.faces.detector import VARIANTS
            det = self.engine.detector_model
            files = [v.file for m, v in VARIANTS.items() if det in (m, "group")]
            files.append(self.engine.spec.files[self.engine.embedder_model])
        except (ImportError, AttributeError, KeyError):  # an engine without these details: list all
            files = sorted(entries)
        return ",".join(f"{f.rsplit('.', 1)[0]}:{entries[f].sha256[:8]}" for f in files if f in entries)

    def _ear(self, image: np.ndarray, det) -> float | None:
        """Eye aspect ratio of ``det`` from the face-mesh model; None when the model is not there."""
        if self._no_mesh:
            return None
        try:
            with self._lock:
                return float(self.engine.landmarks(image, det).eye_aspect_ratio())
        except (ModelError, AttributeError) as exc:
            self._no_mesh = True
            log.warning("no face-mesh model (%s): blink detection uses the eye patches only", exc)
            return None

    @property
    def last_timings(self) -> dict[str, float]:
        return getattr(self._local, "timings", {})

    def analyze(self, image: np.ndarray) -> list[Face]:
        with self._lock:
            return self._analyze(image)

    def _analyze(self, image: np.ndarray) -> list[Face]:
        t0 = time.perf_counter()
        dets = self.engine.detect(image)
        dets = sorted(dets, key=lambda d: -d.width)[: self.max_faces]
        t1 = time.perf_counter()
        faces = []
        for d in dets:
            emb = self.engine.embed(self.engine.align(image, d))
            box = tuple(float(v) for v in d.box)
            kp = np.asarray(d.keypoints, dtype=np.float32)
            faces.append(Face(box, float(d.score), kp, emb, ear=functools.partial(self._ear, image, d)))
        t2 = time.perf_counter()
        self._local.timings = {"detect_ms": (t1 - t0) * 1000, "embed_ms": (t2 - t1) * 1000}
        return faces

"""``Gallery``: enrolled embeddings and 1:N search with a calibrated threshold.

Each identity may have several embeddings (photos); an identity's score for a probe is its best
cosine. ``search`` returns the best identity, its score and the margin to the second-best identity.
Serialises to bytes (NumPy ``.npz``, no pickle) so the caller can encrypt it at rest. A gallery
records the embedder that made its embeddings (``model``): searching it with another embedder's
embedding is refused, since the two spaces have nothing in common.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from congress.errors import ConfigError
from congress.faces.embedder import DEFAULT_EMBEDDER, EMBEDDING_SIZE

#: Cosine threshold of each embedder until ``congress faces calibrate`` sets one (measured on the
#: dev set, docs/benchmarks.md). dlib descriptors of *different* people already average ~0.83 cosine,
#: so dlib needs ~0.94 for FPIR 1 %; SFace's impostors centre near 0 and 0.53 is its FPIR 0.1 % for a
#: 2,000-person gallery.
THRESHOLDS = {"dlib-resnet": 0.94, "sface": 0.53}
DEFAULT_THRESHOLD = THRESHOLDS[DEFAULT_EMBEDDER]


@dataclass(frozen=True)
class Match:
    """Result of a 1:N search. ``identity`` is None when the gallery is empty."""

    identity: str | None
    score: float
    margin: float
    accepted: bool


def normalise(vectors: np.ndarray, dim: int = EMBEDDING_SIZE) -> np.ndarray:
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    if vectors.shape[1] != dim:
        raise ValueError(f"embeddings must be {dim}-d, got {vectors.shape[1]}")
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def threshold_for_far(impostor_scores: np.ndarray, far: float) -> float:
    """Lowest threshold whose false-accept rate (share of impostor scores ≥ it) is at most ``far``."""
    scores = np.sort(np.asarray(impostor_scores, dtype=np.float64))[::-1]
    if scores.size == 0:
        raise ValueError("no impostor scores to calibrate on")
    allowed = int(np.floor(far * scores.size))
    return float(np.nextafter(scores[allowed], np.inf))


class Gallery:
    """Embeddings by identity; ``search`` is a matrix product plus a per-identity max."""

    def __init__(self, threshold: float | None = None, *, model: str = DEFAULT_EMBEDDER,
                 dim: int = EMBEDDING_SIZE) -> None:
        self.model = model
        self.dim = dim
        self.threshold = float(THRESHOLDS.get(model, DEFAULT_THRESHOLD) if threshold is None else threshold)
        self._vectors: dict[str, np.ndarray] = {}
        self._matrix: np.ndarray | None = None
        self._starts: np.ndarray | None = None
        self._names: list[str] = []

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, identity: str) -> bool:
        return identity in self._vectors

    @property
    def identities(self) -> list[str]:
        return list(self._vectors)

    def embeddings(self, identity: str) -> np.ndarray:
        return self._vectors[identity].copy()

    def add(self, identity: str, embeddings: np.ndarray) -> None:
        """Add one or more embeddings (photos) of ``identity``."""
        new = normalise(embeddings, self.dim)
        old = self._vectors.get(identity)
        self._vectors[identity] = new if old is None else np.vstack([old, new])
        self._matrix = None

    def remove(self, identity: str) -> None:
        self._vectors.pop(identity, None)
        self._matrix = None

    def _index(self) -> None:
        self._names = list(self._vectors)
        blocks = [self._vectors[n] for n in self._names]
        self._matrix = np.ascontiguousarray(np.vstack(blocks)) if blocks else np.zeros((0, self.dim))
        sizes = np.array([len(b) for b in blocks], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def scores(self, embedding: np.ndarray) -> dict[str, float]:
        """Best cosine of each identity to ``embedding``."""
        best = self._best(embedding)
        return dict(zip(self._names, best.tolist(), strict=True))

    def _best(self, embedding: np.ndarray) -> np.ndarray:
        if self._matrix is None:
            self._index()
        if not self._names:
            return np.zeros(0, dtype=np.float32)
        sims = self._matrix @ normalise(embedding, self.dim)[0]
        return np.maximum.reduceat(sims, self._starts)

    def check_model(self, model: str) -> None:
        """``ConfigError`` unless embeddings of ``model`` may be searched in this gallery."""
        if model != self.model:
            raise ConfigError(
                f"the gallery holds {self.model} embeddings but the face engine makes {model} embeddings",
                hint=f"use the {self.model} embedder, or enroll again with {model} (photos are kept)",
            )

    def search(self, embedding: np.ndarray, threshold: float | None = None) -> Match:
        """Best identity for ``embedding``, its score, the margin to the runner-up, and acceptance."""
        best = self._best(embedding)
        limit = self.threshold if threshold is None else threshold
        if best.size == 0:
            return Match(None, -1.0, 0.0, False)
        top = int(np.argmax(best))
        score = float(best[top])
        second = float(np.max(np.delete(best, top))) if best.size > 1 else -1.0
        return Match(self._names[top], score, score - second, score >= limit)

    def to_bytes(self) -> bytes:
        """The gallery as ``.npz`` bytes (identities, per-embedding labels, vectors, threshold)."""
        names = list(self._vectors)
        labels = np.concatenate([np.full(len(self._vectors[n]), i, dtype=np.int32)
                                 for i, n in enumerate(names)]) if names else np.zeros(0, np.int32)
        matrix = np.vstack([self._vectors[n] for n in names]) if names else np.zeros((0, self.dim))
        out = io.BytesIO()
        np.savez(out, identities=np.array(names, dtype=np.str_), labels=labels,
                 embeddings=matrix.astype(np.float32), threshold=np.float64(self.threshold),
                 model=np.str_(self.model))
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Gallery:
        """A gallery from ``to_bytes`` output; rejects anything else with a ``ConfigError``."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                names = [str(n) for n in arrays["identities"]]
                labels, matrix = arrays["labels"], arrays["embeddings"]
                # Galleries written before embedders were recorded hold dlib descriptors.
                model = str(arrays["model"]) if "model" in arrays.files else "dlib-resnet"
                gallery = cls(float(arrays["threshold"]), model=model, dim=int(matrix.shape[1]))
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise ConfigError(f"gallery data is not valid: {exc}", hint="re-publish the gallery") from exc
        if matrix.ndim != 2 or len(labels) != len(matrix):
            raise ConfigError("gallery data has the wrong shape", hint="re-publish the gallery")
        for index, name in enumerate(names):
            gallery.add(name, matrix[labels == index])
        return gallery

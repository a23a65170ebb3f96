"""The unit's gallery: the sealed parts from the controller on disk, the opened matrix in memory.

``<data_dir>/gallery.sealed`` holds the parts of one gallery version exactly as the controller sealed
them for this unit (:mod:`congress.gallery_crypto`: X25519 to the unit's gallery key, AES-256-GCM per
part), so face templates are encrypted at rest with a key only this unit holds.
:meth:`GalleryStore.install` opens every part with the unit's private key before anything replaces the
file (write to a temporary file, fsync, rename, fsync the folder) and then swaps the in-memory index
under a lock, so the recogniser sees either the old or the new gallery, never a mix. A gallery that
does not open is refused with the reason and the last good one stays. Offline, the unit keeps using
the last gallery it installed. A gallery made by another embedder than the unit's face engine
(``model``, from ``[recognition] model``) is refused with both names: its vectors cannot be compared
with this unit's.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from congress import gallery_crypto, gallery_keys
from congress.errors import ProtocolError
from congress.files import write_private

log = logging.getLogger(__name__)

FILE = "gallery.sealed"


@dataclass(frozen=True)
class Match:
    """Best gallery identity for a probe: cosine ``score`` and ``margin`` over the runner-up identity."""

    identity: str | None
    score: float
    margin: float


class GalleryIndex:
    """Cosine search over L2-normalised embeddings; one score per identity (its best template)."""

    def __init__(self, version: int, ids: tuple[str, ...], embeddings: np.ndarray,
                 model: str = gallery_crypto.LEGACY_MODEL) -> None:
        self.version = version
        self.model = model
        order = np.argsort(np.asarray(ids, dtype=object), kind="stable") if ids else np.zeros(0, int)
        self.ids = tuple(ids[i] for i in order)
        emb = np.asarray(embeddings, dtype=np.float32)
        emb = emb[order] if len(ids) else np.zeros((0, emb.shape[-1] if emb.ndim == 2 else 128), np.float32)
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        self.emb = emb / np.maximum(norms, 1e-12)
        self.names = sorted(set(self.ids))
        self._starts = np.searchsorted(np.asarray(self.ids, dtype=object), self.names) if self.ids else []
        self._rows = {n: np.flatnonzero(np.asarray(self.ids, dtype=object) == n) for n in self.names}

    def __len__(self) -> int:
        return len(self.names)

    def search(self, probe: np.ndarray) -> Match:
        if not self.names:
            return Match(None, -1.0, 0.0)
        scores = self.emb @ np.asarray(probe, dtype=np.float32)
        best = np.maximum.reduceat(scores, np.asarray(self._starts))
        if len(best) == 1:
            return Match(self.names[0], float(best[0]), float(best[0]) + 1.0)
        top2 = np.argpartition(-best, 1)[:2]
        a, b = (top2[0], top2[1]) if best[top2[0]] >= best[top2[1]] else (top2[1], top2[0])
        return Match(self.names[a], float(best[a]), float(best[a] - best[b]))

    def verify(self, probe: np.ndarray, identity: str) -> float | None:
        """Best score of ``probe`` against ``identity``'s templates only (1:1); None if not enrolled."""
        rows = self._rows.get(identity)
        if rows is None:
            return None
        return float(np.max(self.emb[rows] @ np.asarray(probe, dtype=np.float32)))


class GalleryStore:
    """The current :class:`GalleryIndex`, persisted sealed in ``data_dir``; ``key`` is the unit's
    32-byte X25519 gallery private key."""

    def __init__(self, data_dir: Path, key: bytes, venue_id: str, unit_id: str,
                 model: str | None = None) -> None:
        self.path = Path(data_dir) / FILE
        self._key, self._venue, self._unit = key, venue_id, unit_id
        #: The unit's embedder; None accepts any (tools that only inspect a gallery).
        self.model = model
        self._lock = threading.Lock()
        empty = np.zeros((0, 128), np.float32)
        self._index = GalleryIndex(0, (), empty, model or gallery_crypto.LEGACY_MODEL)
        #: Why the stored gallery could not be used ("" when it loaded or there is none).
        self.load_error = ""
        if self.path.exists():
            try:
                self._index = self._open(self.path.read_bytes())
                log.info("gallery version %d loaded (%d delegates)", self.version, len(self._index))
            except ProtocolError as exc:
                self.load_error = str(exc)
                log.error("stored gallery %s cannot be used: %s; waiting for a new one", self.path, exc)

    def _open(self, data: bytes) -> GalleryIndex:
        return self._index_of(gallery_crypto.unpack(data))

    def _index_of(self, parts: list[bytes]) -> GalleryIndex:
        g = gallery_crypto.open_gallery(self._key, self._venue, self._unit, parts)
        if self.model is not None and g.model != self.model:
            raise ProtocolError(
                "gallery_model",
                f"gallery version {g.version} holds {g.model} face embeddings but this unit's face "
                f"engine runs {self.model}; the two cannot be compared",
                hint=f"set [recognition] model = \"{g.model}\" on the unit, or make the controller "
                     f"enroll with {self.model} (congress delegates reenroll) and publish again",
            )
        return GalleryIndex(g.version, g.ids, g.embeddings, g.model)

    @property
    def index(self) -> GalleryIndex:
        with self._lock:
            return self._index

    @property
    def version(self) -> int:
        return self.index.version

    def install_plain(self, version: int, ids: list[str], embeddings: np.ndarray,
                      model: str | None = None) -> bool:
        """Seal a gallery to this unit's own public key and install it (benchmarks, tests, offline
        set-up); the controller's galleries arrive sealed and go through :meth:`install`. ``model``
        is the embedder of the rows: default the unit's, else the face engine's default."""
        from congress.faces.embedder import DEFAULT_EMBEDDER

        plain = gallery_crypto.encode(ids, embeddings, model or self.model or DEFAULT_EMBEDDER)
        pub = gallery_keys.public_of(self._key)
        return self.install(gallery_crypto.seal_parts(pub, self._venue, self._unit, version, [plain]))

    def install(self, parts: list[bytes]) -> bool:
        """Open, persist and swap in the sealed parts of one gallery version (in part order); False
        when it is not newer than the current one; ``ProtocolError`` when a part does not open."""
        index = self._index_of(parts)
        if index.version <= self.version and self.path.exists():
            return False
        blob = gallery_crypto.pack(parts)
        write_private(self.path, blob)
        with self._lock:
            self._index = index
        log.info("gallery version %d installed (%d delegates)", index.version, len(index))
        return True

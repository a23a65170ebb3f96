"""Applies the controller's GalleryUpdate messages to the unit's :class:`~edge.gallery.GalleryStore`.

A full gallery may arrive in several parts (``part`` of ``parts``, same ``version``); it is installed
only when every part is there, so a half-received gallery never replaces a working one. A delta
(``full = false``) removes and replaces delegates in the current gallery and installs the result under
its version. Called in the publisher thread after the controller's signature was verified.
"""

from __future__ import annotations

import logging

import numpy as np

from congress import wire
from edge.gallery import GalleryStore

log = logging.getLogger(__name__)


def _rows(msg: wire.GalleryUpdate, entry: wire.GalleryEntry) -> np.ndarray:
    dt = np.dtype("<f4") if msg.dtype == "f4" else np.dtype("i1")
    arr = np.frombuffer(entry.embeddings, dtype=dt).reshape(-1, msg.dim).astype(np.float32)
    return arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)


class GallerySync:
    """Collects the parts of a gallery update and installs it atomically."""

    def __init__(self, store: GalleryStore) -> None:
        self.store = store
        self._parts: dict[int, wire.GalleryUpdate] = {}
        self._version = -1

    def __call__(self, msg: wire.GalleryUpdate) -> bool:
        """Handle one message; True when a new gallery was installed."""
        if msg.version <= self.store.version and self.store.path.exists():
            return False
        if msg.version != self._version:
            self._parts, self._version = {}, msg.version
        self._parts[msg.part] = msg
        if len(self._parts) < msg.parts:
            return False
        parts = [self._parts[i] for i in range(msg.parts)]
        self._parts, self._version = {}, -1
        ids: list[str] = []
        rows: list[np.ndarray] = []
        if not msg.full:
            cur = self.store.index
            drop = set(msg.removed) | {e.delegate_id for p in parts for e in p.entries}
            keep = [i for i, d in enumerate(cur.ids) if d not in drop]
            ids += [cur.ids[i] for i in keep]
            rows.append(cur.emb[keep])
        for p in parts:
            for e in p.entries:
                r = _rows(p, e)
                ids += [e.delegate_id] * len(r)
                rows.append(r)
        emb = np.concatenate(rows) if rows else np.zeros((0, msg.dim), np.float32)
        done = self.store.install_plain(msg.version, ids, emb)
        log.info("gallery version %d received (%d templates)", msg.version, len(ids))
        return done

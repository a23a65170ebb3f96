"""Assembles the controller's sealed gallery parts and installs a version once all of it is there.

The controller publishes, per gallery version, the sealed parts on ``.../gallery/<part>`` and then a
signed manifest (:class:`congress.wire.GalleryUpdate`: version, part count, SHA-256 of each sealed
part) on ``.../gallery``, all retained; after a reconnection they arrive in any order. The publisher
thread verifies each message's controller signature and calls this object with it. The newest part
per position is kept; when the manifest's version is newer than the installed one and every part of
it is present with the digest the manifest names, the parts are opened with the unit's key and
installed together (:meth:`edge.gallery.GalleryStore.install`). A part whose digest does not match is
refused and dropped; a version that does not decrypt is refused as a whole: both logged with the
reason, and the last good gallery stays in use.
"""

from __future__ import annotations

import logging

from congress import gallery_crypto, wire
from congress.errors import ProtocolError
from edge.gallery import GalleryStore

log = logging.getLogger(__name__)


class GallerySync:
    """Collects sealed parts and manifests; ``__call__`` returns True when a new gallery was installed."""

    def __init__(self, store: GalleryStore) -> None:
        self.store = store
        self._parts: dict[int, wire.GalleryPart] = {}
        self._manifest: wire.GalleryUpdate | None = None
        self.refused = 0

    def _newer(self, version: int) -> bool:
        return version > self.store.version or not self.store.path.exists()

    def __call__(self, msg: wire.GalleryUpdate | wire.GalleryPart) -> bool:
        if isinstance(msg, wire.GalleryPart):
            if not self._newer(msg.version):
                return False
            self._parts[msg.part] = msg
        elif isinstance(msg, wire.GalleryUpdate):
            if not self._newer(msg.version):
                log.debug("gallery version %d is not newer than %d", msg.version, self.store.version)
                return False
            self._manifest = msg
        return self._try_install()

    def _try_install(self) -> bool:
        m = self._manifest
        if m is None:
            return False
        blobs = []
        for n in range(m.parts):
            p = self._parts.get(n)
            if p is None or p.version != m.version:
                return False  # still waiting for this part of this version
            if p.parts != m.parts or gallery_crypto.digest(p.sealed) != m.digests[n]:
                self.refused += 1
                del self._parts[n]
                log.error("gallery version %d: part %d does not match the signed manifest (digest or "
                          "part count differs); refused, waiting for the right one", m.version, n)
                return False
            blobs.append(p.sealed)
        self._manifest = None
        self._parts = {k: v for k, v in self._parts.items() if v.version > m.version}
        try:
            done = self.store.install(blobs)
        except ProtocolError as exc:
            self.refused += 1
            log.error("gallery version %d refused: %s (%s); keeping version %d", m.version, exc,
                      exc.reason, self.store.version)
            return False
        if done:
            log.info("gallery version %d received (%d parts, %d delegates)", m.version, m.parts,
                     len(self.store.index))
        return done

"""The on-disk store of document versions and their per-delegate watermarked copies.

Layout under ``<data_dir>/documents/`` (folders 0700, files 0600, every write atomic)::

    versions/<version_key>/base.pdf     the shared base of the copies (:func:`watermark.prepare_base`)
    versions/<version_key>/base.json    what a tail needs to know about it
    versions/<version_key>/original.pdf the file as uploaded and checked, kept for the record
    copies/<version_key>/<holder>.tail  one holder's incremental update, made once

``holder`` is a hash of the holder's id, so file names reveal nobody. A copy is made under a per-copy
lock: two requests of the same delegate at once make it once. :meth:`CopyStore.copy` hands back what
the web layer streams (the base's path and the tail's bytes); nothing here knows who is asking,
the access check is the caller's and happens before.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from congress.files import write_private
from controller.documents import watermark

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Copy:
    """One holder's copy of one version: stream ``base`` then ``tail``."""

    base: Path
    base_length: int
    tail: bytes
    made_ms: float | None  # how long making the tail took, when this call made it

    @property
    def length(self) -> int:
        return self.base_length + len(self.tail)


def _write_tail(path: Path, data: bytes) -> None:
    """Atomic (temporary name, rename) and 0600, but not fsynced: a tail lost in a power cut is
    simply made again at the next open (same dot code; the band shows the new time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class CopyStore:
    """Versions and copies under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._bases: dict[str, watermark.Base] = {}

    def _version_dir(self, version_key: str) -> Path:
        if not _KEY.match(version_key):
            raise ValueError(f"bad version key {version_key!r}")
        return self.root / "versions" / version_key

    def add_version(self, version_key: str, original: bytes) -> watermark.Base:
        """Store an accepted upload and prepare its base (once per version)."""
        folder = self._version_dir(version_key)
        data, base = watermark.prepare_base(original)
        write_private(folder / "original.pdf", original)
        write_private(folder / "base.pdf", data)
        write_private(folder / "base.json", json.dumps(base.meta()))
        folder.chmod(0o700)
        return base

    def original(self, version_key: str) -> bytes:
        return (self._version_dir(version_key) / "original.pdf").read_bytes()

    def base(self, version_key: str) -> watermark.Base:
        cached = self._bases.get(version_key)
        if cached is None:
            meta = json.loads((self._version_dir(version_key) / "base.json").read_text())
            cached = self._bases[version_key] = watermark.Base.from_meta(meta)
        return cached

    def base_path(self, version_key: str) -> Path:
        return self._version_dir(version_key) / "base.pdf"

    @staticmethod
    def holder_file(holder_id: str) -> str:
        return hashlib.sha256(holder_id.encode()).hexdigest()[:40] + ".tail"

    def _tail_path(self, version_key: str, holder_id: str) -> Path:
        self._version_dir(version_key)  # validates the key
        return self.root / "copies" / version_key / self.holder_file(holder_id)

    def has_copy(self, version_key: str, holder_id: str) -> bool:
        return self._tail_path(version_key, holder_id).exists()

    def copy(
        self, version_key: str, holder_id: str, holder: Callable[[], tuple[watermark.Holder, str]]
    ) -> Copy:
        """``holder_id``'s copy of the version, made now (``holder()`` gives its band) if it is new."""
        path = self._tail_path(version_key, holder_id)
        base = self.base(version_key)
        made = None
        if not path.exists():
            with self._guard:
                lock = self._locks.setdefault((version_key, holder_id), threading.Lock())
            with lock:
                if not path.exists():
                    start = time.perf_counter()
                    who, when = holder()
                    tail = watermark.make_tail(base, who, when)
                    _write_tail(path, tail)
                    made = (time.perf_counter() - start) * 1000
                    path.parent.chmod(0o700)
            with self._guard:
                self._locks.pop((version_key, holder_id), None)
        return Copy(self.base_path(version_key), base.length, path.read_bytes(), made)

    def remove_version(self, version_key: str) -> None:
        """Delete a version's files and copies (a withdrawn or confidential entry keeps no file)."""
        import shutil

        shutil.rmtree(self._version_dir(version_key), ignore_errors=True)
        shutil.rmtree(self.root / "copies" / version_key, ignore_errors=True)

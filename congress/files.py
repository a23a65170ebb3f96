"""Writing files that hold secrets or must survive a power cut.

:func:`write_private` is the one way the project writes a key or a sealed file: mode 0600 from the first
byte (never briefly readable by others), a temporary name of its own (two writers never share one),
fsynced, then renamed over the target and the folder fsynced, so after a crash the file is either the
old one or the new one, whole.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_private(path: str | os.PathLike, data: bytes | str) -> None:
    """Replace ``path`` atomically and durably with ``data`` (text is written as UTF-8), mode 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def shred(path: str | os.PathLike) -> bool:
    """Overwrite ``path`` with zeros in place, fsync, unlink it and fsync its folder; False if it was
    not there. Used for keys and face data that must not be recoverable from the folder afterwards
    (copy-on-write file systems and flash wear levelling may keep old blocks: see docs/security.md)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    try:
        size = os.fstat(fd).st_size
        block = b"\0" * 65536
        done = 0
        while done < size:
            done += os.write(fd, block[: min(len(block), size - done)])
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return True

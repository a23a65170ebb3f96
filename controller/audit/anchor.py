"""The audit chain's head, anchored outside the database: ``data_dir/audit.anchor``.

Somebody with write access to the database but not the key can still delete the newest rows and
rewind the head row, or delete the whole chain. Two things catch that:

* the head row is sealed (``head_mac`` = HMAC(key, seq and hash), see :mod:`controller.audit.chain`),
  so a rewound head no longer checks out;
* after every commit that appended rows, the new head (sequence number, row hash and its HMAC) is
  written to the anchor file in the data directory, never backwards. ``congress audit verify`` then
  requires the chain to hold the anchored row with the anchored hash: a chain cut below it, an
  empty database where the anchor names rows, or another chain put in its place is reported.

The head's :func:`fingerprint` (sequence number and the first 16 hex digits of that row's hash, a
keyed HMAC) is short enough to print on the minutes and the projector at each ballot close and to read
back later with ``congress audit verify --expect SEQ:FINGERPRINT``.

Writers in several processes (page, ingest, commands) update the file under an advisory lock on
``audit.anchor.lock``; the file is replaced atomically and synced. A crash between a commit and the
anchor write leaves the anchor one commit behind, which is harmless (it never runs ahead of the
database, except that a power cut can lose the database's last commits: then verify says so).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ANCHOR_FILE = "audit.anchor"
#: Key of the anchor file's path in ``Session.info`` (set by :func:`controller.audit.session_info`).
ANCHOR_INFO = "audit_anchor"


def seal(key: bytes, seq: int, row_hash: str) -> str:
    """HMAC of a chain position: the head row and the anchor carry it."""
    return hmac.new(key, f"audit-head|{seq}|{row_hash}".encode(), hashlib.sha256).hexdigest()


def fingerprint(seq: int, row_hash: str) -> str:
    """``SEQ:XXXX-XXXX-XXXX-XXXX``: the row's number and the first 16 hex digits of its keyed hash."""
    digits = row_hash[:16].upper()
    return f"{seq}:" + "-".join(digits[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class Anchor:
    """A chain position as the anchor file holds it."""

    seq: int
    row_hash: str
    mac: str

    def valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, seal(key, self.seq, self.row_hash))


class AnchorError(Exception):
    """The anchor file exists but cannot be read as an anchor."""


def read(path: Path) -> Anchor | None:
    """The anchor in ``path``, ``None`` when there is no file yet."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return Anchor(int(data["seq"]), str(data["hash"]), str(data["mac"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnchorError(f"{path} is not an audit anchor: {exc}") from None


def advance(path: Path, key: bytes, seq: int, row_hash: str) -> bool:
    """Write the head ``(seq, row_hash)`` to the anchor file unless it already names a later row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = read(path)
        except AnchorError:
            current = None  # a damaged file is replaced; verify reported it (or will see the new one)
        if current is not None and current.seq >= seq:
            return False
        tmp = path.with_name(path.name + ".tmp")
        body = json.dumps({"seq": seq, "hash": row_hash, "mac": seal(key, seq, row_hash),
                           "fingerprint": fingerprint(seq, row_hash)})
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(body + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return True

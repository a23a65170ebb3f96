"""The running tally of a secret ballot, sealed under a key that exists only while the ballot is open.

While a secret ballot is open its counters are never written in the clear. The ballot has one row in
``secret_tallies`` holding the whole counter vector (every option, then valid, invalid and blank, each a
u32) sealed with AES-256-GCM under a random *ballot key*; each batch of keypad votes opens it, adds, and
writes it back with a fresh nonce, in the reader's transaction. The vector has one length for the whole
ballot, so the row's size never changes either. When the ballot closes, the final counts go to
``ballot_counts``, the sealed row is deleted and the key is destroyed.

So whatever holds the write history — the SQLite write-ahead log (kept whole while any reader spans the
close), PostgreSQL's ``pg_wal`` and dead tuples, a file-system snapshot, a backup taken mid-ballot — it
shows "delegate D has voted" next to an opaque blob of constant size, and after the close nobody, the
controller included, holds the key that opens it.

The key (:class:`BallotKeys`) is kept in memory and, so that votes survive a kill -9 or a power cut of
the controller, in ``<folder>/<ballot>.key`` (mode 0600, written durably before the ballot opens). The
folder is outside the database on purpose: unlike a database row, a file can be overwritten and
unlinked at a moment we choose (:func:`congress.files.shred`). Keys of ballots that are no longer open
are shredded by :meth:`BallotKeys.sweep` (a close interrupted between its commit and the shredding).
See ``docs/security.md`` (item 9) and ``docs/keypad-protocol.md`` ("Secret ballots").
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import struct
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from congress.errors import CongressError
from congress.files import shred, write_private
from controller.voting.tables import Ballot, BallotStatus, SecretTally
from controller.voting.tally import Special

log = logging.getLogger(__name__)

_VERSION = b"\x01"
_NONCE = 12
_KEY_NAME = re.compile(r"^(\d+)\.key$")
#: Counter rows after the options, in vector order.
SPECIALS = (Special.VALID, Special.INVALID, Special.BLANK)


class BallotKeyError(CongressError):
    """The key of an open secret ballot is missing or does not open its tally."""


class BallotKeys:
    """One random AES-256 key per open secret ballot: in memory, and in ``folder`` for crash recovery.

    ``folder=None`` keeps keys in memory only (an in-memory database, or tests): a restart during the
    ballot then loses its votes, which is logged when such a key is made."""

    def __init__(self, folder: str | os.PathLike | None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._keys: dict[int, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, db) -> BallotKeys:
        """Keys next to a SQLite database file (``<file>.ballot-keys/``); memory only otherwise."""
        if db.backend == "sqlite":
            name = make_url(db.url).database
            if name and name != ":memory:":
                return cls(Path(name).with_name(Path(name).name + ".ballot-keys"))
        return cls(None)

    def _path(self, ballot_id: int) -> Path:
        assert self.folder is not None
        return self.folder / f"{int(ballot_id)}.key"

    def create(self, ballot_id: int) -> bytes:
        """A fresh key for ``ballot_id``, on disk (fsynced) before this returns."""
        key = secrets.token_bytes(32)
        if self.folder is None:
            log.warning("ballot %d: its tally key is kept in memory only; a restart before the close "
                        "loses its votes (configure a data folder)", ballot_id)
        else:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
            write_private(self._path(ballot_id), key)
        with self._lock:
            self._keys[ballot_id] = key
        return key

    def get(self, ballot_id: int) -> bytes:
        with self._lock:
            key = self._keys.get(ballot_id)
        if key is not None:
            return key
        if self.folder is not None:
            try:
                key = self._path(ballot_id).read_bytes()
            except FileNotFoundError:
                key = None
        if key is None or len(key) != 32:
            raise BallotKeyError(
                f"the tally key of secret ballot {ballot_id} is missing",
                hint="the votes of this ballot cannot be counted; restore the ballot-keys folder from the "
                     "controller it was opened on, or start the ballot again",
            )
        with self._lock:
            self._keys[ballot_id] = key
        return key

    def destroy(self, ballot_id: int) -> bool:
        """Forget the key and shred its file; True if there was a file."""
        with self._lock:
            self._keys.pop(ballot_id, None)
        return self.folder is not None and shred(self._path(ballot_id))

    def on_disk(self) -> list[int]:
        if self.folder is None or not self.folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := _KEY_NAME.match(p.name)))

    def sweep(self, s: Session) -> list[int]:
        """Shred the keys of ballots that are closed or gone (a close cut short after its commit)."""
        held = self.on_disk()
        if not held:
            return []
        rows = dict(s.execute(select(Ballot.id, Ballot.status).where(Ballot.id.in_(held))).all())
        stale = [b for b in held if b not in rows or rows[b] == BallotStatus.CLOSED]
        for bid in stale:
            self.destroy(bid)
        return stale


def vector_rows(b: Ballot) -> list[int]:
    """The counter rows of ``b`` in the sealed vector's order."""
    return [*range(1, len(b.options) + 1), *SPECIALS]


def _aad(ballot_id: int) -> bytes:
    return b"congress-secret-tally:" + str(int(ballot_id)).encode()


def seal(key: bytes, b: Ballot, counts: dict[int, int]) -> bytes:
    rows = vector_rows(b)
    plain = struct.pack(f">{len(rows)}I", *(counts.get(r, 0) for r in rows))
    nonce = secrets.token_bytes(_NONCE)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plain, _aad(b.id))


def unseal(key: bytes, b: Ballot, blob: bytes) -> dict[int, int]:
    rows = vector_rows(b)
    try:
        if blob[:1] != _VERSION:
            raise InvalidTag
        plain = AESGCM(key).decrypt(blob[1:1 + _NONCE], blob[1 + _NONCE:], _aad(b.id))
    except InvalidTag:
        raise BallotKeyError(f"the sealed tally of secret ballot {b.id} does not open with its key",
                             hint="the ballot-keys folder belongs to another database") from None
    return dict(zip(rows, struct.unpack(f">{len(rows)}I", plain), strict=True))


class SecretTallies:
    """Reads and writes sealed tallies with the keys of :class:`BallotKeys` (inside a caller's session)."""

    def __init__(self, keys: BallotKeys) -> None:
        self.keys = keys

    def start(self, s: Session, b: Ballot) -> None:
        """At opening: a new key (on disk first) and an all-zero sealed vector."""
        key = self.keys.create(b.id)
        s.merge(SecretTally(ballot_id=b.id, sealed=seal(key, b, {})))

    def sealed(self, s: Session, b: Ballot) -> SecretTally | None:
        q = select(SecretTally).where(SecretTally.ballot_id == b.id)
        return s.scalar(q.with_for_update())

    def add(self, s: Session, b: Ballot, row: SecretTally, delta: dict[int, int]) -> None:
        key = self.keys.get(b.id)
        counts = unseal(key, b, row.sealed)
        for k, n in delta.items():
            counts[k] = counts.get(k, 0) + n
        row.sealed = seal(key, b, counts)

    def finish(self, s: Session, b: Ballot) -> dict[int, int] | None:
        """At closing: the final counts, and the sealed row deleted (None when the ballot has none)."""
        row = self.sealed(s, b)
        if row is None:
            return None
        counts = unseal(self.keys.get(b.id), b, row.sealed)
        s.execute(delete(SecretTally).where(SecretTally.ballot_id == b.id))
        return counts

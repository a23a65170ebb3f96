"""The door unit's outbox: signed events on disk until the controller acknowledges them.

SQLite in WAL mode with ``synchronous=FULL``: a committed event survives kill -9 and power loss. An
event is keyed by (boot_id, seq) — the unit id is the same for every row — and is deleted only when
the controller's Ack for exactly that key arrives. The per-boot counter lives in the same database and
is advanced in the same transaction that stores the event, so a number is never used twice, even when
the unit is killed between signing and storing (the signed bytes are then never stored nor published).

Every start of the unit takes a new random boot id (:func:`congress.wire.new_boot_id`), recorded in
the database with its counter starting at 1; events of earlier boots stay stored under their own boot
id until acknowledged. The same boot id names the unit's current run in its status messages, so a
command the controller addressed to an earlier run (``unit_boot``) is ignored. When the outbox holds
``capacity`` events, :meth:`Outbox.add` raises :class:`OutboxFull`: the caller refuses the check-in
visibly; nothing is ever dropped.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from congress.errors import CongressError
from congress.wire import new_boot_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    boot_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (boot_id, seq)
);
"""


class OutboxFull(CongressError):
    """The outbox holds its capacity of unacknowledged events; new check-ins are refused."""


@dataclass(frozen=True)
class Event:
    """One stored event: its key, the wire kind (topic leaf) and the signed bytes to publish."""

    boot_id: str
    seq: int
    kind: str
    payload: bytes


class Outbox:
    """Thread-safe; the recognition thread adds, the publisher thread reads and deletes."""

    def __init__(self, path: Path, capacity: int, *, boot_id: str | None = None) -> None:
        self.path = Path(path)
        self.capacity = capacity
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self.boot_id = self._start_boot(boot_id or new_boot_id())
        self.path.chmod(0o600)

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _start_boot(self, boot_id: str) -> str:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._meta("boot_id") != boot_id:
                    self._set("boot_id", boot_id)
                    self._set("next_seq", "1")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return boot_id

    def add(self, kind: str, build: Callable[[str, int], bytes]) -> Event:
        """Store a new event; ``build(boot_id, seq)`` returns its signed bytes. Raise OutboxFull."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (depth,) = self._db.execute("SELECT count(*) FROM events").fetchone()
                if depth >= self.capacity:
                    raise OutboxFull(
                        f"outbox full ({depth} events not acknowledged); check-ins are refused",
                        hint="check the network and that the controller is running",
                    )
                seq = int(self._meta("next_seq") or "1")
                payload = build(self.boot_id, seq)
                self._db.execute(
                    "INSERT INTO events (boot_id, seq, kind, payload, created) VALUES (?, ?, ?, ?, ?)",
                    (self.boot_id, seq, kind, payload, time.time()),
                )
                self._set("next_seq", str(seq + 1))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return Event(self.boot_id, seq, kind, payload)

    def pending(self, limit: int = 1000) -> list[Event]:
        """Unacknowledged events, oldest first (earlier boots before later ones)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT boot_id, seq, kind, payload FROM events ORDER BY rowid LIMIT ?", (limit,)
            ).fetchall()
        return [Event(b, s, k, bytes(p)) for b, s, k, p in rows]

    def ack(self, boot_id: str, seq: int) -> bool:
        """Delete the acknowledged event; True when it was still there."""
        with self._lock:
            cur = self._db.execute("DELETE FROM events WHERE boot_id = ? AND seq = ?", (boot_id, seq))
        return cur.rowcount > 0

    def depth(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM events").fetchone()[0]

    @property
    def full(self) -> bool:
        return self.depth() >= self.capacity

    def close(self) -> None:
        with self._lock:
            self._db.close()

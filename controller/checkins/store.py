"""Storing verified check-ins in batches: each event once, duplicates recognised, presence updated.

:func:`store_batch` runs inside the caller's transaction (the ingest thread commits it and only then
acknowledges): it inserts all new check-ins with ``INSERT ... ON CONFLICT DO NOTHING`` on the
unique key ``(unit_id, boot_id, seq)``, so a redelivered event is never stored twice, even when two
controller processes race. An event already stored with the same message digest is a *duplicate*
(the unit did not get our ack: acknowledge again); the same event id with a different signed message is
a *conflict* (a unit re-using a boot id, or a stolen key) and is refused. New check-ins update the
presence table (:func:`controller.checkins.attendance.apply_checkins`) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import Session

from congress import wire
from congress.wire import AckOutcome, CheckIn
from controller.checkins.attendance import Passing, apply_checkins
from controller.storage.tables import CheckIn as CheckInRow
from controller.storage.tables import CheckInMethod, Passage

#: Rows per INSERT statement (well inside SQLite's and PostgreSQL's bound-parameter limits).
CHUNK = 200
#: Oldest a unit's synchronised wall time may be against the arrival time and still be trusted.
MAX_DELIVERY_DELAY = dt.timedelta(days=7)
MAX_DELIVERY_DELAY_MS = int(MAX_DELIVERY_DELAY.total_seconds() * 1000)


class Disposition(StrEnum):
    """What became of one verified check-in."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Verified:
    """A check-in whose signature and unit checked out, with what the store needs to know."""

    msg: CheckIn
    digest: str
    received_at: dt.datetime
    site: str | None = None  # the satellite site whose bridge carried it (None: straight to this broker)

    @property
    def key(self) -> tuple[str, str, int]:
        return self.msg.event_id

    @cached_property
    def event_at(self) -> dt.datetime:
        """The unit's time when its clock was synchronised and the time is plausible, else the arrival
        time. Plausible: not after the arrival (a clock running ahead is capped at the arrival time, so
        a check-in "from 2100" cannot outrank a later real passage) and not more than
        :data:`MAX_DELIVERY_DELAY` before it (an outbox holds check-ins through an outage, not for
        weeks). Compared as integers, so no wall time can make the conversion fail."""
        wall = self.msg.wall_time_ms
        if self.msg.clock_synced and wall is not None:
            arrived_ms = int(self.received_at.timestamp() * 1000)
            if arrived_ms - MAX_DELIVERY_DELAY_MS <= wall:
                return dt.datetime.fromtimestamp(min(wall, arrived_ms) / 1000, dt.UTC)
        return self.received_at

    @property
    def time_trusted(self) -> bool:
        """Whether the unit's own wall time was used as is (False: implausible, or not synchronised)."""
        wall = self.msg.wall_time_ms
        if not self.msg.clock_synced or wall is None:
            return False
        arrived_ms = int(self.received_at.timestamp() * 1000)
        return arrived_ms - MAX_DELIVERY_DELAY_MS <= wall <= arrived_ms


@dataclass(frozen=True)
class Stored:
    """Result for one input item, in input order; ``row_id`` for newly stored rows."""

    item: Verified
    disposition: Disposition
    row_id: int | None = None

    @property
    def ack(self) -> AckOutcome:
        return {Disposition.STORED: AckOutcome.STORED, Disposition.DUPLICATE: AckOutcome.DUPLICATE,
                Disposition.CONFLICT: AckOutcome.REJECTED}[self.disposition]


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


#: Wire enums to table enums (a dict lookup: building enums by value costs more than the insert).
_PASSAGE = {d: Passage(d.value) for d in wire.Direction}
_METHOD = {m: CheckInMethod(m.value) for m in wire.Method}


def _row(v: Verified, stored_at: dt.datetime) -> dict:
    m = v.msg
    return {"unit_id": m.unit, "boot_id": m.boot, "seq": m.seq, "delegate_id": m.delegate_id,
            "passage": _PASSAGE[m.direction], "method": _METHOD[m.method],
            "score": m.score, "event_at": v.event_at, "received_at": v.received_at,
            "stored_at": stored_at, "digest": v.digest}


def _lookup(session: Session, keys: list[tuple]) -> dict[tuple, tuple[int, str]]:
    """``{(unit, boot, seq): (row id, digest)}`` for the stored ones among ``keys``."""
    found: dict[tuple, tuple[int, str]] = {}
    for i in range(0, len(keys), CHUNK):
        params = {"keys": keys[i : i + CHUNK]}
        for rid, unit, boot, seq, digest in session.execute(_LOOKUP, params):
            found[(unit, boot, seq)] = (rid, digest)
    return found


_KEY = tuple_(CheckInRow.unit_id, CheckInRow.boot_id, CheckInRow.seq)
# One compiled statement for every batch size ("expanding" IN): compiling per batch costs more than
# the insert itself.
_LOOKUP = select(CheckInRow.id, CheckInRow.unit_id, CheckInRow.boot_id, CheckInRow.seq,
                 CheckInRow.digest).where(_KEY.in_(bindparam("keys", expanding=True)))


_COLUMNS = ("unit_id", "boot_id", "seq", "delegate_id", "passage", "method", "score", "event_at",
            "received_at", "stored_at", "digest")
_PG_INSERT = (
    f"INSERT INTO checkins ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
    "ON CONFLICT (unit_id, boot_id, seq) DO NOTHING RETURNING id, unit_id, boot_id, seq"
)


def _insert_new(session: Session, rows: list[dict]) -> dict[tuple, int]:
    """Insert ``rows`` unless their event id exists; ``{(unit, boot, seq): id}`` of those inserted."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # psycopg's pipelined executemany: one short statement (prepared once), every row streamed;
        # SQLAlchemy would render 1,000-row VALUES lists that psycopg re-parses for every batch.
        cur = conn.connection.driver_connection.cursor()
        params = [tuple(r[c].value if c in ("passage", "method") else r[c] for c in _COLUMNS) for r in rows]
        cur.executemany(_PG_INSERT, params, returning=True)
        found: dict[tuple, int] = {}
        while True:
            for rid, u, b, q in cur.fetchall():
                found[(u, b, q)] = rid
            if not cur.nextset():
                break
        cur.close()
        return found
    stmt = (
        _insert(session)(CheckInRow)
        .on_conflict_do_nothing(index_elements=["unit_id", "boot_id", "seq"])
        .returning(CheckInRow.id, CheckInRow.unit_id, CheckInRow.boot_id, CheckInRow.seq)
    )
    return {(u, b, q): rid for rid, u, b, q in conn.execute(stmt, rows)}


def store_batch(session: Session, items: list[Verified], *, stored_at: dt.datetime) -> list[Stored]:
    """Store ``items`` (caller's transaction); return one :class:`Stored` per item, in order.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` for the whole batch (executemany, batched into
    multi-row statements by SQLAlchemy) tells which events are new; only the event ids it did not
    insert (redeliveries, rare) are looked up to compare their digests.
    """
    first: dict[tuple, Verified] = {}
    for v in items:
        first.setdefault(v.key, v)
    rows = [_row(v, stored_at) for v in first.values()]
    new_ids = _insert_new(session, rows) if rows else {}
    before = _lookup(session, [k for k in first if k not in new_ids])
    after = {k: (rid, first[k].digest) for k, rid in new_ids.items()}
    out: list[Stored] = []
    claimed: set[tuple] = set()
    for v in items:
        k = v.key
        if k in after and k not in claimed and first[k] is v and after[k][1] == v.digest:
            claimed.add(k)
            out.append(Stored(v, Disposition.STORED, after[k][0]))
            continue
        reference = (before.get(k) or after.get(k) or (None, None))[1]
        out.append(Stored(v, Disposition.DUPLICATE if reference == v.digest else Disposition.CONFLICT))
    apply_checkins(
        session,
        [Passing(s.row_id, s.item.msg.delegate_id, _PASSAGE[s.item.msg.direction], s.item.event_at,
                 s.item.msg.unit) for s in out if s.disposition is Disposition.STORED],
    )
    return out

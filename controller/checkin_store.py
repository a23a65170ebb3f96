"""Storing verified check-ins in batches: each event once, duplicates recognised, presence updated.

:func:`store_batch` runs inside the caller's transaction (the ingest thread commits it and only then
acknowledges): it inserts all new check-ins with ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on the
unique key ``(unit_id, boot_id, seq)``, so a redelivered event is never stored twice, even when two
controller processes race. An event already stored with the same message digest is a *duplicate*
(the unit did not get our ack: acknowledge again); the same event id with a different signed message is
a *conflict* (a unit re-using a boot id, or a stolen key) and is refused. New check-ins update the
presence table (:func:`controller.attendance.apply_checkins`) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from congress.wire import AckOutcome, CheckIn
from controller.attendance import Passing, apply_checkins
from controller.models import CheckIn as CheckInRow
from controller.models import CheckInMethod, Passage

#: Rows per INSERT statement (well inside SQLite's and PostgreSQL's bound-parameter limits).
CHUNK = 200


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

    @property
    def key(self) -> tuple[str, str, int]:
        return self.msg.event_id

    @property
    def event_at(self) -> dt.datetime:
        """The unit's time when its clock was synchronised, else the arrival time."""
        if self.msg.clock_synced and self.msg.wall_time_ms is not None:
            return dt.datetime.fromtimestamp(self.msg.wall_time_ms / 1000, dt.UTC)
        return self.received_at


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


def _row(v: Verified, stored_at: dt.datetime) -> dict:
    m = v.msg
    return {"unit_id": m.unit, "boot_id": m.boot, "seq": m.seq, "delegate_id": m.delegate_id,
            "passage": Passage(m.direction.value), "method": CheckInMethod(m.method.value),
            "score": m.score, "event_at": v.event_at, "received_at": v.received_at,
            "stored_at": stored_at, "digest": v.digest}


def store_batch(session: Session, items: list[Verified], *, stored_at: dt.datetime) -> list[Stored]:
    """Store ``items`` (caller's transaction); return one :class:`Stored` per item, in order."""
    insert = _insert(session)
    first: dict[tuple, Verified] = {}
    for v in items:
        first.setdefault(v.key, v)
    new_ids: dict[tuple, int] = {}
    unique = list(first.values())
    for i in range(0, len(unique), CHUNK):
        chunk = unique[i : i + CHUNK]
        stmt = (
            insert(CheckInRow)
            .values([_row(v, stored_at) for v in chunk])
            .on_conflict_do_nothing(index_elements=["unit_id", "boot_id", "seq"])
            .returning(CheckInRow.id, CheckInRow.unit_id, CheckInRow.boot_id, CheckInRow.seq)
        )
        for rid, unit, boot, seq in session.execute(stmt):
            new_ids[(unit, boot, seq)] = rid
    old = [k for k in first if k not in new_ids]
    digests: dict[tuple, str] = {}
    for i in range(0, len(old), CHUNK):
        keys = old[i : i + CHUNK]
        q = select(CheckInRow.unit_id, CheckInRow.boot_id, CheckInRow.seq, CheckInRow.digest).where(
            tuple_(CheckInRow.unit_id, CheckInRow.boot_id, CheckInRow.seq).in_(keys)
        )
        for unit, boot, seq, digest in session.execute(q):
            digests[(unit, boot, seq)] = digest
    out: list[Stored] = []
    claimed: set[tuple] = set()
    for v in items:
        k = v.key
        if k in new_ids and k not in claimed and first[k] is v:
            claimed.add(k)
            out.append(Stored(v, Disposition.STORED, new_ids[k]))
            continue
        reference = first[k].digest if k in new_ids else digests.get(k)
        same = reference == v.digest
        out.append(Stored(v, Disposition.DUPLICATE if same else Disposition.CONFLICT))
    apply_checkins(
        session,
        [Passing(s.row_id, s.item.msg.delegate_id, Passage(s.item.msg.direction.value), s.item.event_at,
                 s.item.msg.unit) for s in out if s.disposition is Disposition.STORED],
    )
    return out

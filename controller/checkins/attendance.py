"""Attendance and quorum: who is in the hall, whether the assembly has a quorum, roll call, history.

Presence is kept per delegate in the ``presence`` table and updated by the ingest in the same
transaction that stores the check-ins (:func:`apply_checkins`): the latest check-in by event order
(the unit's event time, then arrival order) wins, so an ``out`` that a unit delivers late from its
outbox never overrides a later ``in`` at another door. Only delegates on the roster count.

The quorum rule comes from the controller configuration (``[attendance] quorum``): ``two-thirds``
(default: at least 2/3 of the summoned delegates present), ``majority`` (more than half of them) or
``fixed:N`` (at least N present). :func:`timeline` replays the check-ins into an attendance-over-time
series for the chart. Used by the ingest thread, the web pages and ``congress controller attendance``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from congress.errors import ConfigError
from controller.storage.tables import CheckIn, Delegate, Passage, Presence


class QuorumRule(StrEnum):
    """How many summoned delegates must be present."""

    TWO_THIRDS = "two-thirds"
    MAJORITY = "majority"
    FIXED = "fixed"


@dataclass(frozen=True)
class QuorumPolicy:
    """A quorum rule; ``count`` is used by :attr:`QuorumRule.FIXED` only."""

    rule: QuorumRule = QuorumRule.TWO_THIRDS
    count: int = 0

    @classmethod
    def parse(cls, text: str) -> QuorumPolicy:
        """``two-thirds``, ``majority`` or ``fixed:N``."""
        t = text.strip().lower()
        if t.startswith("fixed:"):
            try:
                n = int(t.split(":", 1)[1])
            except ValueError:
                n = -1
            if n < 1:
                raise ConfigError(f"quorum {text!r}: fixed:N needs a whole number N of at least 1")
            return cls(QuorumRule.FIXED, n)
        try:
            return cls(QuorumRule(t))
        except ValueError:
            raise ConfigError(
                f"quorum {text!r} is not a known rule", hint="use two-thirds, majority or fixed:N"
            ) from None

    def required(self, summoned: int) -> int:
        """Delegates that must be present for a quorum, out of ``summoned``."""
        if self.rule is QuorumRule.FIXED:
            return self.count
        if self.rule is QuorumRule.MAJORITY:
            return summoned // 2 + 1
        return math.ceil(2 * summoned / 3)

    def __str__(self) -> str:
        return f"fixed:{self.count}" if self.rule is QuorumRule.FIXED else self.rule.value


@dataclass(frozen=True)
class QuorumStatus:
    """Present and summoned counts and whether the quorum is reached."""

    rule: str
    summoned: int
    present: int
    present_summoned: int
    required: int
    reached: bool

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passing:
    """One newly stored check-in, as :func:`apply_checkins` needs it."""

    checkin_id: int
    delegate_id: str
    passage: Passage
    event_at: dt.datetime
    unit_id: str


def _upsert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def apply_checkins(session: Session, events: Iterable[Passing]) -> int:
    """Update presence from newly stored check-ins (caller's transaction); return rows written."""
    latest: dict[str, Passing] = {}
    for e in events:
        cur = latest.get(e.delegate_id)
        if cur is None or (e.event_at, e.checkin_id) > (cur.event_at, cur.checkin_id):
            latest[e.delegate_id] = e
    if not latest:
        return 0
    insert = _upsert(session)
    rows = [
        {
            "delegate_id": e.delegate_id,
            "inside": e.passage is Passage.IN,
            "event_at": e.event_at,
            "checkin_id": e.checkin_id,
            "unit_id": e.unit_id,
        }
        for e in latest.values()
    ]
    stmt = insert(Presence)
    newer = or_(
        Presence.event_at < stmt.excluded.event_at,
        and_(Presence.event_at == stmt.excluded.event_at, Presence.checkin_id < stmt.excluded.checkin_id),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Presence.delegate_id],
        set_={c: stmt.excluded[c] for c in ("inside", "event_at", "checkin_id", "unit_id")},
        where=newer,
    )
    session.execute(stmt, rows)  # executemany: one compiled statement whatever the batch size
    return len(rows)


def present_ids(session: Session) -> set[str]:
    """Delegates on the roster who are in the hall now."""
    q = select(Presence.delegate_id).join(Delegate, Delegate.id == Presence.delegate_id)
    return set(session.scalars(q.where(Presence.inside.is_(True))))


def quorum(session: Session, policy: QuorumPolicy) -> QuorumStatus:
    """The quorum now under ``policy``."""
    summoned = session.scalar(select(func.count()).select_from(Delegate).where(Delegate.summoned)) or 0
    base = select(func.count()).select_from(Presence).join(Delegate, Delegate.id == Presence.delegate_id)
    present = session.scalar(base.where(Presence.inside.is_(True))) or 0
    present_summoned = session.scalar(base.where(Presence.inside.is_(True), Delegate.summoned)) or 0
    required = policy.required(summoned)
    reached = required > 0 and present_summoned >= required
    return QuorumStatus(str(policy), summoned, present, present_summoned, required, reached)


def roll_call(session: Session) -> list[dict]:
    """Per delegation: members with seat and in/out, and counts (for the roll-call page)."""
    inside = dict(session.execute(select(Presence.delegate_id, Presence.inside)).all())
    groups: dict[str, dict] = {}
    for d in session.scalars(select(Delegate).order_by(Delegate.delegation, Delegate.seat, Delegate.name)):
        g = groups.setdefault(
            d.delegation, {"delegation": d.delegation, "members": [], "present": 0, "summoned": 0}
        )
        here = bool(inside.get(d.id, False))
        g["members"].append(
            {"id": d.id, "name": d.name, "seat": d.seat, "summoned": d.summoned, "present": here}
        )
        g["present"] += here
        g["summoned"] += d.summoned
    return list(groups.values())


#: Chart intervals to choose from, seconds.
BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600)


def auto_bucket(session: Session, *, points: int = 60, now: dt.datetime | None = None) -> int:
    """The smallest of :data:`BUCKETS` that covers first check-in .. now in at most ``points`` steps."""
    from sqlalchemy import func

    first = session.scalar(select(func.min(CheckIn.event_at)))
    if first is None:
        return BUCKETS[0]
    if first.tzinfo is None:
        first = first.replace(tzinfo=dt.UTC)
    span = ((now or dt.datetime.now(dt.UTC)) - first).total_seconds()
    return next((b for b in BUCKETS if span / b <= points), BUCKETS[-1])


def timeline(
    session: Session,
    *,
    bucket_s: int = 300,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dict]:
    """Delegates present over time, replaying check-ins in event order, one point per ``bucket_s``.

    Returns ``[{"t": ISO time, "present": n, "arrivals": k, "by_door": {unit: k}}, ...]``: the first
    point is the start of the first bucket (nobody counted yet), then the end of each bucket, the last
    point being ``until`` itself (default now), never a time in the future. ``arrivals`` counts the
    delegates who came in during the interval that ends at the point (a repeated "in" is not an
    arrival), per door in ``by_door``. Check-ins of people not on the roster are ignored.
    """
    q = (
        select(CheckIn.event_at, CheckIn.delegate_id, CheckIn.passage, CheckIn.unit_id)
        .join(Delegate, Delegate.id == CheckIn.delegate_id)
        .order_by(CheckIn.event_at, CheckIn.id)
    )
    events = session.execute(q).all()
    if not events:
        return []
    until = until or max(dt.datetime.now(dt.UTC), events[-1][0])
    start = since or events[0][0]
    step = dt.timedelta(seconds=bucket_s)
    epoch = int(start.timestamp()) // bucket_s * bucket_s  # aligned buckets: 09:05, 09:10, ...
    t = dt.datetime.fromtimestamp(epoch, dt.UTC)
    state: dict[str, bool] = {}
    count, i = 0, 0
    out: list[dict] = []
    while True:
        arrivals: dict[str, int] = {}
        while i < len(events) and events[i][0] <= t:
            _, who, passage, unit = events[i]
            was, now = state.get(who, False), passage is Passage.IN
            count += int(now) - int(was)
            if now and not was:
                arrivals[unit] = arrivals.get(unit, 0) + 1
            state[who] = now
            i += 1
        out.append({"t": t.isoformat(), "present": count, "arrivals": sum(arrivals.values()),
                    "by_door": arrivals})
        if t >= until or len(out) > 5000:  # a far-off `since` must not produce an endless chart
            break
        t = min(t + step, until)
    return out

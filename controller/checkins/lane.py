"""Attendant lane: low-confidence faces wait here until a staff member lets them in or refuses them.

A door unit that recognises someone without enough confidence stores a signed check-in with method
``attendant`` and shows an amber light (see ``edge/door.py``). The ingest stores it like any other
(:mod:`controller.checkins.store`), so it appears in :func:`pending` until somebody answers with
:func:`decide`, which records a :class:`controller.storage.tables.LaneDecision` and audits it. A refusal
withdraws the presence that check-in gave (unless a later check-in already superseded it). After the
commit the web route sends the unit a signed ``open_door`` command
(:class:`controller.devices.commands.UnitCommander`) with
``accept`` true or false, which ends the amber light and opens the door or not.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from congress.errors import CongressError
from controller import audit
from controller.storage.database import utcnow
from controller.storage.tables import CheckIn, CheckInMethod, Delegate, LaneDecision, Presence

log = logging.getLogger(__name__)

#: Attendant requests older than this are no longer shown (the person has long gone or come back).
PENDING_WINDOW = dt.timedelta(hours=2)


class LaneError(CongressError):
    """A lane decision was refused (unknown request, decided already)."""


@dataclass(frozen=True)
class Decided:
    """What the door unit must be told after a decision."""

    unit_id: str
    boot_id: str
    delegate_id: str
    accepted: bool


def pending(
    session: Session, *, now: dt.datetime | None = None, window: dt.timedelta = PENDING_WINDOW
) -> list:
    """Undecided attendant check-ins of the last ``window``, oldest first (first come, first served)."""
    since = (now or utcnow()) - window
    q = (
        select(CheckIn, Delegate.name, Delegate.delegation)
        .join(Delegate, Delegate.id == CheckIn.delegate_id, isouter=True)
        .join(LaneDecision, LaneDecision.checkin_id == CheckIn.id, isouter=True)
        .where(CheckIn.method == CheckInMethod.ATTENDANT, LaneDecision.checkin_id.is_(None))
        .where(CheckIn.received_at >= since)
        .order_by(CheckIn.id)
    )
    return [
        {
            "id": c.id,
            "delegate_id": c.delegate_id,
            "name": name or "(not on the roster)",
            "delegation": delegation or "",
            "unit": c.unit_id,
            "direction": c.passage.value,
            "score": None if c.score is None else round(c.score, 3),
            "event_at": c.event_at.isoformat(),
        }
        for c, name, delegation in session.execute(q)
    ]


def decide(session: Session, checkin_id: int, accept: bool, *, actor: str) -> Decided:
    """Record the answer to one attendant check-in (caller's transaction); audit it."""
    c = session.get(CheckIn, checkin_id)
    if c is None or c.method is not CheckInMethod.ATTENDANT:
        raise LaneError("no such attendant request")
    if session.get(LaneDecision, checkin_id) is not None:
        raise LaneError("this request has been answered already")
    session.add(LaneDecision(checkin_id=checkin_id, accepted=accept, actor=actor[:64], decided_at=utcnow()))
    if not accept:
        presence = session.get(Presence, c.delegate_id)
        if presence is not None and presence.checkin_id == c.id:
            presence.inside = False  # the refused passage must not count for the quorum
    audit.record(
        session,
        actor,
        "lane.confirm" if accept else "lane.reject",
        {"checkin": checkin_id, "delegate": c.delegate_id, "unit": c.unit_id},
    )
    session.flush()
    return Decided(c.unit_id, c.boot_id, c.delegate_id, accept)

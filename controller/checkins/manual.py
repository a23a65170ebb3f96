"""Check-ins by hand: a staff member checks a delegate in or out on the page (audited, shown as manual).

For the delegate whose face or badge the door cannot read, or who left by a door without a unit. The
record is a :class:`controller.storage.tables.CheckIn` like a door's, with method ``manual``, unit
``staff:<account>`` (no door unit can have that id: unit ids are certificate names without ``:``),
boot ``manual`` and the next number of that account's hand-made records; its digest is over what was
recorded, by whom and when. Presence follows it by the same rule as a door's check-in (the latest
event wins) and the audit trail names the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from congress.errors import CongressError
from congress.i18n import M_, Message
from controller import audit
from controller.checkins.attendance import Passing, apply_checkins
from controller.storage.database import utcnow
from controller.storage.tables import CheckIn, CheckInMethod, Delegate, Passage

MANUAL_BOOT = "manual"


class ManualError(CongressError):
    """A check-in by hand was refused; ``text`` is the message for the page."""

    def __init__(self, text: Message) -> None:
        super().__init__(str(text))
        self.text = text


def staff_unit(actor: str) -> str:
    """The unit id under which ``actor``'s hand-made check-ins are recorded."""
    return f"staff:{actor}"[:64]


def record(session: Session, delegate_id: str, passage: Passage, *, actor: str,
           now: dt.datetime | None = None) -> CheckIn:
    """Check ``delegate_id`` in or out by hand (caller's transaction); audit it; return the row."""
    delegate = session.get(Delegate, delegate_id)
    if delegate is None:
        raise ManualError(M_("no delegate with id %(id)s", id=delegate_id))
    now = now or utcnow()
    unit = staff_unit(actor)
    seq = (session.scalar(select(func.max(CheckIn.seq)).where(CheckIn.unit_id == unit,
                                                              CheckIn.boot_id == MANUAL_BOOT)) or 0) + 1
    digest = hashlib.sha256(f"{unit}\n{seq}\n{delegate_id}\n{passage.value}\n{now.isoformat()}".encode())
    row = CheckIn(unit_id=unit, boot_id=MANUAL_BOOT, seq=seq, delegate_id=delegate_id, passage=passage,
                  method=CheckInMethod.MANUAL, score=None, event_at=now, received_at=now, stored_at=now,
                  digest=digest.hexdigest())
    session.add(row)
    session.flush()
    apply_checkins(session, [Passing(row.id, delegate_id, passage, now, unit)])
    audit.record(session, actor, "checkins.manual",
                 {"delegate": delegate_id, "direction": passage.value, "checkin": row.id})
    return row

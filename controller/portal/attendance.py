"""Attendance confirmation before the congress: each delegate answers the invitation from the app.

:class:`Confirmations` (``Services.portal.confirmations``) stores one answer per delegate (attending,
or absent with a reason; a later answer replaces the earlier one, audited) and gives the staff pages
their summary: how many confirmed, how many reported absent and why, and who has not answered.
Nothing here touches the door check-ins: an answer says what the delegate intends, the roll call
says who came.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from congress.errors import CongressError
from congress.i18n import M_, Message
from congress.vietnamese import sort_key
from controller import audit
from controller.portal.tables import AttendanceAnswer, AttendanceReply
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate

MAX_REASON = 500


class AnswerRefused(CongressError):
    def __init__(self, text: Message) -> None:
        super().__init__(str(text))
        self.text = text


@dataclass
class Summary:
    """The confirmations as the staff pages show them (names in Vietnamese order)."""

    summoned: int = 0
    attending: list[dict] = field(default_factory=list)
    absent: list[dict] = field(default_factory=list)
    unanswered: list[dict] = field(default_factory=list)
    by_id: dict[str, dict] = field(default_factory=dict)


class Confirmations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def answer(self, delegate_id: str, attending: bool, reason: str = "") -> dict:
        reason = (reason or "").strip()
        if not attending and not reason:
            raise AnswerRefused(M_("say why you cannot attend"))
        if len(reason) > MAX_REASON:
            raise AnswerRefused(M_("the reason is too long (at most %(num)d characters)", num=MAX_REASON))
        answer = AttendanceAnswer.ATTENDING if attending else AttendanceAnswer.ABSENT
        with self.db.session() as s:
            row = s.get(AttendanceReply, delegate_id)
            if row is None:
                row = AttendanceReply(delegate_id=delegate_id)
                s.add(row)
            row.answer, row.reason, row.answered_at = answer, reason if not attending else "", utcnow()
            audit.record(s, f"delegate:{delegate_id}", "portal.attendance",
                         {"delegate": delegate_id, "answer": answer.value})
            return _view(row)

    def of(self, delegate_id: str) -> dict | None:
        with self.db.session() as s:
            row = s.get(AttendanceReply, delegate_id)
            return _view(row) if row else None

    def summary(self) -> Summary:
        out = Summary()
        with self.db.session() as s:
            rows = s.execute(select(Delegate, AttendanceReply)
                             .outerjoin(AttendanceReply, AttendanceReply.delegate_id == Delegate.id)
                             .where(Delegate.summoned.is_(True))).all()
        for d, reply in sorted(rows, key=lambda r: (sort_key(r[0].delegation), sort_key(r[0].name))):
            person = {"id": d.id, "name": d.name, "delegation": d.delegation, "seat": d.seat}
            out.summoned += 1
            if reply is None:
                out.unanswered.append(person)
                continue
            person.update(_view(reply))
            out.by_id[d.id] = person
            (out.attending if reply.answer is AttendanceAnswer.ATTENDING else out.absent).append(person)
        return out


def _view(row: AttendanceReply) -> dict:
    return {"answer": row.answer.value, "reason": row.reason, "answered_at": row.answered_at.isoformat()}

"""Attendance per session: leave of absence, and the roll call taken when a session opens.

Opening a session (:meth:`RollCalls.open_session`) takes a snapshot in one transaction: every summoned
delegate is *present* (in the hall now, by the check-ins), *excused* (not present, with leave for this
session or for the whole congress) or *absent* (not present, without leave); the counts and the
quorum required under the configured rule are stored with one entry per delegate, and shown on the
projector. The snapshot does not move when people come and go later; the running attendance does.
With satellite sites (docs/multi-site.md) each entry keeps the delegate's site, and the snapshot
carries the same counts per site (``sites``), the central venue as ``""``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from congress.i18n import M_
from controller import audit
from controller.checkins.attendance import QuorumPolicy, present_ids
from controller.programme.agenda import ProgrammeError
from controller.programme.tables import (
    LeaveOfAbsence,
    ProgrammeSession,
    RollCallStatus,
    SessionRollCall,
    SessionRollCallEntry,
    SessionStatus,
)
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate


def _session(s: Session, code: str) -> ProgrammeSession:
    row = s.scalar(select(ProgrammeSession).where(ProgrammeSession.code == code))
    if row is None:
        raise ProgrammeError(M_("there is no session '%(code)s'", code=code))
    return row


def _site_counts(s: Session, rollcall_id: int) -> list[dict]:
    """Summoned, present, excused and absent per site in one roll call, the central venue first."""
    rows = s.execute(
        select(SessionRollCallEntry.site, SessionRollCallEntry.status, func.count())
        .where(SessionRollCallEntry.rollcall_id == rollcall_id)
        .group_by(SessionRollCallEntry.site, SessionRollCallEntry.status)
    ).all()
    out: dict[str, dict] = {}
    for site, status, n in rows:
        c = out.setdefault(site or "", {"site": site or "", "summoned": 0, "present": 0, "excused": 0,
                                        "absent": 0})
        c[status.value] += n
        c["summoned"] += n
    return [out[k] for k in sorted(out, key=lambda k: (k != "", k))]


def _as_dict(sess: ProgrammeSession, rc: SessionRollCall, sites: list[dict] | None = None) -> dict:
    return {
        "session": sess.code,
        "title": sess.title,
        "status": sess.status.value,
        "taken_at": rc.taken_at.isoformat(),
        "summoned": rc.summoned,
        "present": rc.present,
        "excused": rc.excused,
        "absent": rc.absent,
        "quorum_required": rc.quorum_required,
        "quorate": rc.present >= rc.quorum_required,
        "sites": sites or [],
    }


class RollCalls:
    """Leave and per-session roll calls (``Services.rollcalls``)."""

    def __init__(
        self, db: Database, policy: QuorumPolicy, publish: Callable[[str, dict], None] | None = None
    ):
        self.db = db
        self.policy = policy
        self.publish = publish or (lambda kind, data: None)

    def record_leave(self, delegate_id: str, session_code: str | None, reason: str, *, actor: str) -> None:
        """Excuse ``delegate_id`` from one session (or from the whole congress with no session)."""
        with self.db.session() as s:
            if s.get(Delegate, delegate_id) is None:
                raise ProgrammeError(M_("there is no delegate '%(delegate)s'", delegate=delegate_id))
            sid = _session(s, session_code).id if session_code else None
            row = s.scalar(
                select(LeaveOfAbsence).where(
                    LeaveOfAbsence.delegate_id == delegate_id,
                    LeaveOfAbsence.session_id.is_(None) if sid is None else LeaveOfAbsence.session_id == sid,
                )
            )
            if row is None:
                s.add(
                    LeaveOfAbsence(delegate_id=delegate_id, session_id=sid, reason=reason, recorded_by=actor)
                )
            else:
                row.reason, row.recorded_by, row.recorded_at = reason, actor, utcnow()
            audit.record(s, actor, "programme.leave", {"delegate": delegate_id, "session": session_code})

    def cancel_leave(self, delegate_id: str, session_code: str | None, *, actor: str) -> None:
        with self.db.session() as s:
            sid = _session(s, session_code).id if session_code else None
            s.execute(
                delete(LeaveOfAbsence).where(
                    LeaveOfAbsence.delegate_id == delegate_id,
                    LeaveOfAbsence.session_id.is_(None) if sid is None else LeaveOfAbsence.session_id == sid,
                )
            )
            audit.record(
                s, actor, "programme.leave_cancel", {"delegate": delegate_id, "session": session_code}
            )

    def leaves(self, session_code: str | None = None) -> list[dict]:
        with self.db.session() as s:
            q = select(LeaveOfAbsence, Delegate.name).join(
                Delegate, Delegate.id == LeaveOfAbsence.delegate_id
            )
            if session_code:
                sid = _session(s, session_code).id
                q = q.where((LeaveOfAbsence.session_id == sid) | LeaveOfAbsence.session_id.is_(None))
            return [
                {
                    "delegate_id": row.delegate_id,
                    "name": name,
                    "whole_congress": row.session_id is None,
                    "reason": row.reason,
                }
                for row, name in s.execute(q.order_by(Delegate.name))
            ]

    def open_session(self, code: str, *, actor: str) -> dict:
        """Open session ``code`` and take its roll call."""
        with self.db.session() as s:
            sess = _session(s, code)
            if sess.status is SessionStatus.OPEN:
                raise ProgrammeError(M_("session %(code)s is already open", code=code))
            site_of = dict(s.execute(select(Delegate.id, Delegate.site).where(Delegate.summoned)).all())
            summoned = list(site_of)
            inside = present_ids(s)
            excused_ids = set(
                s.scalars(
                    select(LeaveOfAbsence.delegate_id).where(
                        (LeaveOfAbsence.session_id == sess.id) | LeaveOfAbsence.session_id.is_(None)
                    )
                )
            )
            statuses = {
                d: RollCallStatus.PRESENT
                if d in inside
                else RollCallStatus.EXCUSED
                if d in excused_ids
                else RollCallStatus.ABSENT
                for d in summoned
            }
            counts = {st: sum(1 for v in statuses.values() if v is st) for st in RollCallStatus}
            rc = SessionRollCall(
                session_id=sess.id,
                summoned=len(summoned),
                present=counts[RollCallStatus.PRESENT],
                excused=counts[RollCallStatus.EXCUSED],
                absent=counts[RollCallStatus.ABSENT],
                quorum_required=self.policy.required(len(summoned)),
            )
            s.add(rc)
            s.flush()
            s.add_all(
                SessionRollCallEntry(rollcall_id=rc.id, delegate_id=d, status=st, site=site_of[d])
                for d, st in statuses.items()
            )
            s.flush()
            sess.status, sess.opened_at = SessionStatus.OPEN, utcnow()
            data = _as_dict(sess, rc, _site_counts(s, rc.id))
            audit.record(s, actor, "programme.session_open", data)
        self.publish("rollcall", data)
        return data

    def close_session(self, code: str, *, actor: str) -> None:
        with self.db.session() as s:
            sess = _session(s, code)
            if sess.status is not SessionStatus.OPEN:
                raise ProgrammeError(M_("session %(code)s is not open", code=code))
            sess.status, sess.closed_at = SessionStatus.CLOSED, utcnow()
            audit.record(s, actor, "programme.session_close", {"session": code})
        self.publish("rollcall", {"session": code, "status": "closed"})

    def latest(self, code: str | None = None) -> dict | None:
        """The latest roll call of session ``code`` (or of the most recently opened session)."""
        with self.db.session() as s:
            q = select(SessionRollCall, ProgrammeSession).join(
                ProgrammeSession, ProgrammeSession.id == SessionRollCall.session_id
            )
            if code:
                q = q.where(ProgrammeSession.code == code)
            found = s.execute(q.order_by(SessionRollCall.id.desc()).limit(1)).first()
            return _as_dict(found[1], found[0], _site_counts(s, found[0].id)) if found else None

    def entries(self, code: str) -> list[dict]:
        with self.db.session() as s:
            sess = _session(s, code)
            rc = s.scalar(
                select(SessionRollCall)
                .where(SessionRollCall.session_id == sess.id)
                .order_by(SessionRollCall.id.desc())
            )
            if rc is None:
                return []
            q = (
                select(SessionRollCallEntry.delegate_id, Delegate.name, SessionRollCallEntry.status)
                .join(Delegate, Delegate.id == SessionRollCallEntry.delegate_id, isouter=True)
                .where(SessionRollCallEntry.rollcall_id == rc.id)
                .order_by(Delegate.name)
            )
            return [{"delegate_id": d, "name": n or d, "status": st.value} for d, n, st in s.execute(q)]

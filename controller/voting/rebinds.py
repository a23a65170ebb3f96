"""Keypad bindings while a ballot is open: asked by a technician, confirmed by the chair.

Binding a spare keypad to a delegate who is in the hall is how a technician could cast that
delegate's vote (and have the delegate's own keypad refused). So while a ballot is open
:class:`controller.voting.assignment.Assignments` changes no binding; a request is stored instead
(``keypad_rebinds``, status *pending*) and takes effect only when a chair or admin confirms it with
their own account — never the account that asked. The confirmation is refused while the delegate
still holds a working keypad: that keypad must be reported lost first (which is itself listed), so
a vote cast or about to be cast from it cannot move to another keypad unseen. Participation is per
delegate, so a delegate who has voted cannot vote again from the new keypad either.

Every request, confirmation and refusal — and every keypad reported lost, found or released during
the ballot — is audited and listed with the ballot (``ballot_exceptions``). :func:`ballot_exceptions`
is what the ballot page, the projector and the minutes read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from congress.errors import CongressError
from congress.i18n import M_, Message
from controller import audit
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, Presence
from controller.voting.assignment import Assignments, BallotOpenError, note_exception, open_ballot
from controller.voting.tables import (
    AssignMode,
    BallotException,
    KeypadAssignment,
    KeypadEvent,
    KeypadRebind,
    RebindStatus,
)


class RebindError(CongressError):
    """A rebind cannot be asked for, confirmed or refused as asked; ``text`` is for the page."""

    def __init__(self, text: Message, *, hint: str | None = None) -> None:
        super().__init__(str(text), hint=hint)
        self.text = text


@dataclass(frozen=True)
class KeypadException:
    """One line of a ballot's exceptions (no choice, ever)."""

    at: dt.datetime
    event: KeypadEvent
    keypad_id: int
    delegate_id: str | None
    delegate_name: str | None
    actor: str
    rebind_id: int | None

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "event": self.event.value, "keypad": self.keypad_id,
                "delegate": self.delegate_id, "name": self.delegate_name, "actor": self.actor,
                "rebind": self.rebind_id}


def ballot_exceptions(s: Session, ballot_id: int) -> list[KeypadException]:
    """The keypad changes made while ``ballot_id`` was open, oldest first (for the page, the
    projector and the minutes)."""
    rows = s.execute(
        select(BallotException, Delegate.name)
        .outerjoin(Delegate, Delegate.id == BallotException.delegate_id)
        .where(BallotException.ballot_id == ballot_id)
        .order_by(BallotException.at, BallotException.id)).all()
    return [KeypadException(e.at, e.event, e.keypad_id, e.delegate_id, name, e.actor, e.rebind_id)
            for e, name in rows]


def _as_dict(r: KeypadRebind, name: str | None = None) -> dict:
    return {"id": r.id, "keypad": r.keypad_id, "delegate": r.delegate_id, "name": name, "mode": r.mode.value,
            "ballot": r.ballot_id, "status": r.status.value, "requested_by": r.requested_by,
            "requested_at": r.requested_at, "decided_by": r.decided_by, "decided_at": r.decided_at}


class Rebinds:
    """See the module docstring. ``known_keypads`` as for :class:`Assignments` (paired ids)."""

    def __init__(self, db: Database, known_keypads=None) -> None:
        self.db = db
        self.assignments = Assignments(db, known_keypads)

    def request(self, keypad_id: int, delegate_id: str, *, actor: str,
                mode: AssignMode = AssignMode.SEAT) -> dict:
        """Bind at once when no ballot is open (``{"bound": ...}``); else store a pending request
        (``{"pending": id, "ballot": ...}``), audited and listed with the ballot."""
        try:
            if mode == AssignMode.DOOR:
                return {"bound": self.assignments.bind_at_checkin(keypad_id, delegate_id, actor=actor)}
            return {"bound": self.assignments.bind(keypad_id, delegate_id, actor=actor, mode=mode)}
        except BallotOpenError:
            pass
        with self.db.session() as s:
            bid = open_ballot(s)
            if s.get(Delegate, delegate_id) is None:
                raise RebindError(M_("there is no delegate %(delegate)s", delegate=delegate_id))
            if mode == AssignMode.DOOR and not s.scalar(
                    select(Presence.inside).where(Presence.delegate_id == delegate_id)):
                raise RebindError(M_("delegate %(delegate)s is not checked in", delegate=delegate_id))
            dup = s.scalar(select(KeypadRebind.id).where(
                KeypadRebind.status == RebindStatus.PENDING, KeypadRebind.keypad_id == keypad_id,
                KeypadRebind.delegate_id == delegate_id))
            if dup is not None:
                return {"pending": dup, "ballot": bid}
            r = KeypadRebind(keypad_id=keypad_id, delegate_id=delegate_id, mode=mode, ballot_id=bid,
                             status=RebindStatus.PENDING, requested_by=actor, requested_at=utcnow())
            s.add(r)
            s.flush()
            audit.record(s, actor, "keypad.rebind.request",
                         {"rebind": r.id, "keypad": keypad_id, "delegate": delegate_id, "ballot": bid})
            note_exception(s, KeypadEvent.REBIND_REQUESTED, keypad_id, delegate_id, actor, rebind_id=r.id)
            return {"pending": r.id, "ballot": bid}

    def confirm(self, rebind_id: int, *, actor: str) -> dict:
        """The chair's confirmation: refused for the requesting account, and while the delegate holds
        another keypad that is not reported lost."""
        with self.db.session() as s:
            r = self._pending(s, rebind_id)
            if r.requested_by == actor:
                raise RebindError(M_("the account that asked for a keypad binding cannot confirm it; "
                                     "the chair confirms with their own account"))
            held = s.scalar(select(KeypadAssignment).where(KeypadAssignment.delegate_id == r.delegate_id))
            if held is not None and held.keypad_id != r.keypad_id and not held.lost:
                raise RebindError(M_("delegate %(delegate)s still holds keypad %(keypad)s, which works: "
                                     "report it lost first, so that no vote moves to another keypad",
                                     delegate=r.delegate_id, keypad=held.keypad_id))
            detail = self.assignments.bind_confirmed(s, r.keypad_id, r.delegate_id, mode=r.mode, actor=actor)
            r.status, r.decided_by, r.decided_at = RebindStatus.CONFIRMED, actor, utcnow()
            audit.record(s, actor, "keypad.rebind.confirm", {"rebind": r.id, **detail,
                                                             "requested_by": r.requested_by})
            note_exception(s, KeypadEvent.REBIND_CONFIRMED, r.keypad_id, r.delegate_id, actor,
                           ballot_id=open_ballot(s) or r.ballot_id, rebind_id=r.id)
            return {"rebind": r.id, **detail}

    def reject(self, rebind_id: int, *, actor: str) -> None:
        with self.db.session() as s:
            r = self._pending(s, rebind_id)
            r.status, r.decided_by, r.decided_at = RebindStatus.REJECTED, actor, utcnow()
            audit.record(s, actor, "keypad.rebind.reject",
                         {"rebind": r.id, "keypad": r.keypad_id, "delegate": r.delegate_id})
            note_exception(s, KeypadEvent.REBIND_REJECTED, r.keypad_id, r.delegate_id, actor,
                           ballot_id=open_ballot(s) or r.ballot_id, rebind_id=r.id)

    def pending(self) -> list[dict]:
        with self.db.session() as s:
            rows = s.execute(select(KeypadRebind, Delegate.name)
                             .outerjoin(Delegate, Delegate.id == KeypadRebind.delegate_id)
                             .where(KeypadRebind.status == RebindStatus.PENDING)
                             .order_by(KeypadRebind.id)).all()
            return [_as_dict(r, name) for r, name in rows]

    def exceptions(self, ballot_id: int) -> list[KeypadException]:
        with self.db.session() as s:
            return ballot_exceptions(s, ballot_id)

    @staticmethod
    def _pending(s: Session, rebind_id: int) -> KeypadRebind:
        r = s.scalar(select(KeypadRebind).where(KeypadRebind.id == rebind_id).with_for_update())
        if r is None or r.status != RebindStatus.PENDING:
            raise RebindError(M_("there is no pending keypad binding %(id)s", id=rebind_id))
        return r

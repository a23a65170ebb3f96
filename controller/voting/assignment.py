"""Who holds which keypad: seat pre-assignment, hand-out at the door, lost and swapped keypads.

Every change is one audited transaction (``controller.audit``). A delegate holds at most one keypad
(unique ``delegate_id``): binding a delegate to a new keypad releases the old one, which is how a
lost or broken keypad is replaced. A keypad reported lost is refused for voting until it is found
(:meth:`Assignments.found`). Participation is recorded per delegate, so a delegate who voted with the
old keypad cannot vote again with the new one in the same ballot.

While a ballot is open no binding changes here: a technician's request waits for the chair
(:class:`controller.voting.rebinds.Rebinds`), which calls :meth:`Assignments.bind_confirmed`. A
swap waits for the close. Lost, found and unbind still act at once, and each is listed with the open
ballot as an exception (``ballot_exceptions``, read by :func:`controller.voting.rebinds.ballot_exceptions`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from congress.errors import CongressError
from controller import audit
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, Presence
from controller.voting.tables import (
    AssignMode,
    Ballot,
    BallotException,
    BallotStatus,
    KeypadAssignment,
    KeypadEvent,
)

MAX_KEYPAD_ID = 2**32 - 1  # ids are unsigned 32-bit on the wire


class AssignmentError(CongressError):
    """A keypad cannot be bound or released as asked."""


class BallotOpenError(AssignmentError):
    """A binding was asked for while a ballot is open: it needs the chair's confirmation."""

    def __init__(self, ballot_id: int) -> None:
        super().__init__(f"ballot {ballot_id} is open: a keypad binding needs the chair's confirmation",
                         hint="ask for it on the keypads page; the chair confirms it on the ballot page")
        self.ballot_id = ballot_id


def open_ballot(s: Session) -> int | None:
    """The id of the ballot open now, if any."""
    return s.scalar(select(Ballot.id).where(Ballot.status == BallotStatus.OPEN).limit(1))


def note_exception(s: Session, event: KeypadEvent, keypad_id: int, delegate_id: str | None, actor: str,
                   *, ballot_id: int | None = None, rebind_id: int | None = None) -> None:
    """List a keypad change with the open ballot (nothing when none is open)."""
    bid = ballot_id if ballot_id is not None else open_ballot(s)
    if bid is not None:
        s.add(BallotException(ballot_id=bid, event=event, keypad_id=keypad_id, delegate_id=delegate_id,
                              actor=actor, at=utcnow(), rebind_id=rebind_id))


class Assignments:
    def __init__(self, db: Database, known_keypads=None) -> None:
        self.db = db
        self.known = set(known_keypads) if known_keypads is not None else None

    def _check_keypad(self, keypad_id: int) -> None:
        if not 1 <= keypad_id <= MAX_KEYPAD_ID:
            raise AssignmentError(f"keypad {keypad_id} is not a keypad id (1 to {MAX_KEYPAD_ID})")
        if self.known is not None and keypad_id not in self.known:
            raise AssignmentError(f"keypad {keypad_id} is not paired",
                                  hint="pair it first with 'congress keypads pair --add'")

    @staticmethod
    def _bind(s: Session, keypad_id: int, delegate_id: str, mode: AssignMode, actor: str, *,
              confirmed: bool = False) -> dict:
        if s.get(Delegate, delegate_id) is None:
            raise AssignmentError(f"there is no delegate {delegate_id!r}")
        row = s.get(KeypadAssignment, keypad_id)
        if row is not None and row.delegate_id not in (None, delegate_id):
            raise AssignmentError(f"keypad {keypad_id} is held by delegate {row.delegate_id}",
                                  hint="release it first (unbind), or use swap")
        unchanged = row is not None and row.delegate_id == delegate_id and not row.lost
        if not confirmed and not unchanged and (bid := open_ballot(s)) is not None:
            raise BallotOpenError(bid)
        old = s.scalar(select(KeypadAssignment).where(KeypadAssignment.delegate_id == delegate_id))
        released = None
        if old is not None and old.keypad_id != keypad_id:
            released, old.delegate_id = old.keypad_id, None
            s.flush()
        if row is None:
            row = KeypadAssignment(keypad_id=keypad_id)
            s.add(row)
        row.delegate_id, row.mode, row.lost, row.bound_at = delegate_id, mode, False, utcnow()
        detail = {"keypad": keypad_id, "delegate": delegate_id, "mode": mode.value, "released": released}
        audit.record(s, actor, "keypad.bind", detail)
        return detail

    def bind(self, keypad_id: int, delegate_id: str, *, actor: str,
             mode: AssignMode = AssignMode.SEAT) -> dict:
        """Bind now; :class:`BallotOpenError` while a ballot is open (ask ``Rebinds.request``)."""
        self._check_keypad(keypad_id)
        with self.db.session() as s:
            return self._bind(s, keypad_id, delegate_id, mode, actor)

    def bind_confirmed(self, s: Session, keypad_id: int, delegate_id: str, *, mode: AssignMode,
                       actor: str) -> dict:
        """The binding a chair confirmed (``controller.voting.rebinds``), in the caller's session."""
        self._check_keypad(keypad_id)
        return self._bind(s, keypad_id, delegate_id, mode, actor, confirmed=True)

    def assign_by_seat(self, seat_to_keypad: dict[str, int], *, actor: str) -> list[dict]:
        """Pre-assign keypads from the seat plan; seats without a delegate are reported, not bound."""
        out = []
        with self.db.session() as s:
            for seat, kid in sorted(seat_to_keypad.items()):
                self._check_keypad(kid)
                d = s.scalar(select(Delegate).where(Delegate.seat == seat))
                if d is None:
                    out.append({"seat": seat, "keypad": kid, "error": "no delegate in this seat"})
                    continue
                out.append(self._bind(s, kid, d.id, AssignMode.SEAT, actor))
        return out

    def bind_at_checkin(self, keypad_id: int, delegate_id: str, *, actor: str) -> dict:
        """Door hand-out: the delegate must be checked in when the keypad is bound."""
        self._check_keypad(keypad_id)
        with self.db.session() as s:
            if not s.scalar(select(Presence.inside).where(Presence.delegate_id == delegate_id)):
                raise AssignmentError(f"delegate {delegate_id} is not checked in",
                                      hint="hand out keypads after the door has checked the delegate in")
            return self._bind(s, keypad_id, delegate_id, AssignMode.DOOR, actor)

    def unbind(self, keypad_id: int, *, actor: str, reason: str = "") -> None:
        with self.db.session() as s:
            row = s.get(KeypadAssignment, keypad_id)
            if row is None or row.delegate_id is None:
                raise AssignmentError(f"keypad {keypad_id} is not bound to anyone")
            audit.record(s, actor, "keypad.unbind",
                         {"keypad": keypad_id, "delegate": row.delegate_id, "reason": reason})
            note_exception(s, KeypadEvent.UNBOUND, keypad_id, row.delegate_id, actor)
            row.delegate_id = None

    def report_lost(self, keypad_id: int, *, actor: str) -> None:
        with self.db.session() as s:
            row = s.get(KeypadAssignment, keypad_id) or KeypadAssignment(keypad_id=keypad_id)
            s.add(row)
            row.lost = True
            audit.record(s, actor, "keypad.lost", {"keypad": keypad_id, "delegate": row.delegate_id})
            note_exception(s, KeypadEvent.LOST, keypad_id, row.delegate_id, actor)

    def found(self, keypad_id: int, *, actor: str) -> None:
        with self.db.session() as s:
            row = s.get(KeypadAssignment, keypad_id)
            if row is None or not row.lost:
                raise AssignmentError(f"keypad {keypad_id} is not reported lost")
            row.lost = False
            audit.record(s, actor, "keypad.found", {"keypad": keypad_id, "delegate": row.delegate_id})
            note_exception(s, KeypadEvent.FOUND, keypad_id, row.delegate_id, actor)

    def swap(self, keypad_a: int, keypad_b: int, *, actor: str) -> None:
        """Two delegates picked up each other's keypads: exchange the bindings."""
        with self.db.session() as s:
            if (bid := open_ballot(s)) is not None:
                raise AssignmentError(f"ballot {bid} is open: keypads cannot be swapped until it closes",
                                      hint="report the keypad lost and ask for a new binding, which the "
                                           "chair confirms")
            a, b = s.get(KeypadAssignment, keypad_a), s.get(KeypadAssignment, keypad_b)
            if a is None or b is None or a.delegate_id is None or b.delegate_id is None:
                raise AssignmentError("both keypads must be bound to swap them")
            da, db_ = a.delegate_id, b.delegate_id
            a.delegate_id = None
            s.flush()
            b.delegate_id = da
            s.flush()
            a.delegate_id = db_
            audit.record(s, actor, "keypad.swap", {"keypads": [keypad_a, keypad_b],
                                                    "delegates": [db_, da]})

    def holder(self, keypad_id: int) -> str | None:
        with self.db.session() as s:
            row = s.get(KeypadAssignment, keypad_id)
            return row.delegate_id if row else None

"""The congress programme: days, sessions and numbered agenda items; what is on the agenda now.

:class:`Programme` is the area's service (``Services.programme``). It takes the database and the live
bus's ``publish``; every change is audited. Moving "now on the agenda" names the revision the chair
saw (:meth:`Programme.move`): the row is updated only if it is still at that revision, so of two
chairs moving at once one wins and the other gets :class:`AgendaConflict` with the current state
(no lost update, on SQLite and PostgreSQL alike). An item that carries an open ballot cannot be
deleted, nor can one that still has documents.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from congress.errors import CongressError
from congress.i18n import M_, P_, Message
from controller import audit
from controller.programme.tables import (
    AgendaItem,
    AgendaItemBallot,
    AgendaState,
    ProgrammeDay,
    ProgrammeSession,
    SessionKind,
    SessionStatus,
)
from controller.storage.database import Database, utcnow
from controller.voting.tables import Ballot, BallotStatus


class ProgrammeError(CongressError):
    """A programme change was refused; the message says why. ``text`` is the message for the page
    (a :class:`congress.i18n.Message`, translated there); ``str(exc)`` is English."""

    def __init__(self, text: Message | str, *, hint: str | None = None) -> None:
        super().__init__(str(text), hint=hint)
        self.text = text


class AgendaConflict(ProgrammeError):
    """Somebody else moved the agenda first; ``state`` is what it is now."""

    def __init__(self, state: dict) -> None:
        super().__init__(M_("the agenda was moved by someone else meanwhile; check it and move again"))
        self.state = state


def new_ref() -> str:
    """A public reference: 16 random URL-safe characters (96 bits), not guessable from another."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class ItemView:
    ref: str
    number: str
    title: str
    description: str
    session_code: str
    session_title: str
    ballots: tuple[int, ...] = ()


def _item_view(s: Session, item: AgendaItem) -> ItemView:
    sess = s.get(ProgrammeSession, item.session_id)
    ballots = tuple(s.scalars(select(AgendaItemBallot.ballot_id).where(AgendaItemBallot.item_id == item.id)))
    return ItemView(item.ref, item.number, item.title, item.description, sess.code, sess.title, ballots)


def _number_key(number: str) -> tuple:
    """Sort key of an item number: ``2`` < ``3`` < ``3.1`` < ``3.2`` < ``10`` < ``10a`` < ``A``; digits as
    numbers, other parts as text after them (never comparing a number with a text)."""
    return tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p.casefold())
        for p in re.findall(r"\d+|[^\d.\- ]+", number)
    )


class Programme:
    """The programme of the congress, in the database."""

    def __init__(self, db: Database, publish: Callable[[str, dict], None] | None = None) -> None:
        self.db = db
        self.publish = publish or (lambda kind, data: None)

    # --- building -----------------------------------------------------------------------------------

    def day(self, s: Session, date: dt.date, title: str = "") -> ProgrammeDay:
        day = s.scalar(select(ProgrammeDay).where(ProgrammeDay.date == date))
        if day is None:
            day = ProgrammeDay(date=date, title=title)
            s.add(day)
            s.flush()
        elif title:
            day.title = title
        return day

    def session_row(
        self,
        s: Session,
        code: str,
        *,
        date: dt.date,
        title: str,
        kind: SessionKind = SessionKind.OFFICIAL,
        starts_at: dt.datetime | None = None,
        position: int | None = None,
    ) -> ProgrammeSession:
        day = self.day(s, date)
        row = s.scalar(select(ProgrammeSession).where(ProgrammeSession.code == code))
        if row is None:
            if position is None:
                position = (s.scalar(select(func.max(ProgrammeSession.position))) or 0) + 1
            row = ProgrammeSession(
                code=code, day_id=day.id, title=title, kind=kind, starts_at=starts_at, position=position
            )
            s.add(row)
        else:
            row.day_id, row.title, row.kind, row.starts_at = day.id, title, kind, starts_at
            if position is not None:
                row.position = position
        s.flush()
        return row

    def item_row(
        self,
        s: Session,
        number: str,
        *,
        session_code: str,
        title: str,
        description: str = "",
        position: int | None = None,
    ) -> AgendaItem:
        number = number.strip()
        if not number or not title.strip():
            raise ProgrammeError(M_("an agenda item needs a number and a title"))
        sess = s.scalar(select(ProgrammeSession).where(ProgrammeSession.code == session_code))
        if sess is None:
            raise ProgrammeError(M_("there is no session '%(code)s'; add it first", code=session_code))
        item = s.scalar(select(AgendaItem).where(AgendaItem.number == number))
        if item is None:
            item = AgendaItem(
                ref=new_ref(),
                number=number,
                session_id=sess.id,
                title=title.strip(),
                description=description,
                position=position or 0,
            )
            s.add(item)
        else:
            item.session_id, item.title, item.description = sess.id, title.strip(), description
            if position is not None:
                item.position = position
        s.flush()
        return item

    def add_item(
        self, number: str, session_code: str, title: str, description: str = "", *, actor: str
    ) -> str:
        with self.db.session() as s:
            if s.scalar(select(AgendaItem.id).where(AgendaItem.number == number.strip())):
                raise ProgrammeError(M_("agenda item number %(number)s is already used", number=number))
            item = self.item_row(s, number, session_code=session_code, title=title, description=description)
            audit.record(s, actor, "programme.item_add", {"ref": item.ref, "number": item.number})
            ref = item.ref
        self._changed()
        return ref

    def edit_item(
        self,
        ref: str,
        *,
        actor: str,
        number: str | None = None,
        title: str | None = None,
        description: str | None = None,
        session_code: str | None = None,
    ) -> None:
        with self.db.session() as s:
            item = self._item(s, ref)
            if number is not None and number.strip() != item.number:
                if s.scalar(select(AgendaItem.id).where(AgendaItem.number == number.strip())):
                    raise ProgrammeError(M_("agenda item number %(number)s is already used", number=number))
                item.number = number.strip()
            if title is not None:
                if not title.strip():
                    raise ProgrammeError(M_("an agenda item needs a title"))
                item.title = title.strip()
            if description is not None:
                item.description = description
            if session_code is not None:
                sess = s.scalar(select(ProgrammeSession).where(ProgrammeSession.code == session_code))
                if sess is None:
                    raise ProgrammeError(M_("there is no session '%(code)s'", code=session_code))
                item.session_id = sess.id
            audit.record(s, actor, "programme.item_edit", {"ref": ref})
        self._changed()

    def delete_item(self, ref: str, *, actor: str) -> None:
        """Delete an item; refused while a ballot on it is open, or while documents belong to it."""
        from controller.documents.tables import Document

        with self.db.session() as s:
            item = self._item(s, ref)
            open_ballots = list(
                s.scalars(
                    select(Ballot.id)
                    .join(AgendaItemBallot, AgendaItemBallot.ballot_id == Ballot.id)
                    .where(AgendaItemBallot.item_id == item.id, Ballot.status == BallotStatus.OPEN)
                )
            )
            if open_ballots:
                raise ProgrammeError(M_(
                    "agenda item %(number)s has an open ballot (no. %(ballot)s); "
                    "close the ballot before deleting the item",
                    number=item.number, ballot=open_ballots[0],
                ))
            docs = s.scalar(select(func.count()).select_from(Document).where(Document.item_id == item.id))
            if docs:
                raise ProgrammeError(P_(
                    "agenda item %(number)s still has %(num)d document; move or withdraw it first",
                    "agenda item %(number)s still has %(num)d documents; move or withdraw them first",
                    docs, number=item.number,
                ))
            from controller.discussion.tables import DiscussionInput, SynthesisRun

            said = s.scalar(
                select(func.count()).select_from(DiscussionInput).where(DiscussionInput.item_id == item.id)
            ) + s.scalar(
                select(func.count()).select_from(SynthesisRun).where(SynthesisRun.item_id == item.id)
            )
            if said:
                raise ProgrammeError(M_(
                    "agenda item %(number)s has contributions or syntheses in the record; "
                    "it cannot be deleted",
                    number=item.number,
                ))
            s.query(AgendaItemBallot).filter(AgendaItemBallot.item_id == item.id).delete()
            state = s.get(AgendaState, 1)
            if state is not None and state.item_id == item.id:
                state.item_id, state.revision, state.moved_at = None, state.revision + 1, utcnow()
            s.delete(item)
            audit.record(s, actor, "programme.item_delete", {"ref": ref, "number": item.number})
        self._changed()

    def link_ballot(self, ref: str, ballot_id: int, *, actor: str) -> None:
        with self.db.session() as s:
            item = self._item(s, ref)
            if s.get(Ballot, ballot_id) is None:
                raise ProgrammeError(M_("there is no ballot %(ballot)s", ballot=ballot_id))
            link = s.get(AgendaItemBallot, ballot_id)
            if link is None:
                s.add(AgendaItemBallot(ballot_id=ballot_id, item_id=item.id))
            else:
                link.item_id = item.id
            audit.record(s, actor, "programme.ballot_link", {"ref": ref, "ballot": ballot_id})
        self._changed()

    def unlink_ballot(self, ref: str, ballot_id: int, *, actor: str) -> None:
        """The ballot no longer belongs to item ``ref`` (it stays, on no item)."""
        with self.db.session() as s:
            item = self._item(s, ref)
            link = s.get(AgendaItemBallot, ballot_id)
            if link is None or link.item_id != item.id:
                raise ProgrammeError(M_("ballot %(ballot)s is not on this agenda item", ballot=ballot_id))
            s.delete(link)
            audit.record(s, actor, "programme.ballot_unlink", {"ref": ref, "ballot": ballot_id})
        self._changed()

    # --- reading ------------------------------------------------------------------------------------

    @staticmethod
    def _item(s: Session, ref: str) -> AgendaItem:
        item = s.scalar(select(AgendaItem).where(AgendaItem.ref == ref))
        if item is None:
            raise ProgrammeError(M_("there is no such agenda item"))
        return item

    def item(self, ref: str) -> ItemView:
        with self.db.session() as s:
            return _item_view(s, self._item(s, ref))

    def item_of_ballot(self, ballot_id: int) -> ItemView | None:
        """The agenda item the ballot is taken under (None: on no item)."""
        with self.db.session() as s:
            item = s.scalar(select(AgendaItem)
                            .join(AgendaItemBallot, AgendaItemBallot.item_id == AgendaItem.id)
                            .where(AgendaItemBallot.ballot_id == ballot_id))
            return _item_view(s, item) if item is not None else None

    def outline(self) -> list[dict]:
        """Days, their sessions in order, each with its items in number order."""
        with self.db.session() as s:
            days = s.scalars(select(ProgrammeDay).order_by(ProgrammeDay.date)).all()
            sessions = s.scalars(
                select(ProgrammeSession).order_by(ProgrammeSession.position, ProgrammeSession.id)
            ).all()
            items = s.scalars(select(AgendaItem)).all()
            links: dict[int, list[int]] = {}
            for link in s.scalars(select(AgendaItemBallot)):
                links.setdefault(link.item_id, []).append(link.ballot_id)
            out = []
            for day in days:
                entry = {"date": day.date.isoformat(), "title": day.title, "sessions": []}
                for sess in (x for x in sessions if x.day_id == day.id):
                    its = sorted(
                        (i for i in items if i.session_id == sess.id),
                        key=lambda i: (_number_key(i.number), i.position),
                    )
                    entry["sessions"].append(
                        {
                            "code": sess.code,
                            "title": sess.title,
                            "kind": sess.kind.value,
                            "status": sess.status.value,
                            "starts_at": sess.starts_at.isoformat() if sess.starts_at else None,
                            "items": [
                                {
                                    "ref": i.ref,
                                    "number": i.number,
                                    "title": i.title,
                                    "description": i.description,
                                    "ballots": sorted(links.get(i.id, [])),
                                }
                                for i in its
                            ],
                        }
                    )
                out.append(entry)
            return out

    def now(self) -> dict:
        """What is on the agenda now: ``{"revision", "item"}`` (item None when nothing is)."""
        with self.db.session() as s:
            return self._state(s)

    def _state(self, s: Session) -> dict:
        state = s.get(AgendaState, 1)
        if state is None or state.item_id is None:
            return {"revision": state.revision if state else 0, "item": None}
        item = s.get(AgendaItem, state.item_id)
        view = _item_view(s, item)
        return {
            "revision": state.revision,
            "item": {
                "ref": view.ref,
                "number": view.number,
                "title": view.title,
                "session": view.session_title,
                "session_code": view.session_code,
            },
            "moved_at": state.moved_at.isoformat() if state.moved_at else None,
        }

    # --- now on the agenda --------------------------------------------------------------------------

    def move(self, ref: str | None, *, revision: int, actor: str) -> dict:
        """Put item ``ref`` (or nothing) on the agenda, if it is still at ``revision``."""
        with self.db.session() as s:
            item_id = self._item(s, ref).id if ref else None
            if s.get(AgendaState, 1) is None:  # the migration creates it; two first movers must not both
                from sqlalchemy.dialects.postgresql import insert as pg_insert
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                ins = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
                s.execute(ins(AgendaState).values(id=1, revision=0, moved_by="").on_conflict_do_nothing())
            done = s.execute(
                update(AgendaState)
                .where(AgendaState.id == 1, AgendaState.revision == revision)
                .values(item_id=item_id, revision=AgendaState.revision + 1, moved_at=utcnow(), moved_by=actor)
            )
            if done.rowcount != 1:
                s.rollback()
                raise AgendaConflict(self._state(s))
            audit.record(s, actor, "programme.agenda_move", {"ref": ref, "revision": revision + 1})
            s.flush()
            state = self._state(s)
        self.publish("agenda", state)
        return state

    def _changed(self) -> None:
        self.publish("agenda", self.now())

    # --- sessions -----------------------------------------------------------------------------------

    def set_status(self, s: Session, code: str, status: SessionStatus) -> ProgrammeSession:
        sess = s.scalar(select(ProgrammeSession).where(ProgrammeSession.code == code))
        if sess is None:
            raise ProgrammeError(M_("there is no session '%(code)s'", code=code))
        sess.status = status
        if status is SessionStatus.OPEN:
            sess.opened_at = utcnow()
        elif status is SessionStatus.CLOSED:
            sess.closed_at = utcnow()
        return sess

"""Tables of the programme area: days, sessions, numbered agenda items, what is on the agenda now,
leave of absence and the roll call taken when a session opens.

Registered on :class:`controller.storage.database.Base` and listed in
:data:`controller.storage.migrate.TABLE_MODULES`.

* ``agenda_items.ref`` is the item's public reference (random; QR codes and the portal use it), the
  numeric ``id`` never leaves the controller.
* ``agenda_state`` is one row: the item now on the agenda and a ``revision`` that every move must name,
  so two chairs moving at once cannot overwrite each other unseen (the second is told and shown the
  new state).
* A roll call (``session_rollcalls`` + one ``session_rollcall_entries`` row per summoned delegate) is a
  snapshot: it does not change when delegates come and go afterwards.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import controller.storage.tables
import controller.voting.tables  # noqa: F401  (ballots, which agenda items carry)
from controller.storage.database import Base, UTCDateTime, enum_column, utcnow


class SessionKind(enum.StrEnum):
    PREPARATORY = "preparatory"
    OFFICIAL = "official"
    OTHER = "other"


class SessionStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class RollCallStatus(enum.StrEnum):
    PRESENT = "present"
    EXCUSED = "excused"  # absent with leave
    ABSENT = "absent"  # absent without leave


class ProgrammeDay(Base):
    __tablename__ = "programme_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")


class ProgrammeSession(Base):
    __tablename__ = "programme_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. "S1", named in import files
    day_id: Mapped[int] = mapped_column(ForeignKey("programme_days.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind), default=SessionKind.OFFICIAL)
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus), default=SessionStatus.PLANNED)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AgendaItem(Base):
    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # "3", "3.1": unique in the congress
    session_id: Mapped[int] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgendaItemBallot(Base):
    """A ballot taken under an agenda item (a ballot belongs to at most one item)."""

    __tablename__ = "agenda_item_ballots"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="RESTRICT"), index=True)


class AgendaState(Base):
    """The single row saying what is on the agenda now (``id`` is always 1)."""

    __tablename__ = "agenda_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL"), nullable=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=0)
    moved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    moved_by: Mapped[str] = mapped_column(String(128), default="")


class LeaveOfAbsence(Base):
    """A delegate excused from one session (or, with no session, from the whole congress)."""

    __tablename__ = "leaves_of_absence"
    __table_args__ = (UniqueConstraint("delegate_id", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE"), nullable=True
    )
    reason: Mapped[str] = mapped_column(String(300), default="")
    recorded_by: Mapped[str] = mapped_column(String(128), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SessionRollCall(Base):
    """The roll call taken when a session opened: the counts, and one entry per summoned delegate."""

    __tablename__ = "session_rollcalls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE"), index=True
    )
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    summoned: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer)
    excused: Mapped[int] = mapped_column(Integer)
    absent: Mapped[int] = mapped_column(Integer)
    quorum_required: Mapped[int] = mapped_column(Integer)


class SessionRollCallEntry(Base):
    __tablename__ = "session_rollcall_entries"

    rollcall_id: Mapped[int] = mapped_column(
        ForeignKey("session_rollcalls.id", ondelete="CASCADE"), primary_key=True
    )
    delegate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[RollCallStatus] = mapped_column(enum_column(RollCallStatus))
    #: The satellite site the delegate attended when the roll call was taken (None: the central venue),
    #: so the snapshot's per-site counts do not move if the roster changes later.
    site: Mapped[str | None] = mapped_column(String(64), nullable=True)

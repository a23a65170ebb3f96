"""The delegates' portal tables: sign-in (PINs, sessions, seat-bound tablets), attendance answers,
profile requests.

A delegate signs in with their badge (the QR token or the sign-in code printed for them) and a PIN.
The database keeps only hashes: the PIN's Argon2 hash, the SHA-256 of a session's cookie token and of
a bound tablet's device token. PIN failures are counted on the delegate's row and only ever *delay*
the next attempt (see :mod:`controller.portal.signin`); nothing here locks a delegate out.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from controller.storage.database import Base, UTCDateTime, enum_column, utcnow


class PortalPin(Base):
    """A delegate's portal PIN (Argon2 hash) and the state of the per-badge guessing delay."""

    __tablename__ = "portal_pins"

    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Wrong PINs since the last good sign-in; each past the free ones doubles the delay.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: No PIN is checked for this badge before this time (a delay, never a lock).
    next_try_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PortalDevice(Base):
    """A venue tablet bound to a seat by staff; its browser holds a device token (SHA-256 here)."""

    __tablename__ = "portal_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seat: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    #: SHA-256 of the device token; empty until the tablet has been paired with its one-time code.
    token_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    #: SHA-256 of the one-time pairing code staff type on the tablet; cleared once paired.
    pair_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    paired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PortalSession(Base):
    """A signed-in delegate device; the cookie holds a random token whose SHA-256 is ``id``.

    ``public_id`` names the session on the staff page (revoke) without revealing the token."""

    __tablename__ = "portal_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_devices.id", ondelete="SET NULL"), nullable=True, index=True
    )
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by sign-out or by staff revocation; a revoked session is refused on its next request.
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[str] = mapped_column(String(64), default="")


# --- attendance confirmation and profile (slice 2: controller.portal.attendance, .profile) ---------


class AttendanceAnswer(enum.StrEnum):
    """A delegate's answer to the invitation, before the congress."""

    ATTENDING = "attending"
    ABSENT = "absent"


class AttendanceReply(Base):
    """A delegate's latest answer to the invitation (the roll call and quorum pages show it)."""

    __tablename__ = "portal_attendance"

    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), primary_key=True)
    answer: Mapped[AttendanceAnswer] = mapped_column(enum_column(AttendanceAnswer))
    reason: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RequestStatus(enum.StrEnum):
    """Where a delegate's request stands (corrections; the feedback of later slices too)."""

    OPEN = "open"
    DONE = "done"
    DECLINED = "declined"


class CorrectionRequest(Base):
    """A delegate asks the organisers to correct their data (name, delegation, seat...)."""

    __tablename__ = "portal_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), default=RequestStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by: Mapped[str] = mapped_column(String(64), default="")
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsentWithdrawal(Base):
    """When a delegate withdrew their consent to face recognition from the app (badge only since)."""

    __tablename__ = "portal_consent_withdrawals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    photos_deleted: Mapped[int] = mapped_column(Integer, default=0)


# --- notices (controller.portal.notices) -------------------------------------------------------------


class Audience(enum.StrEnum):
    """Who a notice is for."""

    ALL = "all"
    DELEGATION = "delegation"
    GROUP = "group"  # a named group of the documents area (the presidium, a committee)


class Notice(Base):
    """A notice from the organisers: programme changes, session times, urgent messages."""

    __tablename__ = "portal_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[Audience] = mapped_column(enum_column(Audience))
    #: The delegation or group name (empty for everyone).
    audience_value: Mapped[str] = mapped_column(String(120), default="")
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by: Mapped[str] = mapped_column(String(64), default="")


class NoticeRecipient(Base):
    """One delegate a notice was sent to (fixed when it is sent), and when they read it."""

    __tablename__ = "portal_notice_recipients"
    __table_args__ = (Index("ix_portal_notice_recipients_delegate", "delegate_id", "read_at"),)

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("portal_notices.id", ondelete="CASCADE"), primary_key=True
    )
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- feedback: comments, requests to speak, written contributions, surveys (controller.portal.feedback)


class FeedbackStatus(enum.StrEnum):
    """Where a comment or a contribution stands, as the delegate sees it."""

    RECEIVED = "received"
    READ = "read"  # the secretariat has read it
    TAKEN_UP = "taken_up"  # taken into the next draft or the synthesis
    DECLINED = "declined"


class Comment(Base):
    """A delegate's comment on a draft document, anchored to a page and paragraph of one version."""

    __tablename__ = "portal_comments"
    __table_args__ = (Index("ix_portal_comments_document", "document_ref", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    document_ref: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer)
    paragraph: Mapped[int] = mapped_column(Integer)
    #: The start of the paragraph as the delegate saw it (so the anchor survives re-pagination).
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[FeedbackStatus] = mapped_column(
        enum_column(FeedbackStatus), default=FeedbackStatus.RECEIVED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SpeakStatus(enum.StrEnum):
    WAITING = "waiting"
    SPEAKING = "speaking"
    DONE = "done"
    WITHDRAWN = "withdrawn"


class SpeakRequest(Base):
    """A request to speak on an agenda item; the chair orders the queue (``position``)."""

    __tablename__ = "portal_speak_requests"
    __table_args__ = (Index("ix_portal_speak_item_status", "item_ref", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    item_ref: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[SpeakStatus] = mapped_column(enum_column(SpeakStatus), default=SpeakStatus.WAITING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64), default="")


class Contribution(Base):
    """A written contribution ("speech") for an agenda item: text, or a PDF with its text."""

    __tablename__ = "portal_contributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    item_ref: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    #: The text the synthesis reads: what was typed, or what the PDF's text layer holds.
    text: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[FeedbackStatus] = mapped_column(
        enum_column(FeedbackStatus), default=FeedbackStatus.RECEIVED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Survey(Base):
    """A short survey: one question, a few options, open while ``closed_at`` is empty."""

    __tablename__ = "portal_surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    options: Mapped[list] = mapped_column(JSON)
    item_ref: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SurveyAnswer(Base):
    """One delegate's answer to a survey (they may change it while it is open)."""

    __tablename__ = "portal_survey_answers"

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("portal_surveys.id", ondelete="CASCADE"), primary_key=True
    )
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), primary_key=True)
    choice: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

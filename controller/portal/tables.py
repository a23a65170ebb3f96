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

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
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

"""The controller's shared tables (SQLAlchemy 2 declarative, on :class:`controller.storage.database.Base`).

These are the tables several areas read: accounts, the audit chain, door units, delegates, check-ins.
An area with tables of its own keeps them in ``controller/<area>/tables.py`` (``controller.voting.tables``)
listed in :data:`controller.storage.migrate.TABLE_MODULES`. The schema is created and upgraded by
``congress controller migrate`` (see :mod:`controller.storage.migrate`), never by ``create_all`` at run
time.

Sections: accounts and web sessions, audit chain, door-unit health, delegates and check-ins.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from controller.storage.database import Base, UTCDateTime, enum_column, utcnow

# --- accounts and web sessions (controller.accounts.auth) ---------------------------------------------------


class Role(enum.StrEnum):
    """What an account may do; the permission table is :data:`controller.accounts.auth.PERMISSIONS`."""

    ADMIN = "admin"
    TECHNICIAN = "technician"
    CHAIR = "chair"
    OBSERVER = "observer"


class User(Base):
    """A person who may log in to the controller page."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The pages' language this person chose (``vi``/``en``); ``None``: the device's or the venue's.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)


class WebSession(Base):
    """A logged-in browser; the cookie holds a random token whose SHA-256 is ``id``."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")


class LoginAttempt(Base):
    """One login attempt, kept for the per-account and per-address rate limits."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_name_at", "name", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)


# --- audit chain (controller.audit) ----------------------------------------------------------------


class AuditEntry(Base):
    """One append-only audit row; ``row_hash`` = HMAC(key, canonical row including ``prev_hash``)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row holding the chain's last sequence number and hash (serialises appends);
    ``head_mac`` = HMAC(key, seq and hash), so the head cannot be rewound without the key."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    head_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)


# --- door-unit health (controller.devices.health) ---------------------------------------------------------


class UnitHealth(Base):
    """Latest known state of one door unit, from its signed heartbeats and its retained LWT."""

    __tablename__ = "unit_health"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="")
    uptime_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rss_kb: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    availability_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    boot_id: Mapped[str] = mapped_column(String(64), default="")
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    outbox_depth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    temperature_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    versions: Mapped[dict] = mapped_column(JSON, default=dict)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    alarm: Mapped[str] = mapped_column(String(32), default="")
    alarm_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- delegates, face enrollment, gallery, check-ins (controller.delegates.roster, enrollment, gallery,
# ingest) ---


class EnrollStatus(enum.StrEnum):
    """Where one enrollment photo stands."""

    ENROLLED = "enrolled"
    REJECTED = "rejected"


class Delegate(Base):
    """A delegate from the roster CSV; ``consent`` false means badge-only (no face data is kept)."""

    __tablename__ = "delegates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    delegation: Mapped[str] = mapped_column(String(120), default="", index=True)
    seat: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    summoned: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The satellite site the delegate attends (``controller.sites``); None: the central venue.
    site: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FacePhoto(Base):
    """One enrollment photo: its AES-GCM sealed embedding (``controller.delegates.face_vault``) and
    quality."""

    __tablename__ = "face_photos"
    __table_args__ = (UniqueConstraint("delegate_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[EnrollStatus] = mapped_column(enum_column(EnrollStatus))
    problem: Mapped[str] = mapped_column(String(255), default="")
    face_px: Mapped[int | None] = mapped_column(Integer, nullable=True)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: The face embedder that made ``embedding`` (``congress.faces.embedder.EMBEDDERS``).
    embedder: Mapped[str] = mapped_column(String(32), default="dlib-resnet", server_default="dlib-resnet")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class GalleryState(Base):
    """Single row: the enrollment revision (bumped on every change of face data) and last build."""

    __tablename__ = "gallery_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class GalleryPublication(Base):
    """Which gallery version each door unit was last sent (retained on its gallery topics), in how
    many parts, and the fingerprint of the unit's gallery key it was sealed to (a re-issued unit has a
    new key and gets the gallery again)."""

    __tablename__ = "gallery_publications"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    parts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    key_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckInMethod(enum.StrEnum):
    """How the door unit identified the delegate (``manual``: a staff member, by hand, on the page)."""

    FACE = "face"
    BADGE = "badge"
    BADGE_FACE = "badge+face"
    ATTENDANT = "attendant"
    MANUAL = "manual"


class Passage(enum.StrEnum):
    """Which way the delegate went through the door."""

    IN = "in"
    OUT = "out"


class CheckIn(Base):
    """One signed check-in from a door unit, stored once: unique on (unit_id, boot_id, seq).

    ``event_at`` is the unit's clock at the event (or the arrival time when the unit had none);
    ``digest`` is the SHA-256 of the signed message, telling a redelivery from a conflicting replay.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("unit_id", "boot_id", "seq"),
        Index("ix_checkins_delegate_event", "delegate_id", "event_at"),
        Index("ix_checkins_event_at", "event_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    boot_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    delegate_id: Mapped[str] = mapped_column(String(64))
    passage: Mapped[Passage] = mapped_column(enum_column(Passage))
    method: Mapped[CheckInMethod] = mapped_column(enum_column(CheckInMethod))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    event_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    digest: Mapped[str] = mapped_column(String(64))


class Presence(Base):
    """Whether each delegate is in the hall now: the latest check-in by event order wins."""

    __tablename__ = "presence"

    delegate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    inside: Mapped[bool] = mapped_column(Boolean)
    event_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    checkin_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    unit_id: Mapped[str] = mapped_column(String(64))


# --- attendant lane (controller.checkins.lane) --------------------------------------------------------------


class LaneDecision(Base):
    """A staff member's answer to an attendant check-in (low-confidence face): let in or refuse."""

    __tablename__ = "lane_decisions"

    checkin_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("checkins.id", ondelete="CASCADE"),
        primary_key=True,
    )
    accepted: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Tables of the documents area: documents, their versions, named groups, watermark numbers, opens.

Registered on :class:`controller.storage.database.Base` and listed in
:data:`controller.storage.migrate.TABLE_MODULES`.

* ``documents.ref`` is the public reference (random, 16 characters: ids cannot be guessed or walked);
  the numeric ``id`` never leaves the controller.
* ``document_versions.storage_key`` names the version's files in the copy store; it is NULL for a
  "confidential — paper only" document, which records that the paper exists and never has a file.
* ``watermark_holders`` gives every reader who ever received a copy a small number (the one coded
  in the dots) and keeps who it was, so a leaked page's number leads back to a person.
* ``document_opens`` has one row per copy sent (open, download) and per print the portal reports;
  the audit trail gets a row for every open too.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import controller.programme.tables
import controller.storage.tables  # noqa: F401
from controller.documents.access import Level
from controller.storage.database import Base, UTCDateTime, enum_column, utcnow


class DocumentKind(enum.StrEnum):
    DRAFT = "draft"
    REPORT = "report"
    RESOLUTION = "resolution"
    SPEECH = "speech"
    OTHER = "other"


class OpenKind(enum.StrEnum):
    OPEN = "open"
    PRINT = "print"


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind), default=DocumentKind.OTHER)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    level: Mapped[Level] = mapped_column(enum_column(Level), default=Level.DELEGATES)
    group_name: Mapped[str | None] = mapped_column(
        ForeignKey("access_groups.name", ondelete="RESTRICT"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str] = mapped_column(String(128), default="")


class DocumentVersion(Base):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(1000), default="")
    storage_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(128), default="")


class AccessGroup(Base):
    """A named group a document can be restricted to (the presidium, a committee)."""

    __tablename__ = "access_groups"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")


class AccessGroupMember(Base):
    __tablename__ = "access_group_members"

    group_name: Mapped[str] = mapped_column(
        ForeignKey("access_groups.name", ondelete="CASCADE"), primary_key=True
    )
    delegate_id: Mapped[str] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"), primary_key=True)


class WatermarkHolder(Base):
    """The number coded in a reader's watermark dots, and who that reader is."""

    __tablename__ = "watermark_holders"

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentOpen(Base):
    __tablename__ = "document_opens"
    __table_args__ = (Index("ix_document_opens_version_holder", "version_id", "holder_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"))
    holder_id: Mapped[str] = mapped_column(String(160))
    kind: Mapped[OpenKind] = mapped_column(enum_column(OpenKind), default=OpenKind.OPEN)
    pages: Mapped[int] = mapped_column(Integer, default=0)  # pages printed, for a print
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

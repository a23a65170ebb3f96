"""Tables of the discussion area: what was said on an agenda item, its synthesis runs and draft versions.

Registered on :class:`controller.storage.database.Base` and listed in
:data:`controller.storage.migrate.TABLE_MODULES`.

* ``discussion_inputs`` holds one row per contribution the secretariat entered for an item (a written
  contribution uploaded by staff, a speech transcript): the extracted text exactly as the synthesis
  reads it (quotes are offsets into it), the place map back into the file (``segments``, JSON) and
  what the import found (``notes``, JSON). The speaker's name and delegation are kept as they were at
  entry, so the record stays readable if the roster changes. Withdrawn inputs stay for the record and
  take part in no later run.
* ``synthesis_runs`` is one run of the synthesis over the item's inputs as they were when it started:
  its state (``queued``, ``running``, ``done``, ``failed``, ``cancelled``), progress, and when done the
  whole result (themes, counts, quotes, draft, every input's intake status) as JSON. The checkpoint a
  running job resumes from lives in a file beside the database (``<data_dir>/synthesis/``).
* ``synthesis_drafts`` are the versions of a run's draft: version 1 is the engine's, every edit the
  secretariat saves is the next one; the approved version names the document it became.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import controller.programme.tables
import controller.storage.tables  # noqa: F401
from controller.storage.database import Base, UTCDateTime, enum_column, utcnow


class InputKind(enum.StrEnum):
    """Where an input comes from (the same values as the synthesis' source kinds)."""

    WRITTEN = "written"
    TRANSCRIPT = "transcript"
    COMMENT = "comment"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DiscussionInput(Base):
    __tablename__ = "discussion_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="RESTRICT"), index=True)
    delegate_id: Mapped[str | None] = mapped_column(
        ForeignKey("delegates.id", ondelete="SET NULL"), nullable=True, index=True
    )
    speaker: Mapped[str] = mapped_column(String(200), default="")
    delegation: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[InputKind] = mapped_column(enum_column(InputKind), default=InputKind.WRITTEN)
    filename: Mapped[str] = mapped_column(String(255), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[str] = mapped_column(Text, default="[]")
    notes: Mapped[str] = mapped_column(Text, default="[]")
    words: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str] = mapped_column(String(128), default="")


class SynthesisRun(Base):
    __tablename__ = "synthesis_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="RESTRICT"), index=True)
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus), default=RunStatus.QUEUED, index=True)
    step: Mapped[str] = mapped_column(String(16), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    inputs: Mapped[int] = mapped_column(Integer, default=0)
    threshold: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    resumed: Mapped[int] = mapped_column(Integer, default=0)  # times it went on from a checkpoint
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SynthesisDraft(Base):
    __tablename__ = "synthesis_drafts"
    __table_args__ = (UniqueConstraint("run_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("synthesis_runs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(500), default="")
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str] = mapped_column(String(128), default="")
    document_ref: Mapped[str | None] = mapped_column(String(24), nullable=True)

"""The discussion of each agenda item: inputs entered by the secretariat, synthesis runs, draft versions.

Every change is in the audit trail. Inputs are read with :mod:`controller.synthesis.sources` (text in any
of the encodings the intake knows, PDF with a text layer, SRT, WebVTT); what the engine reads is stored,
so a quote's offsets always point into the stored text. A run takes the item's inputs as they are when
it starts (later inputs need a new run), and is carried out by :class:`controller.discussion.runner.
SynthesisRunner`. The approved draft version becomes a PDF document of the agenda item through the
documents library, visible to delegates, and so reaches the portal and the congress record.

Errors are :class:`DiscussionError` with a translatable :class:`congress.i18n.Message` (``text``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from congress.errors import CongressError
from congress.i18n import M_, Message
from controller import audit
from controller.discussion.tables import DiscussionInput, InputKind, RunStatus, SynthesisDraft, SynthesisRun
from controller.programme.agenda import new_ref
from controller.programme.tables import AgendaItem
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate

log = logging.getLogger(__name__)

MAX_INPUT_BYTES = 30 * 1024 * 1024  # a long PDF transcript fits; the intake refuses over-long texts
MAX_DRAFT_CHARS = 200_000
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class DiscussionError(CongressError):
    """A change was refused; ``text`` says why in the reader's language."""

    def __init__(self, text: Message) -> None:
        super().__init__(str(text))
        self.text = text


@dataclass(frozen=True)
class InputView:
    ref: str
    item_ref: str
    delegate_id: str | None
    speaker: str
    delegation: str
    kind: str
    filename: str
    words: int
    notes: tuple[str, ...]
    created_at: dt.datetime
    created_by: str
    withdrawn: bool
    text: str = ""
    segments: tuple[dict, ...] = ()


@dataclass(frozen=True)
class RunView:
    ref: str
    item_ref: str
    status: str
    step: str
    done: int
    total: int
    inputs: int
    error: str
    resumed: int
    cancel_requested: bool
    created_at: dt.datetime
    created_by: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.status in (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


@dataclass(frozen=True)
class DraftView:
    number: int
    text: str
    note: str
    author: str
    created_at: dt.datetime
    approved_at: dt.datetime | None
    approved_by: str
    document_ref: str | None


def _input_view(item_ref: str, row: DiscussionInput, *, with_text: bool = False) -> InputView:
    return InputView(
        ref=row.ref,
        item_ref=item_ref,
        delegate_id=row.delegate_id,
        speaker=row.speaker,
        delegation=row.delegation,
        kind=row.kind.value,
        filename=row.filename,
        words=row.words,
        notes=tuple(json.loads(row.notes or "[]")),
        created_at=row.created_at,
        created_by=row.created_by,
        withdrawn=row.withdrawn_at is not None,
        text=row.text if with_text else "",
        segments=tuple(json.loads(row.segments or "[]")) if with_text else (),
    )


def _run_view(item_ref: str, r: SynthesisRun) -> RunView:
    return RunView(
        ref=r.ref,
        item_ref=item_ref,
        status=r.status.value,
        step=r.step,
        done=r.done,
        total=r.total,
        inputs=r.inputs,
        error=r.error,
        resumed=r.resumed,
        cancel_requested=r.cancel_requested,
        created_at=r.created_at,
        created_by=r.created_by,
        started_at=r.started_at,
        finished_at=r.finished_at,
    )


def _draft_view(d: SynthesisDraft) -> DraftView:
    return DraftView(
        d.number, d.text, d.note, d.author, d.created_at, d.approved_at, d.approved_by, d.document_ref
    )


class Discussions:
    """The service (one per controller). ``library`` is the documents library approvals add to;
    ``publish`` sends live ``synthesis`` events; ``checkpoints`` is the folder of running jobs' states."""

    def __init__(
        self,
        db: Database,
        *,
        checkpoints: Path,
        library=None,
        publish: Callable[[str, dict], None] | None = None,
        language: str = "vi",
        congress_name: str = "",
    ) -> None:
        self.db = db
        self.checkpoints = Path(checkpoints)
        self.library = library
        self._publish = publish
        self.language = language
        self.congress_name = congress_name
        self.wake: Callable[[], None] = lambda: None  # the runner sets it: a new run was queued
        #: Other areas' inputs for an item: callables ``item_ref -> records`` with ``source_id``, ``kind``
        #: (``written`` or ``comment``), ``delegate_id``, ``name``, ``delegation``, ``text`` and ``anchor``
        #: (the delegates' portal: written contributions and comments on the item's documents).
        self.feeders: list[Callable[[str], Iterable]] = []

    def publish(self, data: dict) -> None:
        if self._publish is not None:
            try:
                self._publish("synthesis", data)
            except Exception:  # the live feed is a convenience; never fail a change over it
                log.exception("could not publish a synthesis event")

    # -- inputs -------------------------------------------------------------------------------------

    @staticmethod
    def _item(s: Session, item_ref: str) -> AgendaItem:
        item = s.scalar(select(AgendaItem).where(AgendaItem.ref == item_ref))
        if item is None:
            raise DiscussionError(M_("there is no such agenda item"))
        return item

    def add_input(
        self,
        item_ref: str,
        *,
        delegate_id: str,
        kind: str = "written",
        data: bytes | None = None,
        text: str | None = None,
        filename: str = "",
        actor: str,
    ) -> str:
        """Enter a contribution or transcript (a file's bytes, or pasted text); returns its reference.

        The file is read now (the format comes from its content); one that cannot be read is still
        stored, with the reason, and the synthesis lists it as unreadable rather than losing it."""
        try:
            kind_enum = InputKind(kind)
        except ValueError:
            raise DiscussionError(M_("unknown kind of contribution %(kind)s", kind=kind[:40])) from None
        if kind_enum is InputKind.COMMENT:
            raise DiscussionError(
                M_("comments on drafts come from the delegates' portal, not from this form")
            )
        if data is None:
            data = (text or "").encode("utf-8")
        if not data.strip():
            raise DiscussionError(M_("the contribution is empty: choose a file or paste its text"))
        if len(data) > MAX_INPUT_BYTES:
            raise DiscussionError(
                M_(
                    "the file is %(mb).1f MB; at most %(max)d MB can be entered as a contribution",
                    mb=len(data) / 1e6,
                    max=MAX_INPUT_BYTES // (1024 * 1024),
                )
            )
        try:
            from controller.synthesis import sources
            from controller.synthesis.records import SourceKind
        except ImportError as exc:
            raise DiscussionError(
                M_(
                    "the synthesis is not installed on this controller (missing %(name)s)",
                    name=exc.name or "?",
                )
            ) from None
        safe_name = Path(filename.replace("\\", "/")).name[:255]
        ref = new_ref()
        with self.db.session() as s:
            item = self._item(s, item_ref)
            delegate = s.get(Delegate, delegate_id) if delegate_id else None
            if delegate is None:
                raise DiscussionError(M_("choose the delegate who wrote or gave this contribution"))
            c = sources.from_bytes(
                data,
                delegate_id=delegate.id,
                delegation=delegate.delegation or "",
                source_kind=SourceKind(kind_enum.value),
                source_id=ref,
                filename=safe_name,
            )
            stored_kind = InputKind(c.source_kind.value)
            row = DiscussionInput(
                ref=ref,
                item_id=item.id,
                delegate_id=delegate.id,
                speaker=delegate.name,
                delegation=delegate.delegation or "",
                kind=stored_kind,
                filename=safe_name,
                text=c.text,
                segments=json.dumps([seg.__dict__ for seg in c.segments], ensure_ascii=False),
                notes=json.dumps(list(c.notes), ensure_ascii=False),
                words=len(c.text.split()),
                created_by=actor,
            )
            s.add(row)
            audit.record(
                s,
                actor,
                "discussion.input_add",
                {
                    "ref": ref,
                    "item": item.number,
                    "delegate": delegate.id,
                    "kind": stored_kind.value,
                    "file": safe_name,
                    "bytes": len(data),
                    "words": row.words,
                },
            )
        self.publish({"item": item_ref, "change": "input"})
        return ref

    def withdraw_input(self, ref: str, *, actor: str) -> None:
        """Withdraw an input: it takes part in no later run; it stays in the record."""
        with self.db.session() as s:
            row = s.scalar(select(DiscussionInput).where(DiscussionInput.ref == ref))
            if row is None:
                raise DiscussionError(M_("there is no such contribution"))
            if row.withdrawn_at is not None:
                return
            row.withdrawn_at, row.withdrawn_by = utcnow(), actor
            item_ref = s.get(AgendaItem, row.item_id).ref
            audit.record(s, actor, "discussion.input_withdraw", {"ref": ref})
        self.publish({"item": item_ref, "change": "input"})

    def inputs(self, item_ref: str) -> list[InputView]:
        with self.db.session() as s:
            item = self._item(s, item_ref)
            rows = s.scalars(
                select(DiscussionInput).where(DiscussionInput.item_id == item.id).order_by(DiscussionInput.id)
            )
            return [_input_view(item_ref, r) for r in rows]

    def input(self, ref: str) -> InputView:
        """One input with its whole text (the source a quote links to)."""
        with self.db.session() as s:
            row = s.scalar(select(DiscussionInput).where(DiscussionInput.ref == ref))
            if row is None:
                raise DiscussionError(M_("there is no such contribution"))
            return _input_view(s.get(AgendaItem, row.item_id).ref, row, with_text=True)

    def fed(self, item_ref: str) -> list:
        """The records other areas hold for the item (see :attr:`feeders`), in their order."""
        out: list = []
        for feed in self.feeders:
            out.extend(feed(item_ref))
        return out

    def fed_record(self, item_ref: str, source_id: str):
        """One fed record by its source id, or None."""
        return next((r for r in self.fed(item_ref) if r.source_id == source_id), None)

    @staticmethod
    def place_of(record) -> str:
        """Where a fed comment points in its document (``page 3, ¶ 2``), empty for other records."""
        anchor = getattr(record, "anchor", None) or {}
        if anchor.get("page") is None:
            return ""
        return f"page {anchor['page']}, ¶ {anchor.get('paragraph', '?')}"

    def contributions(self, item_id: int) -> list:
        """The item's current inputs as synthesis records (what a new run reads): those entered here,
        then what the feeders hold (the delegates' portal)."""
        from controller.synthesis.records import Contribution, Segment, SourceKind

        with self.db.session() as s:
            item_ref = s.get(AgendaItem, item_id).ref
            rows = s.scalars(
                select(DiscussionInput)
                .where(DiscussionInput.item_id == item_id, DiscussionInput.withdrawn_at.is_(None))
                .order_by(DiscussionInput.id)
            ).all()
            own = [
                Contribution(
                    delegate_id=r.delegate_id or f"({r.speaker})",
                    delegation=r.delegation,
                    source_kind=SourceKind(r.kind.value),
                    source_id=r.ref,
                    text=r.text,
                    segments=tuple(Segment(**seg) for seg in json.loads(r.segments or "[]")),
                    notes=tuple(json.loads(r.notes or "[]")),
                )
                for r in rows
            ]
        fed = []
        for r in self.fed(item_ref):
            place = self.place_of(r)
            fed.append(
                Contribution(
                    delegate_id=r.delegate_id,
                    delegation=r.delegation or "",
                    source_kind=SourceKind.COMMENT if r.kind == "comment" else SourceKind.WRITTEN,
                    source_id=r.source_id,
                    text=r.text,
                    segments=(Segment(0, len(r.text), place, 0, len(r.text)),) if place and r.text else (),
                )
            )
        return own + fed

    # -- runs ---------------------------------------------------------------------------------------

    def start_run(self, item_ref: str, *, actor: str) -> str:
        """Queue a run over the item's current inputs; refused while another run of it is active."""
        ref = new_ref()
        with self.db.session() as s:
            self._item(s, item_ref)  # an unknown item is refused before any feeder is asked
        fed = len(self.fed(item_ref))
        with self.db.session() as s:
            item = self._item(s, item_ref)
            active = s.scalar(
                select(SynthesisRun.ref).where(
                    SynthesisRun.item_id == item.id, SynthesisRun.status.in_(ACTIVE)
                )
            )
            if active:
                raise DiscussionError(M_("a synthesis of this item is already running; wait or cancel it"))
            count = s.scalar(
                select(func.count())
                .select_from(DiscussionInput)
                .where(DiscussionInput.item_id == item.id, DiscussionInput.withdrawn_at.is_(None))
            )
            count += fed
            if not count:
                raise DiscussionError(M_("this item has no contributions yet: enter some first"))
            s.add(SynthesisRun(ref=ref, item_id=item.id, inputs=count, created_by=actor))
            audit.record(s, actor, "discussion.run_start", {"run": ref, "item": item.number, "inputs": count})
        self.publish({"item": item_ref, "run": ref, "status": RunStatus.QUEUED.value})
        self.wake()
        return ref

    def cancel(self, run_ref: str, *, actor: str) -> None:
        """Ask a queued or running run to stop (at its next unit of work)."""
        with self.db.session() as s:
            run = self._run(s, run_ref)
            if run.status not in ACTIVE:
                raise DiscussionError(M_("this synthesis is not running"))
            run.cancel_requested = True
            if run.status is RunStatus.QUEUED:
                run.status, run.finished_at = RunStatus.CANCELLED, utcnow()
            item_ref = s.get(AgendaItem, run.item_id).ref
            audit.record(s, actor, "discussion.run_cancel", {"run": run_ref})
        self.publish({"item": item_ref, "run": run_ref, "change": "cancel"})

    @staticmethod
    def _run(s: Session, run_ref: str) -> SynthesisRun:
        run = s.scalar(select(SynthesisRun).where(SynthesisRun.ref == run_ref))
        if run is None:
            raise DiscussionError(M_("there is no such synthesis"))
        return run

    def run(self, run_ref: str) -> RunView:
        with self.db.session() as s:
            run = self._run(s, run_ref)
            return _run_view(s.get(AgendaItem, run.item_id).ref, run)

    def runs(self, item_ref: str) -> list[RunView]:
        """The item's runs, newest first."""
        with self.db.session() as s:
            item = self._item(s, item_ref)
            rows = s.scalars(
                select(SynthesisRun).where(SynthesisRun.item_id == item.id).order_by(SynthesisRun.id.desc())
            )
            return [_run_view(item_ref, r) for r in rows]

    def result(self, run_ref: str) -> dict[str, Any] | None:
        """The finished run's synthesis as a dictionary (:func:`controller.synthesis.records.to_dict`)."""
        with self.db.session() as s:
            run = self._run(s, run_ref)
            return json.loads(run.result) if run.result else None

    def overview(self) -> list[dict]:
        """Every agenda item with its number of inputs and its newest run (the area's index page)."""
        from controller.programme.tables import ProgrammeSession

        with self.db.session() as s:
            counts = dict(
                s.execute(
                    select(DiscussionInput.item_id, func.count())
                    .where(DiscussionInput.withdrawn_at.is_(None))
                    .group_by(DiscussionInput.item_id)
                ).all()
            )
            newest: dict[int, SynthesisRun] = {}
            for r in s.scalars(select(SynthesisRun).order_by(SynthesisRun.id)):
                newest[r.item_id] = r
            items = s.execute(
                select(AgendaItem, ProgrammeSession.title).join(
                    ProgrammeSession, ProgrammeSession.id == AgendaItem.session_id
                )
            ).all()
            out = []
            for item, session_title in items:
                run = newest.get(item.id)
                out.append(
                    {
                        "ref": item.ref,
                        "number": item.number,
                        "title": item.title,
                        "session": session_title,
                        "inputs": counts.get(item.id, 0),
                        "run": _run_view(item.ref, run) if run is not None else None,
                    }
                )
        from controller.programme.agenda import _number_key

        return sorted(out, key=lambda d: _number_key(d["number"]))

    # -- the runner's side --------------------------------------------------------------------------

    def recover(self) -> int:
        """At start: runs left ``running`` by a stopped or killed controller go back to the queue
        (they resume from their checkpoint). Returns how many."""
        with self.db.session() as s:
            rows = s.scalars(select(SynthesisRun).where(SynthesisRun.status == RunStatus.RUNNING)).all()
            for r in rows:
                r.status = RunStatus.QUEUED
            return len(rows)

    def next_queued(self) -> tuple[str, int, str] | None:
        """The oldest queued run, marked running: ``(run ref, item id, item label)``."""
        with self.db.session() as s:
            run = s.scalar(
                select(SynthesisRun)
                .where(SynthesisRun.status == RunStatus.QUEUED)
                .order_by(SynthesisRun.id)
                .limit(1)
            )
            if run is None:
                return None
            item = s.get(AgendaItem, run.item_id)
            run.status = RunStatus.RUNNING
            run.started_at = run.started_at or utcnow()
            return run.ref, item.id, f"{item.number}. {item.title}"

    def progress(self, run_ref: str, step: str, done: int, total: int, *, resumed: bool = False) -> bool:
        """Record progress; returns whether a cancel was asked for."""
        with self.db.session() as s:
            run = self._run(s, run_ref)
            run.step, run.done, run.total = step, done, total
            if resumed:
                run.resumed += 1
            item_ref = s.get(AgendaItem, run.item_id).ref
            cancel = run.cancel_requested
        self.publish({"item": item_ref, "run": run_ref, "step": step, "done": done, "total": total})
        return cancel

    def finish(
        self,
        run_ref: str,
        *,
        status: RunStatus,
        result: dict | None = None,
        draft: str = "",
        threshold: float = 0.0,
        error: str = "",
    ) -> None:
        """Record the end of a run; a finished one gets the engine's draft as version 1."""
        with self.db.session() as s:
            run = self._run(s, run_ref)
            run.status, run.finished_at, run.error = status, utcnow(), error[:4000]
            if result is not None:
                run.result = json.dumps(result, ensure_ascii=False)
                run.threshold = threshold
                s.add(SynthesisDraft(run_id=run.id, number=1, text=draft, note="", author="synthesis"))
            item = s.get(AgendaItem, run.item_id)
            detail: dict[str, Any] = {"run": run_ref, "item": item.number, "status": status.value}
            if result is not None:
                detail["themes"] = len(result.get("themes", ()))
            if error:
                detail["error"] = error[:300]
            audit.record(s, "controller", "discussion.run_end", detail)
            item_ref = item.ref
        self.publish({"item": item_ref, "run": run_ref, "status": status.value})

    def requeue(self, run_ref: str) -> None:
        """A run interrupted by a controller stop goes back to the queue (resumed at the next start)."""
        with self.db.session() as s:
            run = self._run(s, run_ref)
            if run.status is RunStatus.RUNNING:
                run.status = RunStatus.QUEUED

    # -- drafts -------------------------------------------------------------------------------------

    def drafts(self, run_ref: str) -> list[DraftView]:
        """The draft's versions, newest first."""
        with self.db.session() as s:
            run = self._run(s, run_ref)
            rows = s.scalars(
                select(SynthesisDraft)
                .where(SynthesisDraft.run_id == run.id)
                .order_by(SynthesisDraft.number.desc())
            )
            return [_draft_view(d) for d in rows]

    def save_draft(self, run_ref: str, text: str, *, note: str = "", actor: str) -> int:
        """Save the secretariat's edit as the next version; returns its number."""
        text = text.replace("\r\n", "\n")
        if not text.strip():
            raise DiscussionError(M_("the draft is empty"))
        if len(text) > MAX_DRAFT_CHARS:
            raise DiscussionError(M_("the draft is longer than %(max)d characters", max=MAX_DRAFT_CHARS))
        with self.db.session() as s:
            run = self._run(s, run_ref)
            if run.status is not RunStatus.DONE:
                raise DiscussionError(M_("this synthesis has not finished"))
            last = (
                s.scalar(select(func.max(SynthesisDraft.number)).where(SynthesisDraft.run_id == run.id)) or 0
            )
            current = s.scalar(
                select(SynthesisDraft).where(SynthesisDraft.run_id == run.id, SynthesisDraft.number == last)
            )
            if current is not None and current.text == text:
                raise DiscussionError(M_("nothing changed since version %(n)d", n=last))
            s.add(
                SynthesisDraft(
                    run_id=run.id, number=last + 1, text=text, note=note.strip()[:500], author=actor
                )
            )
            audit.record(
                s, actor, "discussion.draft_save", {"run": run_ref, "version": last + 1, "chars": len(text)}
            )
            item_ref = s.get(AgendaItem, run.item_id).ref
        self.publish({"item": item_ref, "run": run_ref, "change": "draft"})
        return last + 1

    def approve(self, run_ref: str, number: int, *, actor: str) -> str:
        """Approve draft version ``number``: it becomes a PDF document of the agenda item (for delegates).
        Approving again later adds a new version of that same document. Returns the document's ref."""
        from controller.discussion import pdf
        from controller.documents.access import Level
        from controller.documents.tables import DocumentKind

        if self.library is None:
            raise DiscussionError(M_("the documents library is not available"))
        with self.db.session() as s:
            run = self._run(s, run_ref)
            draft = s.scalar(
                select(SynthesisDraft).where(SynthesisDraft.run_id == run.id, SynthesisDraft.number == number)
            )
            if draft is None:
                raise DiscussionError(M_("there is no version %(n)d of this draft", n=number))
            item = s.get(AgendaItem, run.item_id)
            earlier = s.scalar(
                select(SynthesisDraft.document_ref)
                .join(SynthesisRun, SynthesisRun.id == SynthesisDraft.run_id)
                .where(SynthesisRun.item_id == item.id, SynthesisDraft.document_ref.is_not(None))
                .order_by(SynthesisDraft.approved_at.desc())
                .limit(1)
            )
            text, item_ref, item_number, item_title = draft.text, item.ref, item.number, item.title
        title = self._title(item_number, item_title)
        footer = self._footer(item_number, number, actor)
        data = pdf.render(text, title=title, footer=footer, author=self.congress_name or "Digital Congress")
        filename = f"synthesis-{item_number}-v{number}.pdf"
        if earlier:
            self.library.add_version(
                earlier, data, filename=filename, note=f"synthesis {run_ref} version {number}", actor=actor
            )
            doc_ref = earlier
        else:
            doc_ref = self.library.add(
                title,
                kind=DocumentKind.REPORT,
                level=Level.DELEGATES,
                item_ref=item_ref,
                data=data,
                filename=filename,
                note=f"synthesis {run_ref} version {number}",
                actor=actor,
            )
        with self.db.session() as s:
            run = self._run(s, run_ref)
            draft = s.scalar(
                select(SynthesisDraft).where(SynthesisDraft.run_id == run.id, SynthesisDraft.number == number)
            )
            draft.approved_at, draft.approved_by, draft.document_ref = utcnow(), actor, doc_ref
            audit.record(
                s, actor, "discussion.approve", {"run": run_ref, "version": number, "document": doc_ref}
            )
        self.publish({"item": item_ref, "run": run_ref, "change": "approved"})
        return doc_ref

    def _gettext(self):
        from controller.synthesis.i18n import gettext_for

        return gettext_for(self.language)

    def _title(self, number: str, title: str) -> str:
        return M_(
            "Synthesis of the contributions — item %(number)s. %(title)s", number=number, title=title
        ).translate(self._gettext())

    def _footer(self, number: str, version: int, actor: str) -> str:
        return M_(
            "Item %(number)s · synthesis version %(version)d · approved by %(who)s",
            number=number,
            version=version,
            who=actor.split(":", 1)[-1],
        ).translate(self._gettext())

    def has_inputs(self, s: Session, item_id: int) -> int:
        """How many inputs and runs an agenda item has (the programme refuses to delete it then)."""
        inputs = s.scalar(
            select(func.count()).select_from(DiscussionInput).where(DiscussionInput.item_id == item_id)
        )
        runs = s.scalar(select(func.count()).select_from(SynthesisRun).where(SynthesisRun.item_id == item_id))
        return (inputs or 0) + (runs or 0)

"""Feedback, the two-way channel: comments on drafts, requests to speak, written contributions,
surveys; what organisers read, filter and export. :class:`Feedback` is ``Services.portal.feedback``.

* **Comments** are anchored to a page and paragraph of one version of a document the delegate may
  read (the app lists each page's paragraphs from the PDF's text layer), with the paragraph's opening
  words kept as they were shown, so the anchor survives a new version's page breaks.
* **Requests to speak** on an agenda item form a queue per item: in order of request until the chair
  reorders it; *speaking*, *done* or *withdrawn* take a request out of the queue. Every change is
  published as ``EventKind.SPEAKERS`` so the chair's page follows.
* **Written contributions** ("speeches") for an item: typed text, or a PDF (checked like any
  document upload, :func:`controller.documents.pdfcheck.check_pdf`) whose text layer is kept as
  the text.
* **Surveys**: one question, two to eight options, one answer per delegate (changeable while open).

The synthesis reads contributions and comments through :meth:`Feedback.records` (plain
:class:`FeedbackRecord` values, nothing of this module's tables; see docs/portal.md).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from congress.errors import CongressError
from congress.i18n import M_, Message
from congress.vietnamese import sort_key
from controller import audit
from controller.documents.access import Reader
from controller.documents.library import Library, NotFound
from controller.live import EventKind
from controller.portal.tables import (
    Comment,
    Contribution,
    FeedbackStatus,
    SpeakRequest,
    SpeakStatus,
    Survey,
    SurveyAnswer,
)
from controller.programme.agenda import new_ref
from controller.programme.tables import AgendaItem
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate

MAX_COMMENT, MAX_CONTRIBUTION, MAX_PDF = 5000, 200_000, 20 * 1024 * 1024
QUEUED = (SpeakStatus.WAITING,)


class FeedbackRefused(CongressError):
    def __init__(self, text: Message | str) -> None:
        super().__init__(str(text))
        self.text = text


@dataclass(frozen=True)
class FeedbackRecord:
    """One thing a delegate wrote, as the synthesis reads it (the public API of this module).

    ``kind`` is ``"written"`` (a contribution for the item) or ``"comment"`` (on a document of the
    item); ``source_id`` is stable (``contribution:<ref>``, ``comment:<id>``); ``anchor`` says where a
    comment points (``{"document", "version", "page", "paragraph", "excerpt"}``), else ``None``."""

    source_id: str
    kind: str
    item_ref: str
    delegate_id: str
    name: str
    delegation: str
    text: str
    created_at: dt.datetime
    anchor: dict | None = None


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens Vietnamese correctly), every cell neutralised by the
    controller's one export helper (:mod:`controller.exports`)."""
    from controller.exports import csv_text

    return csv_text(list(header), (list(r) for r in rows)).encode("utf-8")


def _pdf_text(data: bytes) -> tuple[str, int]:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n\n".join((p.extract_text() or "").strip() for p in reader.pages).strip(), len(reader.pages)


class Feedback:
    def __init__(
        self, db: Database, library: Library, publish: Callable[[str, dict], None] | None = None
    ) -> None:
        self.db, self.library = db, library
        self._publish = publish or (lambda kind, data: None)

    # --- comments ------------------------------------------------------------------------------------

    def comment(
        self, reader: Reader, ref: str, *, version: int, page: int, paragraph: int, excerpt: str, text: str
    ) -> int:
        text = (text or "").strip()
        if not text:
            raise FeedbackRefused(M_("the comment is empty"))
        if len(text) > MAX_COMMENT:
            raise FeedbackRefused(M_("the text is too long (at most %(num)d characters)", num=MAX_COMMENT))
        try:
            doc = self.library.get(ref, reader)  # a document the delegate may not read is "not found"
        except NotFound:
            raise FeedbackRefused(M_("there is no such document")) from None
        if version not in {v.number for v in doc.versions} or page < 1 or paragraph < 1:
            raise FeedbackRefused(M_("this place in the document does not exist"))
        with self.db.session() as s:
            c = Comment(
                delegate_id=reader.id,
                document_ref=ref,
                version=version,
                page=page,
                paragraph=paragraph,
                excerpt=(excerpt or "").strip()[:300],
                text=text,
            )
            s.add(c)
            s.flush()
            audit.record(
                s,
                f"delegate:{reader.id}",
                "portal.comment",
                {"comment": c.id, "document": ref, "version": version, "page": page},
            )
            return c.id

    def comments(
        self,
        *,
        document_ref: str | None = None,
        delegation: str | None = None,
        delegate_id: str | None = None,
    ) -> list[dict]:
        with self.db.session() as s:
            q = (
                select(Comment, Delegate.name, Delegate.delegation)
                .join(Delegate, Delegate.id == Comment.delegate_id)
                .order_by(Comment.document_ref, Comment.version, Comment.page, Comment.paragraph, Comment.id)
            )
            if document_ref:
                q = q.where(Comment.document_ref == document_ref)
            if delegation:
                q = q.where(Delegate.delegation == delegation)
            if delegate_id:
                q = q.where(Comment.delegate_id == delegate_id)
            titles = self._titles(s)
            return [
                {
                    "id": c.id,
                    "delegate_id": c.delegate_id,
                    "name": name,
                    "delegation": deleg,
                    "document_ref": c.document_ref,
                    "document": titles.get(c.document_ref, c.document_ref),
                    "version": c.version,
                    "page": c.page,
                    "paragraph": c.paragraph,
                    "excerpt": c.excerpt,
                    "text": c.text,
                    "status": c.status.value,
                    "created_at": c.created_at,
                }
                for c, name, deleg in s.execute(q)
            ]

    @staticmethod
    def _titles(s) -> dict[str, str]:
        from controller.documents.tables import Document

        return dict(s.execute(select(Document.ref, Document.title)).all())

    def set_status(self, what: str, ident: int | str, status: FeedbackStatus, *, actor: str) -> bool:
        table = {"comment": Comment, "contribution": Contribution}[what]
        with self.db.session() as s:
            row = (
                s.get(Comment, ident)
                if table is Comment
                else s.scalar(select(Contribution).where(Contribution.ref == ident))
            )
            if row is None:
                return False
            row.status = status
            audit.record(s, actor, f"portal.{what}_status", {"id": ident, "status": status.value})
            return True

    # --- requests to speak ---------------------------------------------------------------------------

    def _item(self, s, item_ref: str) -> AgendaItem:
        item = s.scalar(select(AgendaItem).where(AgendaItem.ref == item_ref))
        if item is None:
            raise FeedbackRefused(M_("there is no such agenda item"))
        return item

    def request_to_speak(self, delegate_id: str, item_ref: str) -> int:
        with self.db.session() as s:
            self._item(s, item_ref)
            mine = s.scalar(
                select(SpeakRequest).where(
                    SpeakRequest.item_ref == item_ref,
                    SpeakRequest.delegate_id == delegate_id,
                    SpeakRequest.status.in_(QUEUED),
                )
            )
            if mine is not None:
                return mine.id
            last = (
                s.scalar(select(func.max(SpeakRequest.position)).where(SpeakRequest.item_ref == item_ref))
                or 0
            )
            r = SpeakRequest(delegate_id=delegate_id, item_ref=item_ref, position=last + 1)
            s.add(r)
            s.flush()
            audit.record(
                s, f"delegate:{delegate_id}", "portal.speak_request", {"request": r.id, "item": item_ref}
            )
            rid = r.id
        self._speakers(item_ref)
        return rid

    def withdraw_speak(self, delegate_id: str, item_ref: str) -> bool:
        with self.db.session() as s:
            mine = s.scalar(
                select(SpeakRequest).where(
                    SpeakRequest.item_ref == item_ref,
                    SpeakRequest.delegate_id == delegate_id,
                    SpeakRequest.status.in_(QUEUED),
                )
            )
            if mine is None:
                return False
            mine.status, mine.changed_at, mine.changed_by = SpeakStatus.WITHDRAWN, utcnow(), "delegate"
        self._speakers(item_ref)
        return True

    def queue(self, item_ref: str) -> list[dict]:
        """The item's requests: speaking first, then waiting in the chair's order, then the rest."""
        rank = {
            SpeakStatus.SPEAKING: 0,
            SpeakStatus.WAITING: 1,
            SpeakStatus.DONE: 2,
            SpeakStatus.WITHDRAWN: 3,
        }
        with self.db.session() as s:
            rows = s.execute(
                select(SpeakRequest, Delegate.name, Delegate.delegation, Delegate.seat)
                .join(Delegate, Delegate.id == SpeakRequest.delegate_id)
                .where(SpeakRequest.item_ref == item_ref)
            ).all()
        rows.sort(key=lambda r: (rank[r[0].status], r[0].position, r[0].id))
        return [
            {
                "id": r.id,
                "delegate_id": r.delegate_id,
                "name": name,
                "delegation": deleg,
                "seat": seat,
                "status": r.status.value,
                "position": r.position,
                "created_at": r.created_at,
            }
            for r, name, deleg, seat in rows
        ]

    def my_request(self, delegate_id: str, item_ref: str) -> dict | None:
        for r in self.queue(item_ref):
            if r["delegate_id"] == delegate_id and r["status"] in ("waiting", "speaking"):
                waiting = [q for q in self.queue(item_ref) if q["status"] == "waiting"]
                r["place"] = next((i + 1 for i, q in enumerate(waiting) if q["id"] == r["id"]), None)
                return r
        return None

    def reorder(self, item_ref: str, order: list[int], *, actor: str) -> None:
        """The chair's order of the waiting requests (ids first to last; others keep their order)."""
        with self.db.session() as s:
            waiting = {
                r.id: r
                for r in s.scalars(
                    select(SpeakRequest).where(
                        SpeakRequest.item_ref == item_ref, SpeakRequest.status.in_(QUEUED)
                    )
                )
            }
            ordered = [waiting[i] for i in order if i in waiting]
            rest = sorted((r for i, r in waiting.items() if i not in set(order)), key=lambda r: r.position)
            for n, r in enumerate(ordered + rest, 1):
                r.position = n
            audit.record(
                s, actor, "portal.speak_reorder", {"item": item_ref, "order": [r.id for r in ordered]}
            )
        self._speakers(item_ref)

    def move(self, request_id: int, delta: int, *, actor: str) -> None:
        """Move one waiting request up (-1) or down (+1) in its queue."""
        with self.db.session() as s:
            r = s.get(SpeakRequest, request_id)
            if r is None:
                raise FeedbackRefused(M_("there is no such request"))
            item_ref = r.item_ref
        ids = [q["id"] for q in self.queue(item_ref) if q["status"] == "waiting"]
        if request_id in ids:
            i = ids.index(request_id)
            j = max(0, min(len(ids) - 1, i + delta))
            ids.insert(j, ids.pop(i))
            self.reorder(item_ref, ids, actor=actor)

    def set_speaking(self, request_id: int, status: SpeakStatus, *, actor: str) -> str:
        with self.db.session() as s:
            r = s.get(SpeakRequest, request_id)
            if r is None:
                raise FeedbackRefused(M_("there is no such request"))
            if status is SpeakStatus.SPEAKING:  # one speaker at a time: the previous one is done
                for other in s.scalars(
                    select(SpeakRequest).where(
                        SpeakRequest.item_ref == r.item_ref, SpeakRequest.status == SpeakStatus.SPEAKING
                    )
                ):
                    other.status, other.changed_at, other.changed_by = SpeakStatus.DONE, utcnow(), actor[:64]
            r.status, r.changed_at, r.changed_by = status, utcnow(), actor[:64]
            audit.record(s, actor, "portal.speak_status", {"request": request_id, "status": status.value})
            item_ref = r.item_ref
        self._speakers(item_ref)
        return item_ref

    def _speakers(self, item_ref: str) -> None:
        self._publish(EventKind.SPEAKERS, {"item": item_ref, "to": []})

    # --- written contributions -----------------------------------------------------------------------

    def contribute(
        self,
        delegate_id: str,
        item_ref: str,
        *,
        title: str = "",
        text: str = "",
        pdf: bytes | None = None,
        filename: str = "",
    ) -> str:
        text = (text or "").strip()
        pages = None
        if pdf:
            from controller.documents.pdfcheck import REFUSAL_TEXT, DocumentRefused, check_pdf

            try:
                check_pdf(pdf, max_bytes=MAX_PDF)
            except DocumentRefused as exc:
                raise FeedbackRefused(REFUSAL_TEXT[exc.reason]) from None
            extracted, pages = _pdf_text(pdf)
            text = text or extracted
        if not text and not pdf:
            raise FeedbackRefused(M_("the contribution is empty: write it or choose a PDF"))
        if len(text) > MAX_CONTRIBUTION:
            raise FeedbackRefused(
                M_("the text is too long (at most %(num)d characters)", num=MAX_CONTRIBUTION)
            )
        ref = new_ref()
        with self.db.session() as s:
            self._item(s, item_ref)
            s.add(
                Contribution(
                    ref=ref,
                    delegate_id=delegate_id,
                    item_ref=item_ref,
                    title=(title or "").strip()[:200],
                    text=text,
                    filename=filename.replace("\\", "/").rsplit("/", 1)[-1][:255],
                    pdf=pdf or None,
                    pages=pages,
                )
            )
            audit.record(
                s,
                f"delegate:{delegate_id}",
                "portal.contribution",
                {"ref": ref, "item": item_ref, "pdf": bool(pdf), "chars": len(text)},
            )
        return ref

    def contributions(
        self, *, item_ref: str | None = None, delegation: str | None = None, delegate_id: str | None = None
    ) -> list[dict]:
        with self.db.session() as s:
            q = (
                select(Contribution, Delegate.name, Delegate.delegation)
                .join(Delegate, Delegate.id == Contribution.delegate_id)
                .order_by(Contribution.created_at)
            )
            if item_ref:
                q = q.where(Contribution.item_ref == item_ref)
            if delegation:
                q = q.where(Delegate.delegation == delegation)
            if delegate_id:
                q = q.where(Contribution.delegate_id == delegate_id)
            items = {i.ref: f"{i.number}. {i.title}" for i in s.scalars(select(AgendaItem))}
            return [
                {
                    "ref": c.ref,
                    "delegate_id": c.delegate_id,
                    "name": name,
                    "delegation": deleg,
                    "item_ref": c.item_ref,
                    "item": items.get(c.item_ref, c.item_ref),
                    "title": c.title,
                    "text": c.text,
                    "filename": c.filename,
                    "has_pdf": c.pdf is not None,
                    "pages": c.pages,
                    "status": c.status.value,
                    "created_at": c.created_at,
                }
                for c, name, deleg in s.execute(q)
            ]

    def contribution_pdf(self, ref: str) -> tuple[bytes, str] | None:
        with self.db.session() as s:
            c = s.scalar(select(Contribution).where(Contribution.ref == ref))
            return (c.pdf, c.filename or f"{ref}.pdf") if c is not None and c.pdf else None

    # --- surveys -------------------------------------------------------------------------------------

    def create_survey(
        self, question: str, options: list[str], *, item_ref: str | None = None, actor: str
    ) -> int:
        question = (question or "").strip()
        options = [o.strip() for o in options if o and o.strip()]
        if not question or not 2 <= len(options) <= 8 or len(set(options)) != len(options):
            raise FeedbackRefused(M_("a survey needs a question and 2 to 8 different options"))
        with self.db.session() as s:
            sv = Survey(
                question=question[:300],
                options=[o[:200] for o in options],
                item_ref=item_ref or None,
                created_by=actor[:64],
            )
            s.add(sv)
            s.flush()
            audit.record(s, actor, "portal.survey_created", {"survey": sv.id})
            return sv.id

    def close_survey(self, survey_id: int, *, actor: str) -> None:
        with self.db.session() as s:
            sv = s.get(Survey, survey_id)
            if sv is not None and sv.closed_at is None:
                sv.closed_at = utcnow()
                audit.record(s, actor, "portal.survey_closed", {"survey": survey_id})

    def answer_survey(self, delegate_id: str, survey_id: int, choice: int, comment: str = "") -> None:
        with self.db.session() as s:
            sv = s.get(Survey, survey_id)
            if sv is None or sv.closed_at is not None:
                raise FeedbackRefused(M_("this survey is closed"))
            if not 0 <= choice < len(sv.options):
                raise FeedbackRefused(M_("choose one of the options"))
            row = s.get(SurveyAnswer, (survey_id, delegate_id))
            if row is None:
                row = SurveyAnswer(survey_id=survey_id, delegate_id=delegate_id)
                s.add(row)
            row.choice, row.comment, row.answered_at = choice, (comment or "").strip()[:MAX_COMMENT], utcnow()

    def surveys(self, delegate_id: str | None = None) -> list[dict]:
        """Every survey with its counts; with ``delegate_id``, that delegate's own answer too."""
        with self.db.session() as s:
            out = []
            for sv in s.scalars(select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())):
                counts = dict(
                    s.execute(
                        select(SurveyAnswer.choice, func.count())
                        .where(SurveyAnswer.survey_id == sv.id)
                        .group_by(SurveyAnswer.choice)
                    ).all()
                )
                mine = s.get(SurveyAnswer, (sv.id, delegate_id)) if delegate_id else None
                out.append(
                    {
                        "id": sv.id,
                        "question": sv.question,
                        "options": list(sv.options),
                        "item_ref": sv.item_ref,
                        "open": sv.closed_at is None,
                        "counts": [counts.get(i, 0) for i in range(len(sv.options))],
                        "mine": mine.choice if mine else None,
                        "created_at": sv.created_at,
                    }
                )
            return out

    # --- what the synthesis and the organisers read --------------------------------------------------

    def records(self, item_ref: str) -> list[FeedbackRecord]:
        """Everything delegates wrote for agenda item ``item_ref``: its written contributions and the
        comments on its documents, oldest first (the synthesis's input from the portal)."""
        from controller.documents.tables import Document

        with self.db.session() as s:
            item = self._item(s, item_ref)
            docs = set(s.scalars(select(Document.ref).where(Document.item_id == item.id)))
            people = {d.id: d for d in s.scalars(select(Delegate))}
            out = [
                FeedbackRecord(
                    f"contribution:{c.ref}",
                    "written",
                    item_ref,
                    c.delegate_id,
                    people[c.delegate_id].name,
                    people[c.delegate_id].delegation,
                    c.text,
                    c.created_at,
                )
                for c in s.scalars(
                    select(Contribution).where(
                        Contribution.item_ref == item_ref, Contribution.status != FeedbackStatus.DECLINED
                    )
                )
            ]
            if docs:
                out += [
                    FeedbackRecord(
                        f"comment:{c.id}",
                        "comment",
                        item_ref,
                        c.delegate_id,
                        people[c.delegate_id].name,
                        people[c.delegate_id].delegation,
                        c.text,
                        c.created_at,
                        {
                            "document": c.document_ref,
                            "version": c.version,
                            "page": c.page,
                            "paragraph": c.paragraph,
                            "excerpt": c.excerpt,
                        },
                    )
                    for c in s.scalars(
                        select(Comment).where(
                            Comment.document_ref.in_(docs), Comment.status != FeedbackStatus.DECLINED
                        )
                    )
                ]
        return sorted(out, key=lambda r: (r.created_at, r.source_id))

    def delegations(self) -> list[str]:
        with self.db.session() as s:
            return sorted({d for d in s.scalars(select(Delegate.delegation)) if d}, key=sort_key)

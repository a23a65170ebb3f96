"""The document library: documents, versions, access, watermarked copies, QR codes and statistics.

:class:`Library` is the area's service (``Services.documents``). Uploads are checked
(:func:`controller.documents.pdfcheck.check_pdf`) before anything is stored; a "confidential — paper
only" document never takes a file. :meth:`Library.copy` is the one way a document leaves the
controller: it resolves the document for the reader (anything the reader may not read is "not
found", exactly like an unknown reference, so references cannot be probed), assigns the reader a
watermark number once, writes the open (row + audit) and returns that reader's watermarked copy from
the :class:`controller.documents.copies.CopyStore`. There is no path around it: the web views and
the commands call it, the store is never exposed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from congress import document_token
from congress.badge_token import BadgeReason, refused
from congress.errors import CongressError
from congress.i18n import M_, Message
from controller import audit
from controller.documents import qr_sheet, watermark
from controller.documents.access import GUEST, Level, Reader, ReaderKind, may_read
from controller.documents.copies import Copy, CopyStore
from controller.documents.delegate_access import DelegateAccess
from controller.documents.open_log import OpenEntry, OpenLog
from controller.documents.pdfcheck import check_pdf
from controller.documents.tables import (
    AccessGroup,
    AccessGroupMember,
    Document,
    DocumentKind,
    DocumentOpen,
    DocumentVersion,
    OpenKind,
    WatermarkHolder,
)
from controller.programme.agenda import new_ref
from controller.programme.tables import AgendaItem, ProgrammeSession
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate

BAND_TEXT = {
    "vi": {
        "delegate": "Đại biểu {id}",
        "staff": "Cán bộ {id}",
        "guest": "Bản công khai",
        "notice": "Bản cá nhân — không chuyển tiếp",
    },
    "en": {
        "delegate": "Delegate {id}",
        "staff": "Staff {id}",
        "guest": "Public copy",
        "notice": "Personal copy — do not pass on",
    },
}


class DocumentError(CongressError):
    """A document operation was refused. ``text`` is the message for the page (a
    :class:`congress.i18n.Message`, translated there); ``str(exc)`` is English."""

    def __init__(self, text: Message | str, *, hint: str | None = None) -> None:
        super().__init__(str(text), hint=hint)
        self.text = text


class NotFound(DocumentError):
    """No such document for this reader (unknown, withdrawn, or not theirs to read: the same answer)."""

    def __init__(self) -> None:
        super().__init__(M_("there is no such document"))


@dataclass(frozen=True)
class VersionView:
    number: int
    note: str
    pages: int
    size: int
    filename: str
    uploaded_at: dt.datetime
    has_file: bool


@dataclass(frozen=True)
class DocView:
    ref: str
    title: str
    kind: DocumentKind
    level: Level
    group: str | None
    item_ref: str | None
    item_number: str | None
    item_title: str | None
    withdrawn: bool
    versions: tuple[VersionView, ...]

    @property
    def current(self) -> VersionView | None:
        return self.versions[-1] if self.versions else None


_GROUP = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Library:
    """Documents of the congress."""

    def __init__(
        self,
        db: Database,
        store: CopyStore,
        *,
        venue_id: str,
        zone: str,
        signing_key: Ed25519PrivateKey | None,
        portal_url: str,
        max_bytes: int,
        max_pages: int,
        lang: str = "vi",
        publish: Callable[[str, dict], None] | None = None,
        opens: OpenLog | None = None,
    ) -> None:
        self.db, self.store = db, store
        self.venue_id, self.zone, self.key, self.portal_url = venue_id, zone, signing_key, portal_url
        self.max_bytes, self.max_pages, self.lang = max_bytes, max_pages, lang
        self.publish = publish or (lambda kind, data: None)
        self.opens = opens or OpenLog(db)
        self.access = DelegateAccess(db, signing_key.public_key() if signing_key else None, venue_id,
                                     self.groups_of)

    # --- groups ---------------------------------------------------------------------------------------

    def set_group(self, name: str, title: str, members: list[str], *, actor: str) -> None:
        if not _GROUP.match(name):
            raise DocumentError(
                M_("group name '%(name)s': use lower-case letters, digits, - and _", name=name)
            )
        with self.db.session() as s:
            group = s.get(AccessGroup, name) or AccessGroup(name=name)
            group.title = title
            s.add(group)
            s.flush()
            unknown = [m for m in members if s.get(Delegate, m) is None]
            if unknown:
                raise DocumentError(M_("unknown delegate(s): %(ids)s", ids=", ".join(unknown[:5])))
            s.query(AccessGroupMember).filter(AccessGroupMember.group_name == name).delete()
            s.add_all(AccessGroupMember(group_name=name, delegate_id=m) for m in dict.fromkeys(members))
            audit.record(s, actor, "documents.group", {"group": name, "members": len(members)})

    def groups(self) -> list[dict]:
        """Every named group: ``name``, ``title`` and ``members`` (``id`` and ``name``), by name."""
        with self.db.session() as s:
            members: dict[str, list[dict]] = {}
            rows = s.execute(
                select(AccessGroupMember.group_name, Delegate.id, Delegate.name)
                .join(Delegate, Delegate.id == AccessGroupMember.delegate_id)
                .order_by(Delegate.id)
            )
            for group_name, delegate_id, name in rows:
                members.setdefault(group_name, []).append({"id": delegate_id, "name": name})
            return [
                {"name": g.name, "title": g.title, "members": members.get(g.name, [])}
                for g in s.scalars(select(AccessGroup).order_by(AccessGroup.name))
            ]

    def groups_of(self, delegate_id: str) -> frozenset[str]:
        with self.db.session() as s:
            return frozenset(
                s.scalars(
                    select(AccessGroupMember.group_name).where(AccessGroupMember.delegate_id == delegate_id)
                )
            )

    # --- adding -------------------------------------------------------------------------------------

    def _store_version(
        self, s: Session, doc: Document, data: bytes | None, filename: str, note: str, actor: str
    ) -> DocumentVersion:
        number = (
            s.scalar(select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == doc.id))
            or 0
        ) + 1
        version = DocumentVersion(
            document_id=doc.id,
            number=number,
            note=note[:1000],
            filename=(filename or f"{doc.title}.pdf")[:255],
            uploaded_by=actor,
        )
        if doc.level is Level.CONFIDENTIAL:
            if data:
                raise DocumentError(
                    M_("a confidential (paper only) document never stores a file; upload nothing")
                )
        else:
            if not data:
                raise DocumentError(M_("the document needs its PDF file"))
            checked = check_pdf(data, max_bytes=self.max_bytes, max_pages=self.max_pages)
            version.storage_key = secrets.token_hex(16)
            version.pages, version.size = checked.pages, checked.size
            version.sha256 = hashlib.sha256(data).hexdigest()
            self.store.add_version(version.storage_key, data)
        s.add(version)
        s.flush()
        return version

    def add(
        self,
        title: str,
        *,
        kind: DocumentKind = DocumentKind.OTHER,
        level: Level = Level.DELEGATES,
        group: str | None = None,
        item_ref: str | None = None,
        data: bytes | None = None,
        filename: str = "",
        note: str = "",
        actor: str,
    ) -> str:
        """Add a document with its first version; returns its reference."""
        if not title.strip():
            raise DocumentError(M_("a document needs a title"))
        with self.db.session() as s:
            if level is Level.GROUP:
                if not group or s.get(AccessGroup, group) is None:
                    raise DocumentError(M_("there is no group '%(group)s'; create it first", group=group))
            else:
                group = None
            item_id = None
            if item_ref:
                item = s.scalar(select(AgendaItem).where(AgendaItem.ref == item_ref))
                if item is None:
                    raise DocumentError(M_("there is no such agenda item"))
                item_id = item.id
            doc = Document(
                ref=new_ref(),
                title=title.strip()[:500],
                kind=kind,
                level=level,
                group_name=group,
                item_id=item_id,
                created_by=actor,
            )
            s.add(doc)
            s.flush()
            version = self._store_version(s, doc, data, filename, note, actor)
            audit.record(
                s,
                actor,
                "documents.add",
                {
                    "ref": doc.ref,
                    "title": doc.title,
                    "level": level.value,
                    "pages": version.pages,
                    "sha256": version.sha256,
                },
            )
            ref = doc.ref
        self.publish("documents", {"ref": ref, "change": "added"})
        return ref

    def add_version(
        self, ref: str, data: bytes | None, *, filename: str = "", note: str = "", actor: str
    ) -> int:
        """Add the next version (it becomes current; earlier ones stay for the record)."""
        with self.db.session() as s:
            doc = self._doc(s, ref)
            if doc.withdrawn_at is not None:
                raise DocumentError(M_("the document was withdrawn; add a new document instead"))
            version = self._store_version(s, doc, data, filename, note, actor)
            audit.record(s, actor, "documents.version", {"ref": ref, "number": version.number, "note": note})
            number = version.number
        self.publish("documents", {"ref": ref, "change": "version"})
        return number

    def withdraw(self, ref: str, *, actor: str) -> None:
        """Withdraw a document: nobody receives it any more; its record stays."""
        with self.db.session() as s:
            doc = self._doc(s, ref)
            if doc.withdrawn_at is None:
                doc.withdrawn_at, doc.withdrawn_by = utcnow(), actor
                audit.record(s, actor, "documents.withdraw", {"ref": ref})
        self.publish("documents", {"ref": ref, "change": "withdrawn"})

    # --- reading ------------------------------------------------------------------------------------

    @staticmethod
    def _doc(s: Session, ref: str) -> Document:
        doc = s.scalar(select(Document).where(Document.ref == ref))
        if doc is None:
            raise NotFound()
        return doc

    @staticmethod
    def _view(s: Session, doc: Document) -> DocView:
        versions = s.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == doc.id)
            .order_by(DocumentVersion.number)
        ).all()
        item = s.get(AgendaItem, doc.item_id) if doc.item_id else None
        return DocView(
            doc.ref,
            doc.title,
            doc.kind,
            doc.level,
            doc.group_name,
            item.ref if item else None,
            item.number if item else None,
            item.title if item else None,
            doc.withdrawn_at is not None,
            tuple(
                VersionView(
                    v.number, v.note, v.pages, v.size, v.filename, v.uploaded_at, v.storage_key is not None
                )
                for v in versions
            ),
        )

    def _visible(self, doc: Document, reader: Reader) -> bool:
        if doc.withdrawn_at is not None and not reader.secretariat:
            return False
        if doc.level is Level.CONFIDENTIAL:  # listed (it exists, on paper), never readable
            return reader.kind is not ReaderKind.GUEST
        return may_read(reader, doc.level, doc.group_name)

    def documents(self, reader: Reader, *, item_ref: str | None = None) -> list[DocView]:
        """The documents ``reader`` may see, by agenda item number then title."""
        with self.db.session() as s:
            q = select(Document)
            if item_ref:
                q = q.join(AgendaItem, AgendaItem.id == Document.item_id).where(AgendaItem.ref == item_ref)
            docs = [d for d in s.scalars(q) if self._visible(d, reader)]
            views = [self._view(s, d) for d in docs]
        return sorted(views, key=lambda v: (v.item_number is None, v.item_number or "", v.title))

    def get(self, ref: str, reader: Reader) -> DocView:
        with self.db.session() as s:
            doc = s.scalar(select(Document).where(Document.ref == ref))
            if doc is None or not self._visible(doc, reader):
                raise NotFound()
            return self._view(s, doc)

    # --- copies -------------------------------------------------------------------------------------

    def _holder_number(self, reader: Reader) -> int:
        holder_id = reader.holder_id
        for _ in range(3):
            with self.db.session() as s:
                row = s.scalar(select(WatermarkHolder).where(WatermarkHolder.holder_id == holder_id))
                if row is not None:
                    return row.number
                try:
                    row = WatermarkHolder(holder_id=holder_id, name=reader.name)
                    s.add(row)
                    s.flush()
                    return row.number
                except IntegrityError:
                    s.rollback()
        raise DocumentError(M_("could not assign a watermark number"))

    def _band(self, reader: Reader, number: int) -> tuple[watermark.Holder, str]:
        t = BAND_TEXT.get(self.lang, BAND_TEXT["en"])
        if reader.kind is ReaderKind.GUEST:
            who = watermark.Holder(t["guest"], number, t["guest"], "")
        else:
            label = t["delegate" if reader.kind is ReaderKind.DELEGATE else "staff"].format(id=reader.id)
            who = watermark.Holder(reader.name or reader.id, number, label, t["notice"])
        return who, watermark.stamp_time(dt.datetime.now(dt.UTC), self.zone)

    def copy(
        self, reader: Reader, ref: str, version: int | None = None, *, record: bool = True
    ) -> tuple[Copy, str, str]:
        """``reader``'s watermarked copy of ``ref`` (current version, or ``version``).

        Returns the copy, its file name and a copy id (for the ETag). Raises :class:`NotFound` for
        anything the reader may not have; records the open when ``record``.
        """
        with self.db.session() as s:
            doc = s.scalar(select(Document).where(Document.ref == ref))
            if doc is None or doc.withdrawn_at is not None or not may_read(reader, doc.level, doc.group_name):
                raise NotFound()
            q = select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
            q = (
                q.where(DocumentVersion.number == version)
                if version
                else q.order_by(DocumentVersion.number.desc())
            )
            row = s.scalars(q.limit(1)).first()
            if row is None or row.storage_key is None:
                raise NotFound()
            key, vid, number, filename = row.storage_key, row.id, row.number, row.filename
        holder_id = reader.holder_id
        made = self.store.copy(key, holder_id, lambda: self._band(reader, self._holder_number(reader)))
        if record:
            actor = f"{reader.kind.value}:{reader.id or '-'}"
            self.opens.record(OpenEntry(vid, holder_id, actor, {"ref": ref, "version": number}))
        return made, filename, f"{key}:{holder_id}"

    def record_print(self, reader: Reader, ref: str, pages: int) -> None:
        """The portal reports that ``reader`` printed ``pages`` pages of the current version.

        Refused like the copy itself (:class:`NotFound`) for a document the reader may not read;
        ``pages`` must be a whole number from 1 to the version's page count (:class:`DocumentError`).
        """
        with self.db.session() as s:
            doc = s.scalar(select(Document).where(Document.ref == ref))
            if doc is None or doc.withdrawn_at is not None or not may_read(reader, doc.level, doc.group_name):
                raise NotFound()
            row = s.scalars(
                select(DocumentVersion)
                .where(DocumentVersion.document_id == doc.id)
                .order_by(DocumentVersion.number.desc())
                .limit(1)
            ).first()
            if row is None or row.storage_key is None:
                raise NotFound()
            vid, number, total = row.id, row.number, row.pages
        total = max(total, 1)
        if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= total:
            raise DocumentError(
                M_("the number of pages printed must be a whole number from 1 to %(total)s", total=total)
            )
        self.opens.record(
            OpenEntry(
                vid,
                reader.holder_id,
                f"{reader.kind.value}:{reader.id}",
                {"ref": ref, "version": number, "pages": pages},
                kind=OpenKind.PRINT,
                pages=pages,
            )
        )

    # --- statistics ---------------------------------------------------------------------------------

    def stats(self, ref: str) -> dict:
        """Who opened the document (per version), how often, and pages printed and not printed."""
        with self.db.session() as s:
            doc = self._doc(s, ref)
            versions = {
                v.id: v
                for v in s.scalars(select(DocumentVersion).where(DocumentVersion.document_id == doc.id))
            }
            rows = s.execute(
                select(
                    DocumentOpen.version_id,
                    DocumentOpen.holder_id,
                    DocumentOpen.kind,
                    func.count(),
                    func.sum(DocumentOpen.pages),
                    func.min(DocumentOpen.at),
                )
                .where(DocumentOpen.version_id.in_(list(versions)))
                .group_by(DocumentOpen.version_id, DocumentOpen.holder_id, DocumentOpen.kind)
            ).all()
            names = dict(s.execute(select(WatermarkHolder.holder_id, WatermarkHolder.name)).all())
        readers: dict[tuple[int, str], dict] = {}
        for vid, holder, kind, count, pages, first in rows:
            entry = readers.setdefault(
                (vid, holder),
                {
                    "version": versions[vid].number,
                    "holder": holder,
                    "name": names.get(holder, holder),
                    "opens": 0,
                    "printed_pages": 0,
                    "first_open": None,
                },
            )
            if kind is OpenKind.OPEN:
                entry["opens"] += count
                entry["first_open"] = first.isoformat()
            else:
                entry["printed_pages"] += int(pages or 0)
        people = sorted(readers.values(), key=lambda e: (e["version"], e["name"]))
        delivered = sum(versions[vid].pages for (vid, _h), e in readers.items() if e["opens"])
        printed = sum(e["printed_pages"] for e in people)
        return {
            "ref": ref,
            "readers": len({e["holder"] for e in people if e["opens"]}),
            "opens": sum(e["opens"] for e in people),
            "pages_delivered": delivered,
            "pages_printed": printed,
            "pages_not_printed": max(delivered - printed, 0),
            "people": people,
        }

    # --- QR codes -----------------------------------------------------------------------------------

    def qr_text(self, ref: str, version: int) -> str:
        if self.key is None:
            raise DocumentError(M_("the controller signing key is not available"), hint="congress ca init")
        return document_token.qr_text(
            document_token.issue_document(self.key, self.venue_id, ref, version), self.portal_url
        )

    def item_qr_text(self, item_ref: str) -> str:
        if self.key is None:
            raise DocumentError(M_("the controller signing key is not available"), hint="congress ca init")
        return document_token.qr_text(
            document_token.issue_item(self.key, self.venue_id, item_ref), self.portal_url
        )

    def resolve_code(self, text: str, reader: Reader = GUEST) -> dict:
        """What a scanned code points to now: the document (current or superseded) or agenda item."""
        if self.key is None:
            raise DocumentError(M_("the controller signing key is not available"))
        claims = document_token.verify(text, self.key.public_key(), self.venue_id)
        if claims.kind is document_token.Kind.AGENDA_ITEM:
            return {"kind": "item", "ref": claims.ref}
        with self.db.session() as s:
            doc = s.scalar(select(Document).where(Document.ref == claims.ref))
            if doc is None:
                raise refused(BadgeReason.MALFORMED, M_("this code names no document of this congress"))
            latest = s.scalar(
                select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == doc.id)
            )
            title = doc.title
            withdrawn = doc.withdrawn_at is not None
        return {
            "kind": "document",
            "ref": claims.ref,
            "title": title,
            "version": claims.version,
            "current_version": latest,
            "superseded": claims.version < (latest or 0),
            "withdrawn": withdrawn,
        }

    def qr_sheet(self, congress_name: str, gettext: Callable[[str], str] | None = None) -> bytes:
        """The printable QR sheet: every agenda item and every current (non-withdrawn) document, in
        the venue's language (or with ``gettext``: the page's request language)."""
        entries = []
        with self.db.session() as s:
            items = s.execute(
                select(AgendaItem, ProgrammeSession.title).join(
                    ProgrammeSession, ProgrammeSession.id == AgendaItem.session_id
                )
            ).all()
            docs = s.scalars(select(Document).where(Document.withdrawn_at.is_(None))).all()
            by_item: dict[int | None, list[Document]] = {}
            for d in docs:
                by_item.setdefault(d.item_id, []).append(d)
            latest = dict(
                s.execute(
                    select(DocumentVersion.document_id, func.max(DocumentVersion.number)).group_by(
                        DocumentVersion.document_id
                    )
                ).all()
            )
            older: dict[int, list[int]] = {}  # earlier versions with a file, newest first
            for doc_id, number in s.execute(
                select(DocumentVersion.document_id, DocumentVersion.number)
                .where(DocumentVersion.storage_key.is_not(None))
                .order_by(DocumentVersion.number.desc())
            ):
                if number < latest[doc_id]:
                    older.setdefault(doc_id, []).append(number)

            def document_entries(d: Document, heading: str, detail: str) -> list[qr_sheet.Entry]:
                """The current version's code, then each superseded version's, marked as such (a
                code printed earlier still leads to the document, and says which version to use)."""
                now = latest[d.id]
                return [qr_sheet.Entry(heading, detail, self.qr_text(d.ref, now), version=now)] + [
                    qr_sheet.Entry(heading, detail, self.qr_text(d.ref, n), version=n, current_version=now)
                    for n in older.get(d.id, [])
                ]

            for item, session_title in sorted(items, key=lambda r: _sort_number(r[0].number)):
                entries.append(
                    qr_sheet.Entry(f"{item.number}. {item.title}", session_title, self.item_qr_text(item.ref))
                )
                for d in sorted(by_item.get(item.id, []), key=lambda d: d.title):
                    entries += document_entries(d, f"{item.number} · {d.title}", session_title)
            for d in sorted(by_item.get(None, []), key=lambda d: d.title):
                entries += document_entries(d, d.title, "")
        return qr_sheet.render(entries, congress_name=congress_name, lang=self.lang, gettext=gettext)


def _sort_number(number: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-]", number))

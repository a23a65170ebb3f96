"""The delegate roster: import from a CSV file (parsed by :mod:`controller.delegates.roster_csv`), with one
report line per bad row.

CSV columns (header names, any order, case-insensitive; UTF-8, a byte-order mark is tolerated; ``,`` or
``;`` as separator):

``id`` (required), ``name`` (required), ``delegation``, ``seat``, ``photo`` (paths relative to the CSV;
several separated by ``|``), ``consent`` (yes/no: may the delegate's face be used; empty = no, which
means badge-only), ``summoned`` (yes/no, empty = yes: counts for the quorum).

A bad row (missing or malformed id, duplicate id, bad or taken seat, missing or unreadable photo, an
unknown yes/no value) is reported with its row number (the line in the file) and skipped; every good row
is imported (inserted or updated) and, for delegates who consented, their photos are enrolled through
:class:`controller.delegates.enrollment.Enroller`, whose quality complaints come back as per-row warnings. A
delegate re-imported with ``consent=no`` loses any face data kept for them.

Wired by ``congress controller delegates import`` and the controller page's upload form; both pass a
:class:`controller.storage.database.Database` and an :class:`Enroller` (it loads the face engine only when
a row
has a photo to enroll).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from congress.errors import CongressError
from congress.i18n import M_
from controller.delegates.roster_csv import (
    COLUMNS,
    PHOTO_REFUSED,
    RosterError,
    RosterRow,
    RowProblem,
    parse_roster,
)
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate

if TYPE_CHECKING:
    from controller.delegates.enrollment import Enroller

__all__ = ["COLUMNS", "ImportReport", "RosterError", "RowProblem", "import_roster", "list_delegates",
           "parse_roster", "set_summoned"]

#: progress(done, total, label) — called after each row; the CLI draws a bar, the page polls it.
Progress = Callable[[int, int, str], None]


@dataclass
class ImportReport:
    """What an import did: counts, the rejected rows (``errors``) and enrollment ``warnings``."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    photos_enrolled: int = 0
    badge_only: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "imported": self.inserted + self.updated,
            "inserted": self.inserted,
            "updated": self.updated,
            "photos_enrolled": self.photos_enrolled,
            "badge_only": self.badge_only,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }

    @property
    def imported(self) -> int:
        return self.inserted + self.updated


def import_roster(
    db: Database,
    path: str | Path,
    *,
    enroller: Enroller,
    progress: Progress | None = None,
    actor: str = "cli",
    shown: str | None = None,
    photo_root: Path | None = None,
) -> ImportReport:
    """Import ``path`` into the delegates table; enroll consenting delegates' photos with ``enroller``.

    Each row is committed on its own, so one bad photo never loses the rows before it. The enroller
    loads the face engine only when a row actually has a photo to enroll. ``shown`` is the file's name
    as the person knows it (an upload's own name), used in messages and the audit log. A web upload
    passes ``photo_root`` (its own folder): photos are read only there, and every refused photo gets
    the same message (:func:`controller.delegates.roster_csv.parse_roster`).
    """
    from controller.delegates.enrollment import PhotoUnreadable

    rows, errors = parse_roster(path, shown=shown, photo_root=photo_root)
    report = ImportReport(rows=len(rows) + len(errors), errors=errors)
    for done, r in enumerate(rows, 1):
        try:
            _import_row(db, r, enroller, report)
        except PhotoUnreadable as exc:
            text = exc.text if photo_root is None else M_(PHOTO_REFUSED, photo=getattr(exc, "photo", "")[:80])
            report.errors.append(RowProblem(r.row, r.id, "photo", text))
        if progress:
            progress(done, len(rows), r.id)
    report.errors.sort(key=lambda p: p.row)
    _audit(db, actor, shown or Path(path).name, report)
    return report


def _import_row(db: Database, r: RosterRow, enroller, report: ImportReport) -> None:
    images = []
    if r.consent and r.photos:
        from controller.delegates.enrollment import PhotoUnreadable

        for p in r.photos:
            data = p.read_bytes()
            # PhotoUnreadable propagates: the row is refused before anything of it is stored.
            try:
                images.append((p.name, data, enroller.check_readable(data, p.name)))
            except PhotoUnreadable as exc:
                exc.photo = p.name
                raise
    with db.session() as s:
        if r.seat is not None:
            holder = s.scalar(select(Delegate.id).where(Delegate.seat == r.seat, Delegate.id != r.id))
            if holder is not None:
                report.errors.append(RowProblem(r.row, r.id, "seat", M_("seat %(seat)s belongs to %(holder)s",
                                                                        seat=r.seat, holder=holder)))
                return
        d = s.get(Delegate, r.id)
        if d is None:
            d = Delegate(id=r.id)
            s.add(d)
            report.inserted += 1
        else:
            report.updated += 1
        d.name, d.delegation, d.seat = r.name, r.delegation, r.seat
        d.consent, d.summoned, d.site, d.updated_at = r.consent, r.summoned, r.site, utcnow()
        s.flush()
        if not r.consent:
            report.badge_only += 1
            enroller.forget(s, r.id)
            if r.photos:
                report.warnings.append(RowProblem(r.row, r.id, "photo",
                                                  M_("ignored: no consent (badge-only)")))
            return
        for name, data, image in images:
            result = enroller.add_photo(s, r.id, data, name, image)
            if result.ok:
                report.photos_enrolled += int(result.new)
            else:
                report.warnings.append(RowProblem(r.row, r.id, "photo", M_(
                    "%(file)s: %(problem)s", file=name, problem=result.advice or result.problem)))


def _audit(db: Database, actor: str, shown: str, report: ImportReport) -> None:
    from controller import audit

    with db.session() as s:
        audit.record(
            s,
            actor,
            "delegates.import",
            {
                "file": shown,
                "inserted": report.inserted,
                "updated": report.updated,
                "rejected_rows": len(report.errors),
                "photos_enrolled": report.photos_enrolled,
            },
        )


def set_summoned(db: Database, delegate_id: str, summoned: bool, *, actor: str) -> None:
    """Mark a delegate as summoned (counts for the quorum) or not; audited."""
    from controller import audit

    with db.session() as s:
        d = s.get(Delegate, delegate_id)
        if d is None:
            raise CongressError(
                f"no delegate {delegate_id!r}", hint="see `congress controller delegates list`"
            )
        d.summoned, d.updated_at = summoned, utcnow()
        audit.record(s, actor, "delegates.summoned", {"delegate": delegate_id, "summoned": summoned})


def list_delegates(db: Database) -> list[dict]:
    """Every delegate with the number of enrolled photos, sorted by delegation and name (Vietnamese
    collation: :func:`congress.vietnamese.sort_key`)."""
    from sqlalchemy import func

    from controller.storage.tables import EnrollStatus, FacePhoto

    with db.session() as s:
        counts = dict(
            s.execute(
                select(FacePhoto.delegate_id, func.count())
                .where(FacePhoto.status == EnrollStatus.ENROLLED)
                .group_by(FacePhoto.delegate_id)
            ).all()
        )
        out = []
        from congress.vietnamese import sort_key

        found = sorted(s.scalars(select(Delegate)),
                       key=lambda d: (sort_key(d.delegation), sort_key(d.name), d.id))
        for d in found:
            out.append(
                {
                    "id": d.id,
                    "name": d.name,
                    "delegation": d.delegation,
                    "seat": d.seat,
                    "consent": d.consent,
                    "summoned": d.summoned,
                    "photos": counts.get(d.id, 0),
                }
            )
        return out


def find_delegates(db: Database, q: str, *, limit: int = 10) -> list[dict]:
    """Delegates whose number, name or delegation contains ``q``, tones and case aside
    (:func:`congress.vietnamese.fold`: "thi binh" finds "Trần Thị Bình"), by name; a delegate whose
    number is ``q`` exactly comes first. At most ``limit``; nothing for fewer than two letters."""
    from congress import vietnamese

    needle = vietnamese.fold(str(q)[:100]).strip()
    if len(needle) < 2:
        return []
    exact, found = [], []
    with db.session() as s:
        for did, name, delegation in s.execute(
                select(Delegate.id, Delegate.name, Delegate.delegation).order_by(Delegate.name, Delegate.id)):
            if needle in vietnamese.fold(f"{did} {name} {delegation or ''}"):
                row = {"id": did, "name": name, "delegation": delegation or ""}
                (exact if vietnamese.fold(did) == needle else found).append(row)
    return (exact + found)[:limit]


# --- the page's changes: preview of an import, edit, delete, one photo -------------------------------

@dataclass(frozen=True)
class Change:
    """What importing one good row would do: ``new``, ``update`` (with the fields) or ``same``."""

    row: int
    id: str
    name: str
    kind: str
    fields: tuple[tuple[str, str, str], ...] = ()  # (field, before, after)
    photos: int = 0


@dataclass
class Preview:
    """An import looked at before it is applied: nothing is written."""

    file: str
    changes: list[Change] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    untouched: int = 0  # delegates already stored that the file does not mention (they stay)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def preview_roster(db: Database, path: str | Path, *, shown: str | None = None,
                   photo_root: Path | None = None) -> Preview:
    """What importing ``path`` would change, row by row; raises :class:`RosterError` like the import."""
    rows, problems = parse_roster(path, shown=shown, photo_root=photo_root)
    out = Preview(file=shown or Path(path).name, problems=problems)
    with db.session() as s:
        stored = {d.id: d for d in s.scalars(select(Delegate))}
        for r in rows:
            d = stored.get(r.id)
            photos = len(r.photos) if r.consent else 0
            if d is None:
                out.changes.append(Change(r.row, r.id, r.name, "new", photos=photos))
                continue
            diffs = tuple(
                (f, _shown(getattr(d, f)), _shown(v))
                for f, v in (("name", r.name), ("delegation", r.delegation), ("seat", r.seat),
                             ("consent", r.consent), ("summoned", r.summoned))
                if getattr(d, f) != v
            )
            kind = "update" if diffs or photos else "same"
            out.changes.append(Change(r.row, r.id, r.name, kind, diffs, photos))
        mentioned = {r.id for r in rows}
        out.untouched = sum(1 for i in stored if i not in mentioned)
    return out


def update_delegate(db: Database, delegate_id: str, *, actor: str, enroller: Enroller | None = None,
                    **changes: object) -> dict:
    """Change a delegate's ``name``, ``delegation``, ``seat``, ``consent`` or ``summoned``; audited.

    The name is stored NFC; a seat already held by another delegate is refused; withdrawing consent
    deletes the face data at once (``enroller`` required then). Returns the fields that changed.
    """
    from congress import vietnamese
    from controller import audit

    allowed = {"name", "delegation", "seat", "consent", "summoned"}
    if set(changes) - allowed:
        raise ValueError(f"unknown delegate field(s): {sorted(set(changes) - allowed)}")
    with db.session() as s:
        d = s.get(Delegate, delegate_id)
        if d is None:
            raise CongressError(str(M_("no delegate %(id)s", id=delegate_id)))
        if "name" in changes:
            name = vietnamese.nfc(str(changes["name"]))
            if not name or len(name) > 200:
                raise CongressError(str(M_("a name of 1-200 characters is needed")))
            changes["name"] = name
        if "delegation" in changes:
            changes["delegation"] = vietnamese.nfc(str(changes["delegation"]))[:120]
        if changes.get("seat"):
            holder = s.scalar(select(Delegate.id).where(Delegate.seat == changes["seat"],
                                                        Delegate.id != d.id))
            if holder is not None:
                raise CongressError(str(M_("seat %(seat)s belongs to %(holder)s", seat=changes["seat"],
                                           holder=holder)))
        elif "seat" in changes:
            changes["seat"] = None
        done = {k: {"from": _shown(getattr(d, k)), "to": _shown(v)} for k, v in changes.items()
                if getattr(d, k) != v}
        for k, v in changes.items():
            setattr(d, k, v)
        if done:
            d.updated_at = utcnow()
            if "consent" in done and not d.consent and enroller is not None:
                enroller.forget(s, d.id)
            audit.record(s, actor, "delegates.edit", {"delegate": d.id, "changes": done})
        return done


def delete_delegate(db: Database, delegate_id: str, *, actor: str, enroller: Enroller) -> None:
    """Remove a delegate and every face record of theirs; audited (their check-ins stay in the log)."""
    from controller import audit

    with db.session() as s:
        d = s.get(Delegate, delegate_id)
        if d is None:
            raise CongressError(str(M_("no delegate %(id)s", id=delegate_id)))
        from controller.storage.tables import Presence

        photos = enroller.forget(s, d.id)
        audit.record(s, actor, "delegates.delete", {"delegate": d.id, "name": d.name, "photos": photos})
        presence = s.get(Presence, d.id)
        if presence is not None:
            s.delete(presence)
        s.delete(d)

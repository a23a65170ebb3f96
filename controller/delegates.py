"""The delegate roster: import from a CSV file, with one report line per bad row.

CSV columns (header names, any order, case-insensitive; UTF-8, a byte-order mark is tolerated; ``,`` or
``;`` as separator):

``id`` (required), ``name`` (required), ``delegation``, ``seat``, ``photo`` (paths relative to the CSV;
several separated by ``|``), ``consent`` (yes/no: may the delegate's face be used; empty = no, which
means badge-only), ``summoned`` (yes/no, empty = yes: counts for the quorum).

A bad row (missing or malformed id, duplicate id, bad or taken seat, missing or unreadable photo, an
unknown yes/no value) is reported with its row number (the line in the file) and skipped; every good row
is imported (inserted or updated) and, for delegates who consented, their photos are enrolled through
:class:`controller.enrollment.Enroller`, whose quality complaints come back as per-row warnings. A
delegate re-imported with ``consent=no`` loses any face data kept for them.

Wired by ``congress controller delegates import`` and the controller page's upload form; both pass a
:class:`controller.db.Database` and, when a row needs it, an :class:`Enroller`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from congress.errors import CongressError
from controller.db import Database, utcnow
from controller.models import Delegate

if TYPE_CHECKING:
    from controller.enrollment import Enroller

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SEAT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,15}$")
COLUMNS = ("id", "name", "delegation", "seat", "photo", "consent", "summoned")
REQUIRED = ("id", "name")
_YES = {"yes", "y", "true", "1", "ja", "oui", "si", "x"}
_NO = {"no", "n", "false", "0", "nein", "non"}

#: progress(done, total, label) — called after each row; the CLI draws a bar, the page polls it.
Progress = Callable[[int, int, str], None]


class RosterError(CongressError):
    """The roster file as a whole cannot be read (not the per-row problems, which are reported)."""


@dataclass(frozen=True)
class RowProblem:
    """One problem with one CSV row; ``row`` is the line number in the file (the header is line 1)."""

    row: int
    delegate_id: str
    field: str
    message: str

    def __str__(self) -> str:
        who = f" ({self.delegate_id})" if self.delegate_id else ""
        return f"row {self.row}{who}: {self.field}: {self.message}"


@dataclass(frozen=True)
class RosterRow:
    """A validated row (photos checked to exist; decoded later)."""

    row: int
    id: str
    name: str
    delegation: str
    seat: str | None
    photos: tuple[Path, ...]
    consent: bool
    summoned: bool


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
            "errors": [p.__dict__ for p in self.errors],
            "warnings": [p.__dict__ for p in self.warnings],
        }


def _flag(value: str, default: bool) -> bool | None:
    v = value.strip().lower()
    if not v:
        return default
    if v in _YES:
        return True
    if v in _NO:
        return False
    return None


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RosterError(f"roster file {path} does not exist") from None
    except OSError as exc:
        raise RosterError(f"cannot read roster file {path}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(
            f"{path}: not UTF-8 text (byte {exc.start})",
            hint="in the spreadsheet, save as 'CSV UTF-8 (comma delimited)'",
        ) from None


def parse_roster(path: str | Path) -> tuple[list[RosterRow], list[RowProblem]]:
    """Validate the roster file; return the good rows and one :class:`RowProblem` per bad row."""
    path = Path(path)
    text = _read_text(path)
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise RosterError(f"{path} is empty", hint="the first line names the columns: id,name,...") from None
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s) " + ", ".join(unknown))
        raise RosterError(f"{path}: {'; '.join(parts)}", hint="columns are: " + ",".join(COLUMNS))
    photo_sep = re.compile(r"[|;]" if delim == "," else r"\|")
    rows: list[RosterRow] = []
    problems: list[RowProblem] = []
    ids: dict[str, int] = {}
    seats: dict[str, int] = {}
    for rec in reader:
        line = reader.line_num
        if not any(c.strip() for c in rec):
            continue
        if len(rec) > len(header):
            problems.append(RowProblem(line, "", "row", f"{len(rec)} fields but {len(header)} columns"))
            continue
        v = dict(zip(header, [c.strip() for c in rec], strict=False))
        did = v.get("id", "")

        def bad(fld: str, msg: str, _line: int = line, _did: str = did) -> None:
            problems.append(RowProblem(_line, _did, fld, msg))

        if not did:
            bad("id", "missing delegate id")
            continue
        if not _ID.match(did):
            bad("id", "must be 1-64 letters, digits, '.', '-' or '_'")
            continue
        if did in ids:
            bad("id", f"duplicate id (first on row {ids[did]})")
            continue
        ids[did] = line
        name = v.get("name", "")
        if not name or len(name) > 200:
            bad("name", "missing name" if not name else "longer than 200 characters")
            continue
        seat = v.get("seat", "") or None
        if seat is not None and not _SEAT.match(seat):
            bad("seat", f"{seat!r} is not a seat label (1-16 letters, digits, '.', '/', '-')")
            continue
        if seat is not None and seat in seats:
            bad("seat", f"seat {seat} is already given to the delegate on row {seats[seat]}")
            continue
        consent = _flag(v.get("consent", ""), False)
        summoned = _flag(v.get("summoned", ""), True)
        if consent is None or summoned is None:
            which = "consent" if consent is None else "summoned"
            bad(which, f"{v.get(which)!r} is not yes or no")
            continue
        photos, photo_error = [], ""
        for item in (p.strip() for p in photo_sep.split(v.get("photo", ""))):
            if not item:
                continue
            p = Path(item) if Path(item).is_absolute() else path.parent / item
            if not p.is_file():
                photo_error = f"photo {item} not found (paths are relative to the CSV file)"
                break
            photos.append(p)
        if photo_error:
            bad("photo", photo_error)
            continue
        if seat is not None:
            seats[seat] = line
        delegation = v.get("delegation", "")[:120]
        rows.append(RosterRow(line, did, name, delegation, seat, tuple(photos), consent, summoned))
    return rows, problems


def import_roster(
    db: Database,
    path: str | Path,
    *,
    enroller: Enroller,
    progress: Progress | None = None,
    actor: str = "cli",
) -> ImportReport:
    """Import ``path`` into the delegates table; enroll consenting delegates' photos with ``enroller``.

    Each row is committed on its own, so one bad photo never loses the rows before it. The enroller
    loads the face engine only when a row actually has a photo to enroll.
    """
    from controller.enrollment import PhotoUnreadable

    rows, errors = parse_roster(path)
    report = ImportReport(rows=len(rows) + len(errors), errors=errors)
    for done, r in enumerate(rows, 1):
        try:
            _import_row(db, r, enroller, report)
        except PhotoUnreadable as exc:
            report.errors.append(RowProblem(r.row, r.id, "photo", str(exc)))
        if progress:
            progress(done, len(rows), r.id)
    report.errors.sort(key=lambda p: p.row)
    _audit(db, actor, Path(path), report)
    return report


def _import_row(db: Database, r: RosterRow, enroller, report: ImportReport) -> None:
    images = []
    if r.consent and r.photos:
        images = [(p.name, p.read_bytes()) for p in r.photos]
        for name, data in images:
            enroller.check_readable(data, name)  # raises PhotoUnreadable: the row is not imported
    with db.session() as s:
        if r.seat is not None:
            holder = s.scalar(select(Delegate.id).where(Delegate.seat == r.seat, Delegate.id != r.id))
            if holder is not None:
                report.errors.append(RowProblem(r.row, r.id, "seat", f"seat {r.seat} belongs to {holder}"))
                return
        d = s.get(Delegate, r.id)
        if d is None:
            d = Delegate(id=r.id)
            s.add(d)
            report.inserted += 1
        else:
            report.updated += 1
        d.name, d.delegation, d.seat = r.name, r.delegation, r.seat
        d.consent, d.summoned, d.updated_at = r.consent, r.summoned, utcnow()
        s.flush()
        if not r.consent:
            report.badge_only += 1
            enroller.forget(s, r.id)
            if r.photos:
                report.warnings.append(RowProblem(r.row, r.id, "photo", "ignored: no consent (badge-only)"))
            return
        for name, data in images:
            result = enroller.add_photo(s, r.id, data, name)
            if result.ok:
                report.photos_enrolled += int(result.new)
            else:
                report.warnings.append(RowProblem(r.row, r.id, "photo", f"{name}: {result.problem}"))


def _audit(db: Database, actor: str, path: Path, report: ImportReport) -> None:
    from controller import audit

    with db.session() as s:
        audit.record(
            s,
            actor,
            "delegates.import",
            {
                "file": path.name,
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
    """Every delegate with the number of enrolled photos, sorted by delegation and name."""
    from sqlalchemy import func

    from controller.models import EnrollStatus, FacePhoto

    with db.session() as s:
        counts = dict(
            s.execute(
                select(FacePhoto.delegate_id, func.count())
                .where(FacePhoto.status == EnrollStatus.ENROLLED)
                .group_by(FacePhoto.delegate_id)
            ).all()
        )
        out = []
        for d in s.scalars(select(Delegate).order_by(Delegate.delegation, Delegate.name)):
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

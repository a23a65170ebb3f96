"""The roster CSV: reading and validating it row by row (no database, no photos decoded).

Columns, encodings and the row rules are described in :mod:`controller.delegates.roster` and
docs/delegates.md. :func:`parse_roster` returns the good rows and one :class:`RowProblem` per bad row
(row number = line in the file, header = line 1); only a file that cannot be read at all, or whose
header lacks or misnames columns, raises :class:`RosterError`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from congress.errors import CongressError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")  # a site id (congress ca issue-site)
_SEAT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,15}$")
COLUMNS = ("id", "name", "delegation", "seat", "photo", "consent", "summoned", "site")
REQUIRED = ("id", "name")
_YES = {"yes", "y", "true", "1", "ja", "oui", "si", "x"}
_NO = {"no", "n", "false", "0", "nein", "non"}


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
    site: str | None = None  # the satellite site the delegate attends (None: the central venue)


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
        site = v.get("site", "") or None
        if site is not None and not _SITE.match(site):
            bad("site", f"{site!r} is not a site id (1-63 letters, digits, '-' or '_')")
            continue
        if seat is not None:
            seats[seat] = line
        delegation = v.get("delegation", "")[:120]
        rows.append(RosterRow(line, did, name, delegation, seat, tuple(photos), consent, summoned, site))
    return rows, problems

"""The roster file: reading and validating it row by row (no database, no photos decoded).

Columns and the row rules are described in :mod:`controller.delegates.roster` and docs/delegates.md.
The file is a CSV (UTF-8, with or without the byte-order mark Excel writes; ``,`` or ``;``) or an Excel
workbook (``.xlsx``, first sheet). Vietnamese text is made NFC; a file typed in the legacy TCVN3 or VNI
fonts, or UTF-8 that went through Windows-1252, is converted as a whole (:mod:`congress.vietnamese`);
one that mixes encodings is refused with what to do. :func:`parse_roster` returns the good rows and
one :class:`RowProblem` per bad row (row number = line in the file or sheet, header = 1); only a file
that cannot be read at all, or whose header lacks or misnames columns, raises :class:`RosterError`.
Messages are English for the command line and carry their msgid for the page (:mod:`congress.i18n`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from congress import vietnamese
from congress.errors import CongressError
from congress.i18n import M_, N_, Message

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")  # a site id (congress ca issue-site)
_SEAT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,15}$")
COLUMNS = ("id", "name", "delegation", "seat", "photo", "consent", "summoned", "site")
REQUIRED = ("id", "name")
#: Vietnamese column names (compared without accents or case) for the same columns.
HEADER_ALIASES = {
    "ma": "id", "ma dai bieu": "id", "ma so": "id",
    "ho va ten": "name", "ho ten": "name", "ten": "name",
    "doan": "delegation", "doan dai bieu": "delegation", "don vi": "delegation",
    "ghe": "seat", "so ghe": "seat", "cho ngoi": "seat",
    "anh": "photo", "anh chan dung": "photo",
    "dong y": "consent", "dong y nhan dien": "consent",
    "trieu tap": "summoned", "duoc trieu tap": "summoned",
}
_YES = {"yes", "y", "true", "1", "ja", "oui", "si", "x", "có", "co", "đồng ý"}
_NO = {"no", "n", "false", "0", "nein", "non", "không", "khong"}


class RosterError(CongressError):
    """The roster file as a whole cannot be read (not the per-row problems, which are reported).

    ``text`` and ``advice`` are the message and the hint as :class:`congress.i18n.Message` for the page.
    """

    def __init__(self, text: Message, *, advice: Message | None = None) -> None:
        super().__init__(str(text), hint=str(advice) if advice else None)
        self.text, self.advice = text, advice


@dataclass(frozen=True)
class RowProblem:
    """One problem with one CSV row; ``row`` is the line number in the file (the header is line 1)."""

    row: int
    delegate_id: str
    field: str
    message: str | Message

    def as_dict(self) -> dict:
        return {"row": self.row, "delegate_id": self.delegate_id, "field": self.field,
                "message": str(self.message)}

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


_SAVE_AS = M_("in the spreadsheet, save as 'CSV UTF-8 (comma delimited)' or as an Excel workbook (.xlsx)")


#: A web upload's photo that is refused, whatever the reason (missing, outside its folder, a link out,
#: not a file, not an image): one message, so that the page tells nobody which files exist.
PHOTO_REFUSED = N_("photo %(photo)s cannot be used: a photo must be an image file in the roster's own folder")
UNCLOSED_QUOTE = N_('a quote (") on this row is not closed, or text follows a closing quote')


def confined_photo(root: Path, item: str) -> Path | None:
    """``item`` as a file inside ``root`` (links followed), or ``None``: absolute paths, ``..`` and
    links that lead out are refused like missing files."""
    if not item or "\x00" in item or Path(item).is_absolute() or item.startswith(("~", "\\")):
        return None
    base = Path(root).resolve()
    try:
        target = (base / item).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RosterError(M_("roster file %(file)s does not exist", file=shown)) from None
    except OSError as exc:
        raise RosterError(M_("cannot read roster file %(file)s: %(reason)s", file=shown,
                             reason=exc.strerror or "")) from None


def _decode(raw: bytes, shown: str) -> str:
    """UTF-8 (BOM or not); else a legacy Vietnamese 8-bit file, which the text itself must show."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        if vietnamese.detect_all(text.splitlines()) in (vietnamese.Encoding.TCVN3, vietnamese.Encoding.VNI):
            return text  # converted with the cells below
        raise RosterError(M_("%(file)s: not UTF-8 text (byte %(byte)d)", file=shown, byte=exc.start),
                          advice=_SAVE_AS) from None


def _csv_records(text: str) -> tuple[str, list[tuple[int, list[str] | None]]]:
    """One record per line: no roster cell spans lines, so a quote left open does not swallow the
    rows after it into a name; such a line (or one with text after a closing quote) is ``None``."""
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    records: list[tuple[int, list[str] | None]] = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        try:
            records.append((n, next(csv.reader([line], delimiter=delim, strict=True), [])))
        except csv.Error:
            records.append((n, None))
    return delim, records


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # seat 12 typed as a number
    return str(value)


def _xlsx_records(path: Path, shown: str) -> list[tuple[int, list[str]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RosterError(M_("%(file)s is not an Excel workbook (.xlsx): %(reason)s", file=shown,
                             reason=str(exc)), advice=_SAVE_AS) from None
    try:
        sheet = book.worksheets[0]
        return [(n, [_cell(v) for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        book.close()


def read_records(path: Path, shown: str) -> tuple[str, list[tuple[int, list[str] | None]]]:
    """``(separator, [(line, cells), ...])`` of a CSV or .xlsx roster, text in Unicode NFC; ``cells``
    is ``None`` for a CSV line whose quotes do not close."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        delim, records = ",", _xlsx_records(path, shown)
    else:
        delim, records = _csv_records(_decode(_read_bytes(path, shown), shown))
    cells = [c for _n, rec in records for c in rec or () if c]
    try:
        encoding = vietnamese.detect_all(cells)
    except vietnamese.LegacyEncodingError as exc:
        raise RosterError(M_("%(file)s: %(problem)s", file=shown, problem=exc.text),
                          advice=vietnamese.ADVICE) from None
    return delim, [(n, None if rec is None else [vietnamese.repair(c, encoding) if c else "" for c in rec])
                   for n, rec in records]


def parse_roster(path: str | Path, *, shown: str | None = None,
                 photo_root: Path | None = None) -> tuple[list[RosterRow], list[RowProblem]]:
    """Validate the roster file; return the good rows and one :class:`RowProblem` per bad row.

    ``shown`` is the file's name as the person knows it (the upload's own name), used in messages.
    With ``photo_root`` (a web upload) a photo must be a file inside that folder, after following
    links; every photo refused there gets :data:`PHOTO_REFUSED`, whatever the reason, so the page
    never tells which files exist. Without it (the command line) the operator's paths are read.
    """
    path = Path(path)
    shown = shown or str(path)
    delim, records = read_records(path, shown)
    broken = [n for n, rec in records if rec is None]
    records = [(n, rec) for n, rec in records if rec is not None and any(c.strip() for c in rec)]
    if broken and (not records or broken[0] < records[0][0]):
        raise RosterError(M_('%(file)s: the column names on line %(row)d have a quote (") that is not closed',
                             file=shown, row=broken[0]))
    if not records:
        raise RosterError(M_("%(file)s is empty", file=shown),
                          advice=M_("the first line names the columns: id, name, ..."))
    header = [HEADER_ALIASES.get(vietnamese.fold(h), h.strip().lower()) for h in records[0][1]]
    while header and not header[-1]:
        header.pop()  # empty trailing cells of a spreadsheet row
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        if missing and unknown:
            text = M_("%(file)s: missing column(s) %(missing)s; unknown column(s) %(unknown)s", file=shown,
                      missing=", ".join(missing), unknown=", ".join(unknown))
        elif missing:
            text = M_("%(file)s: missing column(s) %(missing)s", file=shown, missing=", ".join(missing))
        else:
            text = M_("%(file)s: unknown column(s) %(unknown)s", file=shown, unknown=", ".join(unknown))
        raise RosterError(text, advice=M_("columns are: %(columns)s", columns=", ".join(COLUMNS)))
    photo_sep = re.compile(r"[|;]" if delim == "," else r"\|")
    rows: list[RosterRow] = []
    problems: list[RowProblem] = [RowProblem(n, "", "row", UNCLOSED_QUOTE) for n in broken]
    ids: dict[str, int] = {}
    seats: dict[str, int] = {}
    for line, rec in records[1:]:
        while len(rec) > len(header) and not rec[-1].strip():
            rec = rec[:-1]
        if len(rec) > len(header):
            problems.append(RowProblem(line, "", "row", M_("%(fields)d fields but %(columns)d columns",
                                                            fields=len(rec), columns=len(header))))
            continue
        v = dict(zip(header, [c.strip() for c in rec], strict=False))
        did = v.get("id", "")

        def bad(fld: str, msg: Message, _line: int = line, _did: str = did) -> None:
            problems.append(RowProblem(_line, _did, fld, msg))

        if not did:
            bad("id", M_("missing delegate id"))
            continue
        if not _ID.match(did):
            bad("id", M_("must be 1-64 letters, digits, '.', '-' or '_'"))
            continue
        if did in ids:
            bad("id", M_("duplicate id (first on row %(row)d)", row=ids[did]))
            continue
        ids[did] = line
        name = v.get("name", "")
        if not name or len(name) > 200:
            bad("name", M_("missing name") if not name else M_("longer than 200 characters"))
            continue
        seat = v.get("seat", "") or None
        if seat is not None and not _SEAT.match(seat):
            bad("seat", M_("%(seat)r is not a seat label (1-16 letters, digits, '.', '/', '-')", seat=seat))
            continue
        if seat is not None and seat in seats:
            bad("seat", M_("seat %(seat)s is already given to the delegate on row %(row)d", seat=seat,
                           row=seats[seat]))
            continue
        consent = _flag(v.get("consent", ""), False)
        summoned = _flag(v.get("summoned", ""), True)
        if consent is None or summoned is None:
            which = "consent" if consent is None else "summoned"
            bad(which, M_("%(value)r is not yes or no", value=v.get(which)))
            continue
        photos: list[Path] = []
        photo_error: Message | None = None
        for item in (p.strip() for p in photo_sep.split(v.get("photo", ""))):
            if not item:
                continue
            if photo_root is not None:
                p = confined_photo(photo_root, item)
                if p is None:
                    photo_error = M_(PHOTO_REFUSED, photo=item[:80])
                    break
            else:
                p = Path(item) if Path(item).is_absolute() else path.parent / item
                if not p.is_file():
                    photo_error = M_("photo %(photo)s not found (paths are relative to the roster file)",
                                     photo=item)
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

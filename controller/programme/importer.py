"""Importing a programme from a file: TOML, CSV or XLSX, checked whole before anything is stored.

TOML declares days, sessions and items in their own tables::

    [[day]]
    date = 2026-12-02
    title = "Ngày thứ nhất"

    [[session]]
    code = "S1"
    day = 2026-12-02
    title = "Phiên trù bị"
    kind = "preparatory"        # preparatory | official | other
    starts = "08:00"            # venue time

    [[item]]
    number = "1"
    session = "S1"
    title = "Khai mạc"

CSV and XLSX (first sheet) have one row per agenda item, with a header row naming the columns
``date, day_title, session, session_title, kind, starts, number, title, description`` (the session's
columns may be left empty on its later rows). Every problem is reported with its row (or table
entry) number: duplicate item numbers, items whose session is missing or unknown, bad dates and
times, missing titles. If there is any problem nothing is stored; otherwise the file is merged into
the programme in one transaction (days by date, sessions by code, items by number: an item already
in the programme is updated in place and keeps its documents, ballots and QR code).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from congress.errors import CongressError
from congress.i18n import M_, P_, Message
from controller import audit
from controller.programme.agenda import Programme
from controller.programme.tables import ProgrammeSession, SessionKind

COLUMNS = (
    "date",
    "day_title",
    "session",
    "session_title",
    "kind",
    "starts",
    "number",
    "title",
    "description",
)


@dataclass(frozen=True)
class Problem:
    """One problem of the file: where (``row 4``, ``item 2``) and what, both translatable."""

    where: Message  # "row 4", "item 2"
    message: Message

    @property
    def text(self) -> Message:
        return M_("%(where)s: %(problem)s", where=self.where, problem=self.message)

    def __str__(self) -> str:
        return str(self.text)


def _where(label: str, n: int) -> Message:
    if label == "row":
        return M_("row %(n)d", n=n)
    if label == "item":
        return M_("item %(n)d", n=n)
    if label == "session":
        return M_("session %(n)d", n=n)
    return M_("day %(n)d", n=n)


FILE = M_("file")
_PLACES = {FILE.msgid: 0, "day %(n)d": 1, "session %(n)d": 2, "item %(n)d": 3, "row %(n)d": 3}


def _problem_order(problem: Problem) -> tuple[int, int]:
    """Where a problem is in the file: the file itself first, then days, sessions, items (rows)."""
    return _PLACES.get(problem.where.msgid, 4), int(problem.where.params.get("n", 0))


class ProgrammeImportError(CongressError):
    """The file has problems; nothing was stored. ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        problems = sorted(problems, key=_problem_order)  # in the file's order, whichever check found them
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(
            f"the programme file has {len(problems)} problem(s), nothing was imported: {shown}{more}"
        )
        self.problems = problems

    def translate(self, translate: Callable[[Message], str]) -> str:
        """The whole refusal in the page's language (``translate`` turns a Message into text)."""
        shown = "; ".join(translate(p.text) for p in self.problems[:10])
        head = P_("the programme file has %(num)d problem, nothing was imported: %(problems)s",
                  "the programme file has %(num)d problems, nothing was imported: %(problems)s",
                  len(self.problems), problems=shown)
        if len(self.problems) > 10:
            return translate(M_("%(problems)s (and %(more)d more)", problems=translate(head),
                                more=len(self.problems) - 10))
        return translate(head)


@dataclass
class Plan:
    days: dict[dt.date, str] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)  # code -> date, title, kind, starts
    items: list[dict] = field(default_factory=list)  # number, session, title, description


def _date(value, where: str, problems: list[Problem]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(Problem(where, M_("%(value)s is not a date (write it as 2026-12-02)",
                                          value=repr(value))))
        return None


def _time(value, where: str, problems: list[Problem]) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.datetime):
        return value.time()
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(Problem(where, M_("%(value)s is not a time (write it as 08:30)", value=repr(value))))
        return None


def _kind(value, where: str, problems: list[Problem]) -> SessionKind:
    try:
        return SessionKind(str(value or "official").strip().lower())
    except ValueError:
        problems.append(Problem(where, M_("session kind %(value)s is not one of preparatory, official, other",
                                          value=repr(value))))
        return SessionKind.OTHER


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _rows_to_plan(rows: list[dict], label: str, known_sessions: set[str]) -> tuple[Plan, list[Problem]]:
    plan, problems = Plan(), []
    for n, row in enumerate(rows, 2 if label == "row" else 1):
        where = _where(label, n)
        code = _text(row.get("session"))
        if _text(row.get("date")) or _text(row.get("session_title")):
            day = _date(row.get("date"), where, problems) if _text(row.get("date")) else None
            if code and day:
                plan.days.setdefault(day, _text(row.get("day_title")))
                if code not in plan.sessions and not (
                    code in known_sessions and not _text(row.get("session_title"))
                ):  # a row naming a session of the programme by its code and date keeps that session
                    if not _text(row.get("session_title")):
                        problems.append(Problem(where, M_("session %(code)s has no title", code=code)))
                    plan.sessions[code] = {
                        "date": day,
                        "title": _text(row.get("session_title")),
                        "kind": _kind(row.get("kind"), where, problems),
                        "starts": _time(row.get("starts"), where, problems),
                    }
            elif code and not day:
                problems.append(Problem(where, M_("session %(code)s has no date", code=code)))
        if not _text(row.get("number")) and not _text(row.get("title")):
            continue
        if not code:
            problems.append(Problem(where, M_("the agenda item has no session")))
        elif code not in plan.sessions and code not in known_sessions:
            problems.append(
                Problem(where, M_(
                    "session %(code)s is not defined (give its date and title on its first row)", code=code
                ))
            )
        plan.items.append(
            {
                "where": where,
                "number": _text(row.get("number")),
                "session": code,
                "title": _text(row.get("title")),
                "description": _text(row.get("description")),
            }
        )
    return plan, problems


def _toml_plan(data: bytes, known_sessions: set[str]) -> tuple[Plan, list[Problem]]:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Plan(), [Problem(FILE, M_("not valid TOML (%(error)s)", error=str(exc)))]
    plan, problems = Plan(), []
    for n, day in enumerate(doc.get("day", []), 1):
        d = _date(day.get("date"), _where("day", n), problems)
        if d:
            plan.days[d] = _text(day.get("title"))
    for n, sess in enumerate(doc.get("session", []), 1):
        where = _where("session", n)
        code = _text(sess.get("code"))
        if not code:
            problems.append(Problem(where, M_("the session has no code")))
            continue
        if code in plan.sessions:
            problems.append(Problem(where, M_("session code %(code)s is used twice", code=code)))
        d = _date(sess.get("day"), where, problems)
        if not _text(sess.get("title")):
            problems.append(Problem(where, M_("session %(code)s has no title", code=code)))
        if d:
            plan.days.setdefault(d, "")
        plan.sessions[code] = {
            "date": d,
            "title": _text(sess.get("title")),
            "kind": _kind(sess.get("kind"), where, problems),
            "starts": _time(sess.get("starts"), where, problems),
        }
    for n, item in enumerate(doc.get("item", []), 1):
        code = _text(item.get("session"))
        where = _where("item", n)
        if not code:
            problems.append(Problem(where, M_("the agenda item has no session")))
        elif code not in plan.sessions and code not in known_sessions:
            problems.append(Problem(where, M_("session %(code)s is not in the file or the programme",
                                              code=code)))
        plan.items.append(
            {
                "where": where,
                "number": _text(item.get("number")),
                "session": code,
                "title": _text(item.get("title")),
                "description": _text(item.get("description")),
            }
        )
    return plan, problems


def _table_rows(data: bytes, fmt: str) -> tuple[list[dict], list[Problem]]:
    if fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            return [], [Problem(FILE, M_("not a readable XLSX workbook (%(error)s)",
                                         error=type(exc).__name__))]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [Problem(FILE, M_("the CSV is not UTF-8 text (save it as CSV UTF-8)"))]
        table = list(csv.reader(io.StringIO(text)))
    if not table:
        return [], [Problem(FILE, M_("the file is empty"))]
    header = [_text(h).lower() for h in table[0]]
    missing = [c for c in ("session", "number", "title") if c not in header]
    if missing:
        return [], [
            Problem(_where("row", 1), M_("missing column(s): %(missing)s (columns: %(columns)s)",
                                         missing=", ".join(missing), columns=", ".join(COLUMNS)))
        ]
    return [dict(zip(header, r, strict=False)) for r in table[1:] if any(_text(v) for v in r)], []


def parse(data: bytes, fmt: str, known_sessions: set[str] = frozenset()) -> Plan:
    """The plan of ``data`` in format ``toml``, ``csv`` or ``xlsx``; ProgrammeImportError if any problem."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "toml":
        plan, problems = _toml_plan(data, set(known_sessions))
    elif fmt in ("csv", "xlsx"):
        rows, problems = _table_rows(data, fmt)
        if not problems:
            plan, problems = _rows_to_plan(rows, "row", set(known_sessions))
        else:
            plan = Plan()
    else:
        raise ProgrammeImportError([Problem(FILE, M_("format %(format)s is not toml, csv or xlsx",
                                                     format=repr(fmt)))])
    seen: dict[str, Message] = {}
    for item in plan.items:
        if not item["number"]:
            problems.append(Problem(item["where"], M_("the agenda item has no number")))
        elif item["number"] in seen:
            problems.append(
                Problem(item["where"], M_("item number %(number)s is also used by %(other)s",
                                          number=item["number"], other=seen[item["number"]]))
            )
        else:
            seen[item["number"]] = item["where"]
        if not item["title"]:
            problems.append(Problem(item["where"], M_("the agenda item has no title")))
    if not plan.items and not problems:
        problems.append(Problem(FILE, M_("the file has no agenda items")))
    if problems:
        raise ProgrammeImportError(problems)
    return plan


def import_file(programme: Programme, data: bytes, fmt: str, *, zone: str, actor: str) -> dict:
    """Check and merge a programme file; returns counts. Nothing is stored when there is a problem."""
    from sqlalchemy import select

    with programme.db.session() as s:
        known = set(s.scalars(select(ProgrammeSession.code)))
    plan = parse(data, fmt, known)
    tz = ZoneInfo(zone)
    with programme.db.session() as s:
        for day, title in plan.days.items():
            programme.day(s, day, title)
        for n, (code, sess) in enumerate(plan.sessions.items(), 1):
            starts = (
                dt.datetime.combine(sess["date"], sess["starts"], tz).astimezone(dt.UTC)
                if sess["starts"]
                else None
            )
            programme.session_row(
                s,
                code,
                date=sess["date"],
                title=sess["title"],
                kind=sess["kind"],
                starts_at=starts,
                position=n,
            )
        for n, item in enumerate(plan.items, 1):
            programme.item_row(
                s,
                item["number"],
                session_code=item["session"],
                title=item["title"],
                description=item["description"],
                position=n,
            )
        result = {"days": len(plan.days), "sessions": len(plan.sessions), "items": len(plan.items)}
        audit.record(s, actor, "programme.import", result)
    programme.publish("agenda", programme.now())
    return result

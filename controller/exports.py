"""Every CSV (and spreadsheet) the controller hands out is written here, with formulas neutralised.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula (``=cmd|' /C calc'!A0``, ``=HYPERLINK(...)``): a delegate's name, a ballot title or an audit
detail typed by somebody else must never do that on the secretariat's laptop. As OWASP's "CSV
Injection" page describes, :func:`safe_cell` prefixes such text with an apostrophe (the spreadsheet
then shows it as text) and :func:`csv_text` quotes every field, so a separator inside a value cannot
start a new cell. Numbers stay numbers (``-3`` as an ``int`` is not text). Files start with a UTF-8
byte order mark so that Excel reads Vietnamese as UTF-8 rather than the Windows code page.

``tests/controller/test_exports.py`` fails when a module outside this one writes CSV or a workbook.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

#: The characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """``value`` as a cell: text that a spreadsheet would run is prefixed with ``'``; numbers, empty
    cells and ``None`` (written as empty) pass unchanged."""
    if value is None or isinstance(value, (bool, int, float)):
        return "" if value is None else value
    text = str(value)
    if text.startswith(FORMULA_START) or text.lstrip(" \u00a0\u3000").startswith(FORMULA_START):
        return "'" + text
    return text


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> str:
    """A whole CSV document: BOM, every field quoted and neutralised, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow([safe_cell(c) for c in header])
    for row in rows:
        w.writerow([safe_cell(c) for c in row])
    return out.getvalue()


def csv_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Response:
    """A download of :func:`csv_text` named ``filename``."""
    return Response(csv_text(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})

"""The printable QR sheet: one signed code per document or agenda item, for the hall and the programme.

ReportLab writes the PDF with Noto Sans embedded (Vietnamese complete); the codes are drawn as vector
squares from ``segno``'s matrix (error correction M, a 4-module quiet zone), so they print sharp at any
size. Six entries per A4 page: the code, the item's number and title, the version, and a line saying
how to check it. The sheet's own words are messages of the controller's catalogue, in the language
asked for (``lang``, or the ``gettext`` of the page's request).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from congress.i18n import N_
from controller.documents import fonts

#: The sheet's own words: msgids of the controller's message catalogue (``controller/web/
#: translations``), translated into the language asked for when the sheet is drawn.
TITLE = N_("Document QR codes")
SCAN = N_("Scan to open in the delegates' portal")
VERSION = N_("Version %(n)s")
SUPERSEDED = N_("Superseded — use version %(n)s")
PAGE = N_("Page %(n)s of %(total)s")
GENUINE = N_("Codes are signed by the organisers and can be checked offline.")
TRANSLATIONS = Path(__file__).resolve().parents[1] / "web" / "translations"


def catalogue(lang: str) -> Callable[[str], str]:
    """``gettext`` of the controller's catalogue for ``lang`` (English: the msgids themselves)."""
    from babel.support import Translations

    return Translations.load(str(TRANSLATIONS), [lang], domain="messages").gettext


@dataclass(frozen=True)
class Entry:
    """One code on the sheet."""

    heading: str  # e.g. "3. Báo cáo chính trị"
    detail: str  # e.g. "Phiên chính thức · 02/12/2026"
    qr: str  # what the code holds (a portal address with a signed token)
    version: int | None = None
    current_version: int | None = None  # set when this version has been superseded


_FONT = "DCSans"
_BOLD = "DCSans-Bold"


def _register() -> None:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT, str(fonts.sans())))
        pdfmetrics.registerFont(TTFont(_BOLD, str(fonts.sans(bold=True))))


def _draw_qr(c: canvas.Canvas, text: str, x: float, y: float, side: float) -> None:
    qr = segno.make(text, error="m", micro=False)
    rows = list(qr.matrix)
    border = 4
    n = len(rows) + 2 * border
    module = side / n
    c.setFillGray(1)
    c.rect(x, y, side, side, stroke=0, fill=1)
    c.setFillGray(0)
    path = c.beginPath()
    for r, row in enumerate(rows):
        for col, dark in enumerate(row):
            if dark:
                path.rect(x + (col + border) * module, y + side - (r + border + 1) * module, module, module)
    c.drawPath(path, stroke=0, fill=1)


def _wrap(text: str, font: str, size: float, width: float, lines: int) -> list[str]:
    words, out, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if pdfmetrics.stringWidth(trial, font, size) <= width:
            line = trial
        else:
            out.append(line)
            line = word
    out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1].rstrip() + "…"
    return [o for o in out if o]


def render(
    entries: Sequence[Entry],
    *,
    congress_name: str,
    lang: str = "vi",
    gettext: Callable[[str], str] | None = None,
) -> bytes:
    """The QR sheet PDF for ``entries``, in ``lang`` (or with ``gettext``, a page request's)."""
    _register()
    _ = gettext or catalogue(lang)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"{_(TITLE)} — {congress_name}")
    c.setAuthor(congress_name)
    w, h = A4
    cols, rows = 2, 3
    cell_w, cell_h = (w - 30 * mm) / cols, (h - 45 * mm) / rows
    side = 52 * mm
    per_page = cols * rows
    total = max(1, -(-len(entries) // per_page))
    for start in range(0, max(len(entries), 1), per_page):
        c.setFont(_BOLD, 15)
        c.drawString(15 * mm, h - 17 * mm, f"{_(TITLE)} — {congress_name}"[:90])
        c.setFont(_FONT, 8.5)
        c.drawString(15 * mm, h - 23 * mm, _(GENUINE))
        c.drawRightString(w - 15 * mm, 10 * mm, _(PAGE) % {"n": start // per_page + 1, "total": total})
        for i, entry in enumerate(entries[start : start + per_page]):
            col, row = i % cols, i // cols
            x0 = 15 * mm + col * cell_w
            top = h - 30 * mm - row * cell_h
            qx = x0 + (cell_w - side) / 2
            _draw_qr(c, entry.qr, qx, top - side, side)
            y = top - side - 5 * mm
            c.setFont(_BOLD, 11)
            for line in _wrap(entry.heading, _BOLD, 11, cell_w - 8 * mm, 2):
                c.drawCentredString(x0 + cell_w / 2, y, line)
                y -= 13
            c.setFont(_FONT, 9)
            details = [entry.detail] if entry.detail else []
            if entry.version is not None:
                details.append(_(VERSION) % {"n": entry.version})
            for line in details:
                c.drawCentredString(x0 + cell_w / 2, y, line[:80])
                y -= 11
            if entry.current_version is not None:
                c.setFont(_BOLD, 9)
                c.setFillColorRGB(0.7, 0, 0)
                c.drawCentredString(x0 + cell_w / 2, y, _(SUPERSEDED) % {"n": entry.current_version})
                c.setFillGray(0)
                y -= 11
            c.setFont(_FONT, 7.5)
            c.drawCentredString(x0 + cell_w / 2, y, _(SCAN))
        c.showPage()
    c.save()
    return buf.getvalue()

"""Building blocks of the record's PDFs: Noto Sans registered once, paragraph and table styles, text
that switches to Noto Sans SC for Chinese or Japanese characters, signature lines.

ReportLab embeds (subsets of) the TrueType files it draws with, so every PDF carries its fonts; line
heights are ``congress.fonts.LINE_HEIGHT`` times the size, so stacked Vietnamese tone marks never touch
the line above.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import cache
from xml.sax.saxutils import escape

from congress import fonts

SIZE = 10


@cache
def registered() -> dict[str, tuple[str, frozenset[int]]]:
    """style -> (ReportLab font name, code points it covers); registered once per process."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    out = {}
    for style, name in (
        ("regular", "NotoSans"),
        ("bold", "NotoSans-Bold"),
        ("italic", "NotoSans-Italic"),
        ("cjk", "NotoSansSC"),
    ):
        font = TTFont(name, str(fonts.path(style)))
        pdfmetrics.registerFont(font)
        out[style] = (name, frozenset(font.face.charToGlyph))
    addMapping("NotoSans", 0, 0, "NotoSans")
    addMapping("NotoSans", 1, 0, "NotoSans-Bold")
    addMapping("NotoSans", 0, 1, "NotoSans-Italic")
    addMapping("NotoSans", 1, 1, "NotoSans-Bold")
    return out


def markup(text: object) -> str:
    """``text`` escaped for a Paragraph, with Chinese/Japanese runs in Noto Sans SC (nothing as a box)."""
    table = registered()
    _, covered = table["regular"]
    cjk, fallback = table["cjk"]
    out = []
    for piece, which in fonts.runs(str(text), covered, fallback):
        if which == "main":
            out.append(escape(piece))
        elif which == "fallback":
            out.append(f'<font name="{cjk}">{escape(piece)}</font>')
    return "".join(out)


@cache
def styles() -> dict:
    from reportlab.lib.styles import ParagraphStyle

    registered()
    lead = SIZE * fonts.LINE_HEIGHT
    base = ParagraphStyle("body", fontName="NotoSans", fontSize=SIZE, leading=lead)
    return {
        "body": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=SIZE - 2, leading=(SIZE - 2) * fonts.LINE_HEIGHT
        ),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName="NotoSans-Bold",
            fontSize=16,
            leading=16 * fonts.LINE_HEIGHT,
            alignment=1,
            spaceAfter=6,
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontName="NotoSans-Bold",
            fontSize=13,
            leading=13 * fonts.LINE_HEIGHT,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName="NotoSans-Bold",
            fontSize=11,
            leading=11 * fonts.LINE_HEIGHT,
            spaceBefore=8,
            spaceAfter=3,
        ),
        "center": ParagraphStyle("center", parent=base, alignment=1),
        "mono": ParagraphStyle(
            "mono", parent=base, fontSize=SIZE - 2, leading=(SIZE - 2) * fonts.LINE_HEIGHT
        ),
    }


def para(text: object, style: str = "body", *, raw: bool = False):
    from reportlab.platypus import Paragraph

    return Paragraph(str(text) if raw else markup(text), styles()[style])


def table(rows: Iterable[Iterable[object]], widths: list[float] | None = None, *, header: bool = True):
    """A ruled table of paragraphs (cells wrap; a long name is never cut)."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    data = [[c if hasattr(c, "wrap") else para(c, "small") for c in row] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), "NotoSans", SIZE - 2),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    t.setStyle(TableStyle(style))
    return t


def signatures(people: list[tuple[str, str]]):
    """Signature lines: (role, name) pairs, two to a row, with room to sign above the name."""
    from reportlab.platypus import Spacer

    cells = []
    for role, name in people:
        cells.append(
            [para(role, "center"), Spacer(1, 42), para("……………………………", "center"), para(name, "center")]
        )
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    if rows and len(rows[-1]) == 1:
        rows[-1].append("")
    from reportlab.platypus import Table, TableStyle

    t = Table(rows, colWidths=[240, 240])
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "NotoSans", SIZE)]))
    return t


def build(story: list, *, title: str, author: str) -> bytes:
    """An A4 PDF of ``story`` with page numbers; fonts embedded."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    registered()
    out = io.BytesIO()

    def number(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("NotoSans", 8)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=author,
        # The canvas starts in Noto Sans: Helvetica (never embedded) then appears nowhere.
        initialFontName="NotoSans",
        initialFontSize=SIZE,
    )
    doc.build(story, onFirstPage=number, onLaterPages=number)
    return out.getvalue()

"""The approved synthesis as a PDF: the secretariat's text, with Noto Sans embedded (Vietnamese complete).

The text is the approved draft version exactly as saved; a line starting with ``- `` is a list item,
other non-empty lines are paragraphs, and the first line is the title. The footer names the agenda item,
the version and who approved it, so a printed page can be traced to the record.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

from congress import fonts

_FONT = "DCSans"
_BOLD = "DCSans-Bold"


def _register() -> None:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT, str(fonts.regular())))
    if _BOLD not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_BOLD, str(fonts.bold())))


def render(text: str, *, title: str, footer: str, author: str) -> bytes:
    """A PDF of ``text`` (see the module doc); ``title`` goes into the PDF's metadata."""
    _register()
    body = ParagraphStyle("body", fontName=_FONT, fontSize=10.5, leading=14.5, spaceAfter=4)
    head = ParagraphStyle("head", fontName=_BOLD, fontSize=15, leading=19, spaceAfter=8)
    sub = ParagraphStyle("sub", fontName=_BOLD, fontSize=11.5, leading=15, spaceBefore=6, spaceAfter=4)
    lines = text.replace("\r\n", "\n").split("\n")
    story: list = []
    bullets: list = []

    def flush() -> None:
        if bullets:
            story.append(
                ListFlowable(list(bullets), bulletType="bullet", leftIndent=12, bulletFontName=_FONT)
            )
            bullets.clear()

    first = True
    for line in lines:
        stripped = line.strip()
        if not stripped:
            flush()
            story.append(Spacer(1, 3))
            continue
        if stripped.startswith("- "):
            bullets.append(ListItem(Paragraph(escape(stripped[2:]), body), leftIndent=12))
            continue
        flush()
        style = head if first else (sub if len(stripped) < 120 and not stripped.endswith(".") else body)
        story.append(Paragraph(escape(stripped), style))
        first = False
    flush()

    def on_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 8)
        canvas.drawString(18 * mm, 10 * mm, footer[:150])
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title[:200],
        author=author[:200],
    )
    doc.build(story or [Paragraph("", body)], onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()

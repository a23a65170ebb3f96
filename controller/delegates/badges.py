"""Delegate badges: a signed QR token per delegate and a paged PDF badge sheet.

The token is :func:`congress.badge_token.issue` signed with the controller key (the one every door unit
trusts as ``controller-signing.pub``), so a door can check a badge offline. :func:`sheet_pdf` lays the
badges out as 85 x 54 mm cards, ten to an A4 page with cut marks, drawn with ReportLab: the QR code
(zxing-cpp, error correction M) as vector rectangles, the name in Noto Sans Bold with every Vietnamese
letter (Chinese or Japanese characters from Noto Sans SC, never a glyph box), wrapped on up to three
lines at a line height that keeps stacked tone marks off the line above, then the delegation, seat and
id. Fonts are embedded (subset), so the file prints the same anywhere. Delegates who opted out of face
recognition need their badge most; every delegate gets one.

Used by ``congress controller delegates badges`` (writes the PDF) and the controller page's
``/delegates/badges``; the words on the badge come in the caller's language (``gettext``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from congress import badge_token
from controller.portal import codes
from controller.storage.database import Database
from controller.storage.tables import Delegate


@dataclass(frozen=True)
class Badge:
    """One badge: who, and the token its QR code carries."""

    delegate_id: str
    name: str
    delegation: str
    seat: str | None
    consent: bool
    token: str
    #: The delegates' app sign-in code printed under the QR code (:mod:`controller.portal.codes`).
    code: str = ""


def badges(db: Database, key: Ed25519PrivateKey, venue_id: str, *, delegation: str | None = None,
           ids: Iterable[str] | None = None) -> list[Badge]:
    """Badges of every delegate (or one delegation, or the given ids), sorted by delegation and name
    (Vietnamese collation)."""
    from congress.vietnamese import sort_key

    with db.session() as s:
        q = select(Delegate)
        if delegation is not None:
            q = q.where(Delegate.delegation == delegation)
        if ids is not None:
            q = q.where(Delegate.id.in_(list(ids)))
        found = sorted(s.scalars(q), key=lambda d: (sort_key(d.delegation), sort_key(d.name), d.id))
        secret = _code_secret(key, venue_id)
        return [Badge(d.id, d.name, d.delegation, d.seat, d.consent,
                      badge_token.issue(key, venue_id, d.id), codes.code_for(secret, d.id)) for d in found]


def _code_secret(key: Ed25519PrivateKey, venue_id: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return codes.code_secret(raw, venue_id)


def qr_matrix(token: str) -> np.ndarray:
    """The token's QR code (error correction M) as a boolean array, True = dark, no quiet zone.

    Encoded by zxing-cpp (C++): about 4x faster than a pure-Python encoder, which was most of the
    time of a 5,000-badge sheet."""
    import zxingcpp

    code = zxingcpp.create_barcode(token, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


# --- the PDF sheet -----------------------------------------------------------------------------------

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
CARD_W, CARD_H = 85 * MM, 54 * MM
COLS, ROWS = 2, 5
QR_SIZE = 34 * MM
PAD = 3 * MM


@cache
def _fonts() -> dict[str, tuple[str, frozenset[int]]]:
    """Register the Noto fonts with ReportLab once per process: style -> (font name, code points)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from congress import fonts

    out = {}
    for style, name in (("regular", "NotoSans"), ("bold", "NotoSans-Bold"), ("cjk", "NotoSansSC")):
        font = TTFont(name, str(fonts.path(style)))
        pdfmetrics.registerFont(font)
        out[style] = (name, frozenset(font.face.charToGlyph))
    return out


def _draw_runs(c, x: float, y: float, text: str, style: str, size: float) -> None:
    """Draw ``text`` at (x, y) switching to Noto Sans SC where ``style`` lacks a glyph; characters no
    shipped font has are left out (a gap, never a box)."""
    from congress import fonts

    table = _fonts()
    main, covered = table[style]
    cjk, fallback = table["cjk"]
    t = c.beginText(x, y)
    for piece, which in fonts.runs(text, covered, fallback):
        if which == "missing":
            continue
        t.setFont(main if which == "main" else cjk, size)
        t.textOut(piece)
    c.drawText(t)


def _width(text: str, style: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from congress import fonts

    table = _fonts()
    main, covered = table[style]
    cjk, fallback = table["cjk"]
    return sum(stringWidth(p, main if w == "main" else cjk, size)
               for p, w in fonts.runs(text, covered, fallback) if w != "missing")


def _wrap(text: str, style: str, size: float, width: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        trial = f"{line} {w}".strip()
        if _width(trial, style, size) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = w
    if line:
        lines.append(line)
    return lines


def _fit_name(name: str, width: float) -> tuple[float, list[str]]:
    """The largest size (13 pt down to 8 pt) at which the name takes at most three lines."""
    size = 13.0
    while True:
        lines = _wrap(name, "bold", size, width)
        if (len(lines) <= 3 and all(_width(x, "bold", size) <= width for x in lines)) or size <= 8:
            return size, lines[:3]
        size -= 0.5


def _qr(c, x: float, y: float, size: float, matrix: np.ndarray) -> None:
    """The QR code with a two-module quiet zone, one rectangle per run of dark modules.

    Written as raw operators into the canvas's own operator list (ReportLab has no public raw-op
    API): its path object formats each number through Python, which was most of the time of a
    5,000-badge sheet."""
    n = matrix.shape[0] + 4
    m = size / n
    edges = np.diff(np.pad(matrix.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _rows, ends = np.nonzero(edges == -1)
    # In module units (integers format fast) under one scaling: row r is n - 3 - r from the bottom.
    ops = [f"{s + 2} {n - 3 - r} {e - s} 1 re"
           for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)]
    c._code.append(f"q 0 g {m:.4f} 0 0 {m:.4f} {x:.2f} {y:.2f} cm\n" + "\n".join(ops) + "\nf Q")


def _card(c, x: float, y: float, b: Badge, gettext: Callable[[str], str]) -> None:
    from congress.fonts import LINE_HEIGHT

    c.setDash(2, 2)
    c.setLineWidth(0.3)
    c.setStrokeGray(0.55)
    c.rect(x, y, CARD_W, CARD_H, stroke=1, fill=0)
    c.setDash()
    _qr(c, x + PAD, y + (CARD_H - QR_SIZE) / 2, QR_SIZE, qr_matrix(b.token))
    if b.code:  # under the QR code: what a delegate types into the app when there is no camera
        c.setFillGray(0)
        cx = x + PAD + QR_SIZE / 2 - _width(b.code, "bold", 8.5) / 2
        _draw_runs(c, cx, y + (CARD_H - QR_SIZE) / 2 - 10, b.code, "bold", 8.5)
    tx = x + PAD + QR_SIZE + PAD
    tw = CARD_W - (tx - x) - PAD
    size, lines = _fit_name(b.name, tw)
    ty = y + CARD_H - PAD - size
    for line in lines:
        _draw_runs(c, tx, ty, line, "bold", size)
        ty -= size * LINE_HEIGHT
    ty -= 1 * MM
    for line in _wrap(b.delegation, "regular", 10, tw)[:2]:
        _draw_runs(c, tx, ty, line, "regular", 10)
        ty -= 10 * LINE_HEIGHT
    if not b.consent:
        label = gettext("badge only")
        lw = _width(label, "regular", 7) + 2 * MM
        c.setLineWidth(0.4)
        c.setStrokeGray(0.25)
        c.rect(tx, y + PAD + 9, lw, 10, stroke=1, fill=0)
        _draw_runs(c, tx + 1 * MM, y + PAD + 11.5, label, "regular", 7)
    seat = gettext("Seat %(seat)s") % {"seat": b.seat} + " · " if b.seat else ""
    c.setFillGray(0.27)
    _draw_runs(c, tx, y + PAD, seat + gettext("ID %(id)s") % {"id": b.delegate_id}, "regular", 8)
    c.setFillGray(0)


def sheet_pdf(items: list[Badge], *, venue_name: str, gettext: Callable[[str], str] | None = None,
              language: str = "en") -> bytes:
    """The badge sheet of ``items`` as PDF bytes: A4 pages of ten cards; ``gettext`` translates the
    few words on a card (Flask-Babel's in a request, so the sheet is in the page's language)."""
    from reportlab.pdfgen import canvas

    if gettext is None:
        from flask_babel import gettext as flask_gettext

        def gettext(s: str) -> str:
            return flask_gettext(s)

    out = io.BytesIO()
    regular = _fonts()["regular"][0]  # also the page's initial font: no unembedded Helvetica
    c = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), pageCompression=1, lang=language,
                      initialFontName=regular, initialFontSize=10)
    title = gettext("Badges — %(venue)s") % {"venue": venue_name} if venue_name else gettext("Badges")
    c.setTitle(title)
    c.setAuthor(venue_name)
    left = (PAGE_W - COLS * CARD_W) / 2
    bottom = (PAGE_H - ROWS * CARD_H) / 2
    per_page = COLS * ROWS
    for i, b in enumerate(items):
        if i and i % per_page == 0:
            c.showPage()
        k = i % per_page
        col, row = k % COLS, k // COLS
        _card(c, left + col * CARD_W, bottom + (ROWS - 1 - row) * CARD_H, b, gettext)
    if not items:
        _draw_runs(c, left, PAGE_H / 2, gettext("No delegates."), "regular", 12)
    c.save()
    return out.getvalue()

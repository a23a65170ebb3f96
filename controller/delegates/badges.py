"""Delegate badges: a signed QR token per delegate and a printable badge sheet.

The token is :func:`congress.badge_token.issue` signed with the controller key (the one every door unit
trusts as ``controller-signing.pub``), so a door can check a badge offline; the QR code is drawn as SVG
with ``segno`` (error correction M) and inlined into one self-contained HTML page (no external assets:
venues are often offline), laid out as 85 x 54 mm cards on A4 with cutting margins. Delegates who opted
out of face recognition need their badge most; every delegate gets one.

Used by ``congress controller badges`` (writes the page to a file) and the controller page's
``/delegates/badges`` print view (:func:`render_sheet` returns the HTML, :func:`sheet_csp` its policy).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from congress import badge_token
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


def badges(db: Database, key: Ed25519PrivateKey, venue_id: str, *, delegation: str | None = None,
           ids: Iterable[str] | None = None) -> list[Badge]:
    """Badges of every delegate (or one delegation, or the given ids), sorted by delegation and name."""
    with db.session() as s:
        q = select(Delegate).order_by(Delegate.delegation, Delegate.name, Delegate.id)
        if delegation is not None:
            q = q.where(Delegate.delegation == delegation)
        if ids is not None:
            q = q.where(Delegate.id.in_(list(ids)))
        return [Badge(d.id, d.name, d.delegation, d.seat, d.consent,
                      badge_token.issue(key, venue_id, d.id)) for d in s.scalars(q)]


def qr_svg(token: str) -> str:
    """The token as an inline SVG QR code (no XML declaration, scalable)."""
    import segno

    qr = segno.make(token, error="m", micro=False)
    return qr.svg_inline(scale=3, border=2, dark="#000", light="#fff", omitsize=True)


_CSS = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 0; color: #111; }
h1 { font-size: 14pt; margin: 0 0 4mm; }
.sheet { display: flex; flex-wrap: wrap; gap: 4mm; }
.badge { width: 85mm; height: 54mm; border: 0.3mm dashed #888; padding: 3mm; display: flex;
         gap: 3mm; page-break-inside: avoid; break-inside: avoid; }
.qr { width: 34mm; height: 34mm; flex: none; align-self: center; }
.qr svg { width: 100%; height: 100%; }
.who { display: flex; flex-direction: column; justify-content: space-between; overflow: hidden; }
.name { font-size: 13pt; font-weight: bold; line-height: 1.15; }
.delegation { font-size: 10pt; }
.meta { font-size: 8pt; color: #444; }
.badge-only { font-size: 7pt; border: 0.2mm solid #444; padding: 0.5mm 1mm; align-self: flex-start; }
@media screen { body { margin: 8mm; } }
"""


def sheet_csp() -> str:
    """Content-Security-Policy for the sheet: no script at all, only its own inline style (by hash)."""
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")


def render_sheet(items: list[Badge], *, venue_name: str) -> str:
    """The printable HTML page holding every badge in ``items``."""
    e = html.escape
    cards = []
    for b in items:
        seat = f"Seat {e(b.seat)} · " if b.seat else ""
        only = '<span class="badge-only">badge only</span>' if not b.consent else ""
        cards.append(
            f'<section class="badge" data-delegate="{e(b.delegate_id)}">'
            f'<div class="qr" title="signed badge token">{qr_svg(b.token)}</div>'
            f'<div class="who"><div class="name">{e(b.name)}</div>'
            f'<div class="delegation">{e(b.delegation)}</div>{only}'
            f'<div class="meta">{seat}ID {e(b.delegate_id)}</div></div></section>'
        )
    title = f"Badges — {e(venue_name)}" if venue_name else "Badges"
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f"<h1>{title} ({len(items)})</h1><div class=\"sheet\">{''.join(cards)}</div></body></html>"
    )

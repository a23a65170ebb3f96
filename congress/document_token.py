"""Signed QR codes for congress documents and agenda items, checkable offline by anyone.

Same form and key as the badge tokens (:func:`congress.badge_token.seal`, the controller's Ed25519 key
that every door unit and verifier holds as ``controller-signing.pub``)::

    DCD1.<payload>.<signature>   a document version: {"d": ref, "n": version, "v": venue_id}
    DCI1.<payload>.<signature>   an agenda item:      {"i": ref, "v": venue_id}

``ref`` is the document's or item's public reference: random, so knowing one does not reveal others.
A QR code carries ``<portal>/q/<token>`` so a phone opens it in the delegates' portal; a verifier
reads the token from the end of that address (:func:`from_scanned`). The token names one version for
ever: whether that version is still current is the controller's answer when the code is opened
(a superseded version's page says so and links to the current one).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from congress.badge_token import BadgeReason, refused, seal, unseal
from congress.i18n import M_


class Kind(StrEnum):
    DOCUMENT = "DCD1"
    AGENDA_ITEM = "DCI1"


@dataclass(frozen=True)
class Claims:
    """What a genuine code says: which venue, which document version or agenda item."""

    kind: Kind
    venue_id: str
    ref: str
    version: int | None = None


def issue_document(key: Ed25519PrivateKey, venue_id: str, ref: str, version: int) -> str:
    return seal(key, Kind.DOCUMENT, {"d": str(ref), "n": int(version), "v": str(venue_id)})


def issue_item(key: Ed25519PrivateKey, venue_id: str, ref: str) -> str:
    return seal(key, Kind.AGENDA_ITEM, {"i": str(ref), "v": str(venue_id)})


def qr_text(token: str, portal_url: str) -> str:
    """What the printed QR code holds: the portal address that opens the token."""
    return f"{portal_url.rstrip('/')}/q/{token}"


def from_scanned(text: str) -> str:
    """The token inside a scanned QR code (a portal address or a bare token)."""
    text = text.strip()
    return text.rsplit("/q/", 1)[-1] if "/q/" in text else text


def verify(text: str, public_key: Ed25519PublicKey, venue_id: str) -> Claims:
    """Check a scanned document or agenda-item code; ProtocolError (MALFORMED, SIGNATURE, VENUE) if not."""
    token = from_scanned(text)
    prefix = token.split(".", 1)[0]
    if prefix not in tuple(Kind):
        raise refused(BadgeReason.MALFORMED, M_("this QR code is not a congress document or agenda item"))
    kind = Kind(prefix)
    body = unseal(token, public_key, kind, "congress document")
    try:
        if kind is Kind.DOCUMENT:
            claims = Claims(kind, str(body["v"]), str(body["d"]), int(body["n"]))
        else:
            claims = Claims(kind, str(body["v"]), str(body["i"]))
    except (KeyError, TypeError, ValueError):
        raise refused(BadgeReason.MALFORMED, M_("the document QR code is damaged or incomplete")) from None
    if claims.venue_id != venue_id:
        raise refused(
            BadgeReason.VENUE,
            M_("this QR code belongs to another congress (venue '%(venue)s')", venue=claims.venue_id),
        )
    return claims

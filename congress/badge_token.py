"""Badge tokens: what a delegate's badge QR code carries, signed by the controller (Ed25519).

Format (ASCII, fits a version-6 QR code at level M)::

    DC1.<payload>.<signature>

``payload`` is base64url (no padding) of the canonical JSON ``{"b":badge_no,"d":delegate_id,"v":venue_id}``
(sorted keys, no spaces); ``signature`` is base64url of the Ed25519 signature over the ASCII bytes
``DC1.<payload>``. ``badge_no`` lets the controller reprint a badge and refuse the old one. The
controller's badge printer calls :func:`issue`; the door unit calls :func:`verify` with the
controller's public key and its own venue id, so a badge from another venue is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from congress.errors import ProtocolError
from congress.i18n import M_, Message

PREFIX = "DC1"
MAX_TOKEN_CHARS = 400


def refused(reason: str, text: Message) -> ProtocolError:
    """A refused code: English in the log and on the command line, ``text`` translated on a page."""
    return ProtocolError(reason, str(text), text=text)


#: :func:`unseal`'s refusals by what the code should have been, whole sentences for the translators.
_NOT_A = {"congress badge": M_("this QR code is not a congress badge"),
          "congress document": M_("this QR code is not a congress document")}
_DAMAGED = {"congress badge": M_("the congress badge QR code is damaged or incomplete"),
            "congress document": M_("the congress document QR code is damaged or incomplete")}
_FORGED = {
    "congress badge": M_("the congress badge signature is not valid (forged or from another controller)"),
    "congress document": M_(
        "the congress document signature is not valid (forged or from another controller)"),
}


class BadgeReason:
    """Reason codes of a refused badge (``ProtocolError.reason``)."""

    MALFORMED = "badge_malformed"
    SIGNATURE = "badge_signature"
    VENUE = "badge_venue"


@dataclass(frozen=True)
class BadgeClaims:
    """Who the badge belongs to."""

    venue_id: str
    delegate_id: str
    badge_no: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(key: Ed25519PrivateKey, prefix: str, body: dict) -> str:
    """``prefix.<payload>.<signature>`` for ``body`` (canonical JSON), signed with ``key``.

    The badge token below and the document QR codes (:mod:`congress.document_token`) share this form;
    the prefix tells them apart, and it is signed with the rest.
    """
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    signed = f"{prefix}.{_b64(payload)}"
    return f"{signed}.{_b64(key.sign(signed.encode('ascii')))}"


def unseal(token: str, public_key: Ed25519PublicKey, prefix: str, what: str = "congress badge") -> dict:
    """The body of a token made by :func:`seal`; ProtocolError (MALFORMED or SIGNATURE) otherwise.
    ``what`` (``congress badge`` or ``congress document``) names the code in the refusal."""
    token = token.strip()
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3 or parts[0] != prefix:
        raise refused(BadgeReason.MALFORMED, _NOT_A[what])
    try:
        body = json.loads(_unb64(parts[1]))
        sig = _unb64(parts[2])
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refused(BadgeReason.MALFORMED, _DAMAGED[what]) from None
    if not isinstance(body, dict):
        raise refused(BadgeReason.MALFORMED, _DAMAGED[what])
    try:
        public_key.verify(sig, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise refused(BadgeReason.SIGNATURE, _FORGED[what]) from None
    return body


def issue(key: Ed25519PrivateKey, venue_id: str, delegate_id: str, badge_no: int = 1) -> str:
    """The token to print as a QR code on ``delegate_id``'s badge."""
    return seal(key, PREFIX, {"b": int(badge_no), "d": str(delegate_id), "v": str(venue_id)})


def verify(token: str, public_key: Ed25519PublicKey, venue_id: str) -> BadgeClaims:
    """Check the signature and venue of a scanned token; raise ProtocolError with a reason code."""
    body = unseal(token, public_key, PREFIX, "congress badge")
    try:
        claims = BadgeClaims(str(body["v"]), str(body["d"]), int(body["b"]))
    except (ValueError, KeyError, TypeError):
        raise refused(BadgeReason.MALFORMED, M_("the badge QR code is damaged or incomplete")) from None
    if claims.venue_id != venue_id:
        raise refused(BadgeReason.VENUE, M_("the badge belongs to venue '%(venue)s'", venue=claims.venue_id))
    return claims

"""Sign-in codes: the short code printed under a delegate's badge QR code, for typing it in.

A code is 10 letters and digits of Crockford's base32 (50 bits) shown as ``ABCD-EFGH-JK``, an HMAC of
the venue and the delegate id under a secret derived from the controller's signing key, so the
controller can print it again at any time and nobody without that key can make one. It names the
badge exactly as the QR token does; the PIN is still needed to sign in. Typing is forgiving: case,
spaces and dashes do not matter, and ``O``/``I``/``L`` read as ``0``/``1``/``1``.
"""

from __future__ import annotations

import hashlib
import hmac

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 10
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def code_secret(signing_key_bytes: bytes, venue_id: str) -> bytes:
    """The HMAC key of a venue's codes (from the raw private bytes of the controller signing key)."""
    return hashlib.sha256(b"congress-portal-code\0" + venue_id.encode() + b"\0" + signing_key_bytes).digest()


def code_for(secret: bytes, delegate_id: str) -> str:
    """The delegate's sign-in code, grouped for print: ``ABCD-EFGH-JK``."""
    digest = int.from_bytes(hmac.new(secret, delegate_id.encode(), hashlib.sha256).digest()[:8], "big")
    chars = "".join(ALPHABET[(digest >> (5 * i)) & 31] for i in range(LENGTH))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalise(text: str) -> str:
    """What the person typed, as the bare code (upper case, no separators, look-alikes mapped)."""
    return "".join(c for c in text.upper().translate(_READ_AS) if c in ALPHABET)


def matches(secret: bytes, delegate_id: str, typed: str) -> bool:
    return hmac.compare_digest(normalise(code_for(secret, delegate_id)), normalise(typed))

"""Each door unit's gallery key pair (X25519), issued with its certificate.

``congress ca issue-unit`` calls :func:`write_unit_keys`: ``units/<id>/gallery.key`` (the private key,
64 hex digits, mode 0600; ``congress flash`` copies it to the card, where the unit reads it as the
secret ``gallery-key``) and ``units/<id>/gallery.pub`` (64 hex digits, 0644; the controller seals that
unit's gallery to it, see :mod:`congress.gallery_crypto`). Kept apart from the sealing code so the PKI
does not import NumPy.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from congress.errors import ConfigError

PRIVATE_FILE = "gallery.key"
PUBLIC_FILE = "gallery.pub"


def parse_key(text: str, source: str) -> bytes:
    """A 32-byte key written as 64 hex digits."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(
            f"{source}: the gallery key must be 64 hex digits",
            hint="congress ca issue-unit writes it to units/<unit>/gallery.key; congress flash copies it",
        )
    return key


def public_of(private_key: bytes) -> bytes:
    """The raw 32-byte X25519 public key of a raw private key."""
    return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def new_pair() -> tuple[bytes, bytes]:
    """``(private, public)`` raw 32-byte X25519 keys."""
    priv = X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return priv, public_of(priv)


def write_unit_keys(unit_dir: Path) -> tuple[Path, Path]:
    """Create a unit's gallery key pair in its CA folder (private file 0600 before any key byte)."""
    from congress.pki.keys import write_private, write_public

    priv, pub = new_pair()
    write_private(unit_dir / PRIVATE_FILE, priv.hex().encode() + b"\n")
    write_public(unit_dir / PUBLIC_FILE, pub.hex().encode() + b"\n")
    return unit_dir / PRIVATE_FILE, unit_dir / PUBLIC_FILE


def read_public(path: Path) -> bytes:
    """A unit's gallery public key (``gallery.pub``)."""
    return parse_key(Path(path).read_text(encoding="ascii"), str(path))

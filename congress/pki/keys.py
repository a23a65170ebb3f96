"""Key files: private keys written 0600 before any key byte, public files 0644, Ed25519 loaders."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from congress.errors import PKIError
from congress.files import write_private as write_private  # the key writer lives there


def write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pub_pem(key) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_signing_key(path: str | os.PathLike) -> ed25519.Ed25519PrivateKey:
    """Read an Ed25519 private key (PEM) written by this module."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PKIError(f"cannot read signing key {path}: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise PKIError(f"{path} is not an Ed25519 signing key")
    return key


def load_public_key(path: str | os.PathLike) -> ed25519.Ed25519PublicKey:
    """Read an Ed25519 public key (PEM) written by this module."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise PKIError(f"cannot read public key {path}: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise PKIError(f"{path} is not an Ed25519 public key")
    return key

"""Encryption of face data at rest: embeddings in the database, enrollment photos on disk.

Every face embedding and every kept enrollment photo is sealed with AES-256-GCM under the venue's
*face key*. The associated data binds a ciphertext to its row (``embedding:<delegate>:<photo id>``), so a
row copied onto another delegate does not decrypt. The key comes from, in order:

1. the secret ``face-key`` (systemd ``LoadCredential=face-key:...`` or ``$CONGRESS_FACE_KEY``): 32 bytes
   as 64 hex digits or base64;
2. the file ``<data_dir>/face.key`` (base64, mode 0600), created with a fresh random key on first use.

Losing the key makes the stored face data unreadable (enroll again); ``congress controller
purge-biometrics`` deletes the data and the key file together. Wired by the enrollment code, the gallery
builder and the purge command, which each construct one :class:`FaceVault` with :meth:`FaceVault.load`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from congress.config import read_secret
from congress.errors import ConfigError, CongressError

KEY_FILE = "face.key"
_NONCE = 12
_VERSION = b"\x01"


class FaceDataError(CongressError):
    """Stored face data cannot be decrypted (wrong face key or tampered data)."""


def _decode_key(text: str, source: str) -> bytes:
    text = text.strip()
    key: bytes | None = None
    if len(text) == 64:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = None
    if key is None:
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            key = None
    if key is None or len(key) != 32:
        raise ConfigError(
            f"{source}: the face key must be 32 bytes written as 64 hex digits or base64",
            hint="create one with: python3 -c 'import secrets; print(secrets.token_hex(32))'",
        )
    return key


class FaceVault:
    """Seals and opens face data with AES-256-GCM; one instance per process, passed in where needed."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError("the face key must be 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"congress-face-key" + key).hexdigest()[:16]
        self.path: Path | None = None  # the key file, when the key came from one

    @classmethod
    def load(cls, data_dir: Path, *, create: bool = True) -> FaceVault:
        """Key from the ``face-key`` secret, else ``data_dir/face.key`` (created 0600 when missing)."""
        secret = read_secret("face-key", required=False)
        if secret:
            return cls(_decode_key(secret, "secret face-key"))
        path = Path(data_dir) / KEY_FILE
        if not path.exists():
            if not create:
                raise ConfigError(f"no face key: {path} does not exist and secret face-key is not set")
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it a moment ago
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as f:
                    f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(
                f"{path} is readable by other users (mode {mode:o})", hint=f"run: chmod 600 {path}"
            )
        vault = cls(_decode_key(path.read_text(encoding="ascii"), str(path)))
        vault.path = path
        return vault

    @property
    def purged(self) -> bool:
        """True when this vault's key file has been deleted (``purge-biometrics`` in another process)."""
        return self.path is not None and not self.path.exists()

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        """Encrypt ``plaintext``; the result is ``version | nonce | ciphertext+tag``."""
        nonce = secrets.token_bytes(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad.encode())

    def open(self, blob: bytes, aad: str) -> bytes:
        """Decrypt a sealed blob; :class:`FaceDataError` when the key or the data is wrong."""
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
            raise FaceDataError(f"stored face data for {aad} is not in a known format")
        try:
            return self._aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad.encode())
        except InvalidTag:
            raise FaceDataError(
                f"stored face data for {aad} does not decrypt",
                hint="the face key changed or the data was altered; enroll the delegate again",
            ) from None

    def seal_embedding(self, embedding: np.ndarray, aad: str) -> bytes:
        return self.seal(np.asarray(embedding, dtype="<f4").tobytes(), aad)

    def open_embedding(self, blob: bytes, aad: str) -> np.ndarray:
        return np.frombuffer(self.open(blob, aad), dtype="<f4").copy()


def embedding_aad(delegate_id: str, photo_id: int | str) -> str:
    """Associated data that ties an embedding to its delegate and photo row."""
    return f"embedding:{delegate_id}:{photo_id}"


def photo_aad(delegate_id: str, photo_id: int | str) -> str:
    return f"photo:{delegate_id}:{photo_id}"

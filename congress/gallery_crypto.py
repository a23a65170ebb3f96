"""The encrypted gallery a controller sends to each door unit, and the key each unit uses.

Keys: the controller holds one 32-byte *gallery master key*; each unit's key is
``derive_unit_key(master, venue_id, unit_id)`` (HKDF-SHA256), written to the unit at provisioning as the
secret ``gallery-key`` (64 hex digits). A unit can therefore open only its own gallery, and a stolen
unit reveals nothing about another unit's key.

Sealed blob: ``b"CG1" || version (8 bytes, big endian) || nonce (12) || AES-256-GCM ciphertext``, with
associated data ``congress-gallery/1|<venue>|<unit>|<version>`` so a blob cannot be replayed to another
unit or relabelled with another version. The unit stores the sealed blob as received (encrypted at
rest) and opens it into memory only.

Plaintext: ``u32 header length || header JSON || float32 little-endian embeddings``; the header is
``{"dim": 128, "delegates": [{"id": ..., "n": rows}, ...]}`` and the embedding rows follow in the same
order, L2-normalised, as the face engine produces them.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from congress.errors import ConfigError, ProtocolError

MAGIC = b"CG1"
_NONCE = 12
_HEAD = len(MAGIC) + 8 + _NONCE


@dataclass(frozen=True)
class GalleryData:
    """Opened gallery: ``ids[i]`` owns row ``i`` of ``embeddings`` (float32, shape (rows, dim))."""

    version: int
    ids: tuple[str, ...]
    embeddings: np.ndarray


def derive_unit_key(master: bytes, venue_id: str, unit_id: str) -> bytes:
    """The 32-byte gallery key of one unit."""
    if len(master) != 32:
        raise ConfigError("the gallery master key must be 32 bytes")
    info = f"congress-gallery-key/1|{venue_id}|{unit_id}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def parse_key(text: str, source: str) -> bytes:
    """A key written as 64 hex digits."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(
            f"{source}: the gallery key must be 64 hex digits",
            hint="the controller prints each unit's key when the unit is provisioned",
        )
    return key


def _aad(venue_id: str, unit_id: str, version: int) -> bytes:
    return f"congress-gallery/1|{venue_id}|{unit_id}|{version}".encode()


def encode(ids: list[str], embeddings: np.ndarray) -> bytes:
    """Plaintext of a gallery; ``ids[i]`` is the delegate of row ``i``."""
    emb = np.ascontiguousarray(embeddings, dtype="<f4")
    if emb.ndim != 2 or emb.shape[0] != len(ids):
        raise ValueError("embeddings must be (len(ids), dim)")
    delegates: list[dict] = []
    for d in ids:
        if delegates and delegates[-1]["id"] == d:
            delegates[-1]["n"] += 1
        else:
            delegates.append({"id": d, "n": 1})
    head = json.dumps({"dim": int(emb.shape[1]), "delegates": delegates}, separators=(",", ":")).encode()
    return struct.pack("<I", len(head)) + head + emb.tobytes()


def decode(version: int, plain: bytes) -> GalleryData:
    try:
        (n,) = struct.unpack_from("<I", plain)
        head = json.loads(plain[4 : 4 + n])
        dim = int(head["dim"])
        ids = tuple(str(d["id"]) for d in head["delegates"] for _ in range(int(d["n"])))
        emb = np.frombuffer(plain[4 + n :], dtype="<f4").reshape(len(ids), dim).astype(np.float32)
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise ProtocolError("gallery_malformed", f"the gallery contents are malformed: {exc}") from None
    return GalleryData(version, ids, emb)


def seal(key: bytes, venue_id: str, unit_id: str, version: int, plaintext: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    ct = AESGCM(key).encrypt(nonce, plaintext, _aad(venue_id, unit_id, version))
    return MAGIC + struct.pack(">Q", version) + nonce + ct


def blob_version(blob: bytes) -> int:
    if len(blob) < _HEAD or not blob.startswith(MAGIC):
        raise ProtocolError("gallery_malformed", "not a sealed congress gallery")
    return struct.unpack_from(">Q", blob, len(MAGIC))[0]


def open_sealed(key: bytes, venue_id: str, unit_id: str, blob: bytes) -> GalleryData:
    """Decrypt and decode a sealed gallery; raise ProtocolError when it is not for this unit."""
    version = blob_version(blob)
    nonce = blob[len(MAGIC) + 8 : _HEAD]
    try:
        plain = AESGCM(key).decrypt(nonce, blob[_HEAD:], _aad(venue_id, unit_id, version))
    except InvalidTag:
        raise ProtocolError(
            "gallery_key", "the gallery cannot be decrypted: wrong unit key or tampered data"
        ) from None
    return decode(version, plain)

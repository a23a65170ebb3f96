"""The gallery sealed for one door unit: X25519 to the unit's public key, AES-256-GCM per part.

Keys: ``congress ca issue-unit`` gives every unit an X25519 key pair (:mod:`congress.gallery_keys`):
``units/<id>/gallery.key`` (0600, copied to the card by ``congress flash`` as the secret
``gallery-key``) and ``units/<id>/gallery.pub``, the only part the controller reads. The controller
therefore holds no secret that opens any unit's gallery, and re-issuing a unit replaces its key.

Sealing one gallery version for one unit (an ECIES construction from standard parts): a fresh ephemeral
X25519 key pair; ``key = HKDF-SHA256(X25519(eph, unit_pub), info = "congress-gallery/2|venue|unit|
version" || eph_pub || unit_pub)``; each part is ``AES-256-GCM(key, random 12-byte nonce, plaintext,
aad = "congress-gallery/2|venue|unit|version|part|parts")``. A part therefore opens only with that
unit's private key, and cannot be moved to another unit, version or position without failing its tag.

Sealed part: ``b"CG2" || version u64 || part u32 || parts u32 || eph_pub (32) || nonce (12) ||
ciphertext`` (big endian). Plaintext of a part: ``u32 header length || header JSON || float32
little-endian rows``; the header is ``{"dim": 128, "model": "sface", "delegates": [{"id": ..., "n": rows},
...]}``: ``model`` names the embedder that made the rows (``congress.faces.embedder``; a header
without it is from before embedders were recorded and holds ``dlib-resnet`` rows), so a unit whose
face engine runs another embedder refuses the gallery instead of comparing unrelated vectors.
The unit stores the sealed parts as received (:func:`pack`), so templates are encrypted at rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from congress.errors import ProtocolError
from congress.gallery_keys import parse_key, public_of

__all__ = ["GalleryData", "decode", "digest", "encode", "open_gallery", "open_part", "pack", "parse_key",
           "seal_parts", "unpack"]

MAGIC = b"CG2"
#: The embedder of galleries whose header names none (all of them were dlib's).
LEGACY_MODEL = "dlib-resnet"
_HEAD = struct.Struct(">3sQII32s12s")
STORE_MAGIC = b"CGS2"


@dataclass(frozen=True)
class GalleryData:
    """Opened gallery: ``ids[i]`` owns row ``i`` of ``embeddings`` (float32, shape (rows, dim))."""

    version: int
    ids: tuple[str, ...]
    embeddings: np.ndarray
    #: The embedder that made the rows (``congress.faces.embedder.EMBEDDERS``).
    model: str = LEGACY_MODEL


def _raw(pub: X25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key(shared: bytes, venue: str, unit: str, version: int, eph_pub: bytes, unit_pub: bytes) -> bytes:
    info = f"congress-gallery/2|{venue}|{unit}|{version}".encode() + eph_pub + unit_pub
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def _aad(venue: str, unit: str, version: int, part: int, parts: int) -> bytes:
    return f"congress-gallery/2|{venue}|{unit}|{version}|{part}|{parts}".encode()


def encode(ids: list[str], embeddings: np.ndarray, model: str = LEGACY_MODEL) -> bytes:
    """Plaintext of a gallery part; ``ids[i]`` is the delegate of row ``i``; ``model`` the embedder."""
    emb = np.ascontiguousarray(embeddings, dtype="<f4")
    if emb.ndim != 2 or emb.shape[0] != len(ids):
        raise ValueError("embeddings must be (len(ids), dim)")
    delegates: list[dict] = []
    for d in ids:
        if delegates and delegates[-1]["id"] == d:
            delegates[-1]["n"] += 1
        else:
            delegates.append({"id": d, "n": 1})
    head = json.dumps({"dim": int(emb.shape[1]), "model": model, "delegates": delegates},
                      separators=(",", ":")).encode()
    return struct.pack("<I", len(head)) + head + emb.tobytes()


def decode(version: int, plain: bytes) -> GalleryData:
    try:
        (n,) = struct.unpack_from("<I", plain)
        head = json.loads(plain[4 : 4 + n])
        dim = int(head["dim"])
        model = str(head.get("model", LEGACY_MODEL))
        ids = tuple(str(d["id"]) for d in head["delegates"] for _ in range(int(d["n"])))
        emb = np.frombuffer(plain[4 + n :], dtype="<f4").reshape(len(ids), dim).astype(np.float32)
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise ProtocolError("gallery_malformed", f"the gallery contents are malformed: {exc}") from None
    return GalleryData(version, ids, emb, model)


def seal_parts(unit_pub: bytes, venue: str, unit: str, version: int, plaintexts: list[bytes]) -> list[bytes]:
    """Seal the parts of one gallery version for one unit (one ephemeral key for the whole version)."""
    eph = X25519PrivateKey.generate()
    eph_pub = _raw(eph.public_key())
    try:
        shared = eph.exchange(X25519PublicKey.from_public_bytes(unit_pub))
    except ValueError as exc:
        raise ProtocolError("gallery_key", f"unit {unit}: its gallery public key is unusable: {exc}"
                            ) from None
    aes = AESGCM(_key(shared, venue, unit, version, eph_pub, unit_pub))
    parts = len(plaintexts)
    out = []
    for part, plain in enumerate(plaintexts):
        nonce = os.urandom(12)
        head = _HEAD.pack(MAGIC, version, part, parts, eph_pub, nonce)
        out.append(head + aes.encrypt(nonce, plain, _aad(venue, unit, version, part, parts)))
    return out


def header(blob: bytes) -> tuple[int, int, int]:
    """``(version, part, parts)`` of a sealed part, read without opening it."""
    if len(blob) < _HEAD.size + 16 or not blob.startswith(MAGIC):
        raise ProtocolError("gallery_malformed", "not a sealed congress gallery part")
    _, version, part, parts, _, _ = _HEAD.unpack_from(blob)
    return version, part, parts


def open_part(private_key: bytes, venue: str, unit: str, blob: bytes) -> tuple[int, int, int, bytes]:
    """Decrypt one sealed part: ``(version, part, parts, plaintext)``; ProtocolError ``gallery_key``
    when it was not sealed for this unit's key or was altered."""
    version, part, parts = header(blob)
    _, _, _, _, eph_pub, nonce = _HEAD.unpack_from(blob)
    priv = X25519PrivateKey.from_private_bytes(private_key)
    try:
        shared = priv.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        key = _key(shared, venue, unit, version, eph_pub, public_of(private_key))
        plain = AESGCM(key).decrypt(nonce, blob[_HEAD.size:], _aad(venue, unit, version, part, parts))
    except (InvalidTag, ValueError):
        raise ProtocolError(
            "gallery_key", f"gallery version {version} part {part} cannot be decrypted by unit {unit}: "
            "sealed for another unit or key, or altered on the way",
            hint="if the unit was re-issued, copy its new gallery key (congress flash) to it",
        ) from None
    return version, part, parts, plain


def open_gallery(private_key: bytes, venue: str, unit: str, blobs: list[bytes]) -> GalleryData:
    """Open every part of one version (in order) and join them into one gallery."""
    if not blobs:
        raise ProtocolError("gallery_malformed", "a gallery has at least one part")
    ids: list[str] = []
    rows: list[np.ndarray] = []
    versions, models = set(), set()
    for i, blob in enumerate(blobs):
        version, part, parts, plain = open_part(private_key, venue, unit, blob)
        if part != i or parts != len(blobs):
            raise ProtocolError("gallery_malformed",
                                f"part {part}/{parts} found at position {i}/{len(blobs)}")
        versions.add(version)
        g = decode(version, plain)
        models.add(g.model)
        ids += g.ids
        rows.append(g.embeddings)
    if len(versions) != 1:
        raise ProtocolError("gallery_malformed", f"parts of several versions mixed: {sorted(versions)}")
    if len(models) != 1:
        raise ProtocolError("gallery_malformed", f"parts of several embedders mixed: {sorted(models)}")
    dims = {r.shape[1] for r in rows if len(r)}
    if len(dims) > 1:
        raise ProtocolError("gallery_malformed", f"parts with different dimensions {sorted(dims)}")
    emb = np.concatenate(rows) if any(len(r) for r in rows) else np.zeros((0, dims.pop() if dims else 128),
                                                                          np.float32)
    return GalleryData(versions.pop(), tuple(ids), emb, models.pop())


def digest(blob: bytes) -> str:
    """The SHA-256 (hex) of a sealed part as named in the signed gallery manifest."""
    return hashlib.sha256(blob).hexdigest()


def pack(blobs: list[bytes]) -> bytes:
    """The unit's gallery file: every sealed part of one version, as received."""
    body = b"".join(struct.pack(">I", len(b)) + b for b in blobs)
    return STORE_MAGIC + struct.pack(">I", len(blobs)) + body


def unpack(data: bytes) -> list[bytes]:
    if not data.startswith(STORE_MAGIC) or len(data) < 8:
        raise ProtocolError("gallery_malformed", "not a congress gallery file (expected CGS2)")
    (n,) = struct.unpack_from(">I", data, 4)
    at, out = 8, []
    for _ in range(n):
        if at + 4 > len(data):
            raise ProtocolError("gallery_malformed", "the gallery file is truncated")
        (size,) = struct.unpack_from(">I", data, at)
        out.append(data[at + 4 : at + 4 + size])
        at += 4 + size
        if at > len(data):
            raise ProtocolError("gallery_malformed", "the gallery file is truncated")
    return out

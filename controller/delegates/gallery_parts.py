"""One gallery version as the messages a door unit receives: sealed parts and a signed manifest.

:func:`plain_parts` splits the enrolled templates into part plaintexts of at most
:data:`PART_PLAIN_BYTES` (a delegate's rows stay in one part). :func:`unit_messages` seals them to
one unit's gallery key (:func:`congress.gallery_crypto.seal_parts`) and returns the signed
:class:`congress.wire.GalleryPart` payloads for ``.../gallery/<part>`` and the signed
:class:`congress.wire.GalleryUpdate` manifest (version, part count, SHA-256 of each sealed part) for
``.../gallery``. No message carries a template in the clear.
"""

from __future__ import annotations

import hashlib

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from congress import gallery_crypto, wire

#: Plaintext bytes per part at most: sealed (79 bytes more) and in base64 with its signed envelope it
#: stays under the wire's MAX_GALLERY_BYTES (128 KiB), the broker's packet limit for everyone.
PART_PLAIN_BYTES = 92 * 1024
#: Templates a part holds at most with 128-dimension embeddings (512 bytes each).
PART_TEMPLATES = PART_PLAIN_BYTES // 512
_HEADER_BYTES = 128  # the part header's own fields ("dim", "model") and the length word
_PER_DELEGATE = 20  # {"id":"...","n":N}, beside the id itself


def plain_parts(ids: list[str], emb: np.ndarray, model: str = gallery_crypto.LEGACY_MODEL) -> list[bytes]:
    """Plaintexts of the parts (``ids`` sorted, rows grouped by id); an empty gallery is one part.
    A part holds at most :data:`PART_PLAIN_BYTES` (rows and header); a delegate's rows stay in one
    part. ``model`` is the embedder of the rows, written into every part's header."""
    dim = int(emb.shape[1]) if emb.ndim == 2 and emb.shape[1] else 128
    row = dim * 4
    budget = PART_PLAIN_BYTES - _HEADER_BYTES - len(model)
    bounds: list[tuple[int, int]] = []
    start = i = used = 0
    while i < len(ids):
        j = i
        while j < len(ids) and ids[j] == ids[i]:
            j += 1
        cost = (j - i) * row + len(ids[i]) + _PER_DELEGATE
        if used + cost > budget and i > start:
            bounds.append((start, i))
            start, used = i, 0
        used += cost
        i = j
    bounds.append((start, len(ids)))
    return [gallery_crypto.encode(ids[a:b], emb[a:b] if b > a else np.zeros((0, dim), np.float32), model)
            for a, b in bounds]


def key_id(unit_pub: bytes) -> str:
    """Fingerprint of a unit's gallery public key (stored with each publication)."""
    return hashlib.sha256(unit_pub).hexdigest()[:16]


def unit_messages(
    venue_id: str, unit_id: str, unit_pub: bytes, version: int, plaintexts: list[bytes],
    key: Ed25519PrivateKey, counter: wire.BootCounter,
) -> tuple[list[tuple[str, bytes]], tuple[str, bytes]]:
    """``([(part topic, payload)...], (manifest topic, payload))`` of one version for one unit."""
    sealed = gallery_crypto.seal_parts(unit_pub, venue_id, unit_id, version, plaintexts)
    env = {"venue": venue_id, "unit": unit_id, "boot": counter.boot}
    parts = []
    for n, blob in enumerate(sealed):
        msg = wire.GalleryPart(**env, seq=counter.next(), version=version, part=n, parts=len(sealed),
                               sealed=blob)
        parts.append((msg.topic, wire.encode(msg, key)))
    manifest = wire.GalleryUpdate(**env, seq=counter.next(), version=version, parts=len(sealed),
                                  digests=tuple(gallery_crypto.digest(b) for b in sealed))
    return parts, (manifest.topic, wire.encode(manifest, key))

"""Test instruments for the sealed gallery: synthetic enrollment and a subscriber that plays a door unit.

``enroll_synthetic`` stores sealed unit-length templates in the database as enrollment does.
``retained_gallery(venue_ca, broker, unit)`` connects with that unit's certificate, subscribes to its
gallery manifest and part topics and returns every retained message it gets as ``{topic: payload}``
(raw bytes, as the broker holds them); ``open_retained`` verifies them and opens the gallery with the
unit's key.
"""

from __future__ import annotations

import queue

import numpy as np

from congress import gallery_crypto, gallery_keys, mqtt, pki, wire
from controller.delegates.enrollment import bump_revision
from controller.delegates.face_vault import embedding_aad
from controller.storage.tables import Delegate, EnrollStatus, FacePhoto


def enroll_synthetic(db, vault, people: dict[str, int], *, consent: bool = True, model: str = "sface",
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Store sealed unit-length templates as enrollment would; bumps the gallery revision."""
    rng = np.random.default_rng(seed + len(people))
    out = {}
    with db.session() as s:
        for did, n in people.items():
            s.add(Delegate(id=did, name=did, consent=consent))
            s.flush()
            rows = rng.normal(size=(n, 128)).astype(np.float32)
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            out[did] = rows
            for k, r in enumerate(rows):
                ph = FacePhoto(delegate_id=did, source=f"{did}-{k}.jpg", sha256=f"{did}{k}".ljust(64, "0"),
                               status=EnrollStatus.ENROLLED, face_px=100, embedder=model)
                s.add(ph)
                s.flush()
                ph.embedding = vault.seal_embedding(r, embedding_aad(did, ph.id))
        bump_revision(s)
    return out


def retained_gallery(venue_ca, broker, unit: str, *, as_unit: str | None = None,
                     quiet_s: float = 1.0) -> dict[str, bytes]:
    """Every retained message on ``unit``'s gallery topics, read with ``as_unit``'s certificate."""
    creds = venue_ca.unit(as_unit or unit)
    got: queue.SimpleQueue = queue.SimpleQueue()
    c = mqtt.make_client(client_id=f"{as_unit or unit}-probe", ca_file=creds.ca_cert, cert_file=creds.cert,
                         key_file=creds.key)
    c.on_message = lambda client, ud, m: got.put((m.topic, bytes(m.payload), m.retain))
    mqtt.connect(c, "localhost", broker.port)
    out: dict[str, bytes] = {}
    try:
        for kind in (wire.Kind.GALLERY, wire.Kind.GALLERY_PART):
            c.subscribe(wire.unit_topic(venue_ca.venue, unit, kind), qos=1)
        while True:
            try:
                topic, payload, retained = got.get(timeout=quiet_s)
            except queue.Empty:
                break
            assert retained
            out[topic] = payload
    finally:
        c.disconnect()
        c.loop_stop()
    return out


def open_retained(venue_ca, unit: str, messages: dict[str, bytes], *, key_unit: str | None = None):
    """Verify the manifest and parts and open the gallery with ``key_unit``'s (default ``unit``'s) key."""
    ctl = pki.load_public_key(venue_ca.controller_signing_pub)
    msgs = {t: wire.verify(p, topic=t, venue=venue_ca.venue, controller_key=ctl) for t, p in messages.items()}
    manifest = msgs[wire.unit_topic(venue_ca.venue, unit, wire.Kind.GALLERY)]
    parts = [msgs[wire.gallery_part_topic(venue_ca.venue, unit, n)] for n in range(manifest.parts)]
    assert [gallery_crypto.digest(p.sealed) for p in parts] == list(manifest.digests)
    key = gallery_keys.parse_key(venue_ca.unit(key_unit or unit).gallery_key.read_text(), "gallery.key")
    return manifest, gallery_crypto.open_gallery(key, venue_ca.venue, unit, [p.sealed for p in parts])

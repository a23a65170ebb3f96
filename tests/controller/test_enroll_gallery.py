"""Gallery publishing over a real broker: each unit gets the enrolled templates in a signed, retained
GalleryUpdate addressed to it; a new enrollment revision is republished; after the purge every unit is
sent an empty gallery that replaces the retained one."""

from __future__ import annotations

import queue

import numpy as np
import pytest

from congress import mqtt, pki, wire
from controller.enrollment import bump_revision, purge_biometrics
from controller.face_vault import FaceVault, embedding_aad
from controller.gallery import PART_TEMPLATES, GalleryPublisher, gallery_messages, mqtt_publisher
from controller.models import Delegate, EnrollStatus, FacePhoto


@pytest.fixture
def vault(tmp_path, monkeypatch):
    monkeypatch.delenv("CONGRESS_FACE_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return FaceVault.load(tmp_path / "data")


def enroll_synthetic(db, vault, people: dict[str, int], *, consent: bool = True) -> dict[str, np.ndarray]:
    """Store sealed unit-length templates as enrollment would (this test is about publishing)."""
    rng = np.random.default_rng(len(people))
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
                               status=EnrollStatus.ENROLLED, face_px=100)
                s.add(ph)
                s.flush()
                ph.embedding = vault.seal_embedding(r, embedding_aad(did, ph.id))
        bump_revision(s)
    return out


def receive_gallery(venue_ca, broker, unit: str) -> wire.GalleryUpdate:
    """Connect as ``unit``, subscribe to its gallery topic and return the retained message, verified."""
    creds = venue_ca.unit(unit)
    got: queue.SimpleQueue = queue.SimpleQueue()
    c = mqtt.make_client(client_id=f"{unit}-probe", ca_file=creds.ca_cert, cert_file=creds.cert,
                         key_file=creds.key)
    c.on_message = lambda client, ud, m: got.put((m.topic, m.payload, m.retain))
    mqtt.connect(c, "localhost", broker.port)
    try:
        c.subscribe(wire.unit_topic(venue_ca.venue, unit, wire.Kind.GALLERY), qos=1)
        topic, payload, retained = got.get(timeout=10)
    finally:
        c.disconnect()
        c.loop_stop()
    assert retained
    return wire.verify(payload, topic=topic, venue=venue_ca.venue,
                       controller_key=pki.load_public_key(venue_ca.controller_signing_pub))


def test_units_get_signed_retained_gallery_and_empty_one_after_purge(db, vault, venue_ca, broker,
                                                                    mqtt_client, tmp_path):
    people = enroll_synthetic(db, vault, {"A": 2, "B": 1})
    enroll_synthetic(db, vault, {"C": 1}, consent=False)  # opted out later: never published
    ctl = mqtt_client("controller", client_id="controller-gallery-test")
    pub = GalleryPublisher(db, vault, venue_id=venue_ca.venue, units=lambda: ["door-1", "door-2"],
                           signing_key=pki.load_signing_key(venue_ca.controller_signing_key),
                           publish=mqtt_publisher(ctl))
    assert pub.run_once() == {"door-1": 3, "door-2": 3}
    assert pub.run_once() == {}  # nothing changed: nothing sent
    g = receive_gallery(venue_ca, broker, "door-1")
    assert g.unit == "door-1" and g.full and g.parts == 1 and g.dim == 128
    got = {e.delegate_id: np.frombuffer(e.embeddings, "<f4").reshape(-1, 128) for e in g.entries}
    assert sorted(got) == ["A", "B"]
    assert np.allclose(got["A"], people["A"]) and np.allclose(got["B"], people["B"])
    version = g.version

    result = purge_biometrics(db, tmp_path / "data", actor="admin")
    assert result["embeddings"] == 4
    assert pub.run_once() == {"door-1": 0, "door-2": 0}
    g2 = receive_gallery(venue_ca, broker, "door-2")
    assert g2.version > version and g2.entries == ()


def test_large_gallery_is_split_into_signed_parts(venue_ca):
    n = PART_TEMPLATES + 10
    ids = [f"D{i:05d}" for i in range(n)]
    emb = np.ones((n, 128), np.float32) / np.sqrt(128)
    key = pki.load_signing_key(venue_ca.controller_signing_key)
    payloads = gallery_messages(venue_ca.venue, "door-1", 9, ids, emb, key, wire.BootCounter())
    assert len(payloads) == 2 and all(len(p) <= wire.MAX_GALLERY_BYTES for p in payloads)
    pub = pki.load_public_key(venue_ca.controller_signing_pub)
    msgs = [wire.verify(p, venue=venue_ca.venue, controller_key=pub) for p in payloads]
    assert [m.part for m in msgs] == [0, 1] and {m.parts for m in msgs} == {2}
    assert sum(len(m.entries) for m in msgs) == n


def test_gallery_service_publishes_on_its_own_connection(db, vault, venue_ca, broker, tmp_path):
    from congress.config import parse_config
    from congress.config.controller import ControllerConfig
    from controller.gallery import GalleryService

    enroll_synthetic(db, vault, {"Q": 1})
    cfg = parse_config({
        "venue": {"id": venue_ca.venue}, "ca_dir": str(venue_ca.dir), "data_dir": str(tmp_path / "data"),
        "broker": {"host": "localhost", "port": broker.port, "ca_file": str(venue_ca.ca_cert),
                   "cert_file": str(venue_ca.controller_cert), "key_file": str(venue_ca.controller_key)},
    }, ControllerConfig)
    svc = GalleryService(cfg, db, interval_s=0.2).start()
    try:
        g = receive_gallery(venue_ca, broker, "door-1")
    finally:
        svc.stop()
    assert [e.delegate_id for e in g.entries] == ["Q"]

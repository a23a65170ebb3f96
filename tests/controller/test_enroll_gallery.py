"""Gallery publishing over a real broker: each unit gets the enrolled templates sealed to its own key
(parts on their own retained topics, a signed manifest), no template is ever in the clear on the broker
or in its persistence file, another unit cannot open it, a revoked unit gets nothing more, a re-issued
unit gets the gallery again under its new key, and after the purge every unit gets an empty gallery."""

from __future__ import annotations

import base64
import secrets
import time

import numpy as np
import pytest
from gallery_probe import enroll_synthetic, open_retained, retained_gallery
from sqlalchemy import select

from congress import gallery_crypto, pki, wire
from congress.errors import ProtocolError
from controller.checkins.unit_registry import UnitRegistry
from controller.delegates.enrollment import purge_biometrics
from controller.delegates.face_vault import FaceVault
from controller.delegates.gallery import GalleryPublisher, mqtt_publisher
from controller.delegates.gallery_parts import PART_PLAIN_BYTES, PART_TEMPLATES, plain_parts
from controller.storage.tables import GalleryPublication


@pytest.fixture
def vault(tmp_path, monkeypatch):
    monkeypatch.delenv("CONGRESS_FACE_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return FaceVault.load(tmp_path / "data")


class Only:
    """The real unit registry of the test CA, limited to the units this test is about."""

    def __init__(self, venue_ca, names) -> None:
        self.registry, self.names = UnitRegistry(venue_ca.dir, recheck_s=0), set(names)

    def known_units(self):
        return [u for u in self.registry.known_units() if u in self.names]

    def gallery_key(self, unit):
        return self.registry.gallery_key(unit)

    def revoked_units(self):
        return [u for u in self.registry.revoked_units() if u in self.names]


def publisher(db, vault, venue_ca, mqtt_client, names) -> GalleryPublisher:
    ctl = mqtt_client("controller", client_id=f"controller-gallery-{'-'.join(names)}")
    pub = GalleryPublisher(db, vault, venue_id=venue_ca.venue, units=Only(venue_ca, names),
                           signing_key=pki.load_signing_key(venue_ca.controller_signing_key),
                           publish=mqtt_publisher(ctl))
    pub.client = ctl  # the test waits for its reconnection after a broker restart
    return pub


def clear_bytes(rows: np.ndarray) -> list[bytes]:
    """How a template would look if it were in the clear: raw float32, and base64 as JSON carries it."""
    raw = np.ascontiguousarray(rows[0], dtype="<f4").tobytes()
    return [raw[:32], raw[-32:], base64.b64encode(raw[:48])]


def test_units_get_sealed_retained_gallery_and_empty_one_after_purge(db, vault, venue_ca, broker,
                                                                    mqtt_client, tmp_path):
    people = enroll_synthetic(db, vault, {"A": 2, "B": 1})
    enroll_synthetic(db, vault, {"C": 1}, consent=False)  # opted out: never published
    pub = publisher(db, vault, venue_ca, mqtt_client, ["door-1", "door-2"])
    assert pub.run_once() == {"door-1": 3, "door-2": 3}
    assert pub.run_once() == {}  # nothing changed: nothing sent
    retained = retained_gallery(venue_ca, broker, "door-1")
    manifest, g = open_retained(venue_ca, "door-1", retained)
    assert manifest.parts == 1 and g.ids == ("A", "A", "B")
    assert np.allclose(g.embeddings[:2], people["A"]) and np.allclose(g.embeddings[2], people["B"][0])
    # The known template is in the opened plaintext (the search works) but nowhere on the broker.
    plain = gallery_crypto.encode(list(g.ids), g.embeddings)
    assert all(needle in plain for needle in clear_bytes(people["A"])[:2])
    ctl_key = pki.load_public_key(venue_ca.controller_signing_pub)
    sealed = [getattr(wire.verify(p, controller_key=ctl_key), "sealed", b"") for p in retained.values()]
    for needle in clear_bytes(people["A"]) + clear_bytes(people["B"]):
        assert all(needle not in payload for payload in retained.values())
        assert all(needle not in blob for blob in sealed)
    # ... nor in Mosquitto's persistence file once the broker has saved it.
    broker.stop()
    saved = (broker.work_dir / "data" / "mosquitto.db").read_bytes()
    assert any(m in saved for m in retained.values())  # the retained gallery is in the file
    for rows in (people["A"], people["B"]):
        for needle in clear_bytes(rows):
            assert needle not in saved
    broker.start()
    deadline = time.monotonic() + 30  # paho reconnects by itself
    while not pub.client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.1)
    # door-2's key cannot open door-1's gallery, and door-2 may not even read door-1's topics.
    with pytest.raises(ProtocolError) as e:
        open_retained(venue_ca, "door-1", retained, key_unit="door-2")
    assert e.value.reason == "gallery_key"
    assert retained_gallery(venue_ca, broker, "door-1", as_unit="door-2", quiet_s=0.5) == {}

    result = purge_biometrics(db, tmp_path / "data", actor="admin")
    assert result["embeddings"] == 4
    assert pub.run_once() == {"door-1": 0, "door-2": 0}
    manifest2, g2 = open_retained(venue_ca, "door-2", retained_gallery(venue_ca, broker, "door-2"))
    assert manifest2.version > manifest.version and g2.ids == ()
    # Mosquitto's persistence, saved after the purge, no longer holds the old sealed gallery (which
    # door-1's key would still open): the empty gallery replaced every retained part and manifest.
    broker.stop()
    saved = (broker.work_dir / "data" / "mosquitto.db").read_bytes()
    assert [t for t, m in retained.items() if m in saved] == []
    broker.start()


def test_revoked_unit_gets_no_gallery_and_reissued_unit_gets_it_under_its_new_key(
        db, vault, venue_ca, broker, mqtt_client):
    rev, new = f"gal-rev-{secrets.token_hex(3)}", f"gal-new-{secrets.token_hex(3)}"  # the CA is shared
    venue_ca.unit(rev)
    venue_ca.unit(new)
    enroll_synthetic(db, vault, {"R": 1})
    pub = publisher(db, vault, venue_ca, mqtt_client, [rev, new])
    assert pub.run_once() == {rev: 1, new: 1}
    assert retained_gallery(venue_ca, broker, rev)  # there before the revocation
    pki.revoke(venue_ca.dir, rev)
    enroll_synthetic(db, vault, {"S": 1})
    assert pub.run_once() == {new: 2}  # nothing more for the revoked unit ...
    # ... and its retained gallery is gone from the broker (the broker still runs with the old CRL,
    # so the revoked certificate can still look).
    assert retained_gallery(venue_ca, broker, rev, quiet_s=0.5) == {}
    with db.session() as s:
        assert s.get(GalleryPublication, rev) is None
    old_key = venue_ca.units[new].gallery_key.read_text()
    venue_ca.units[new] = pki.issue_unit(venue_ca.dir, new, reissue=True)
    assert venue_ca.units[new].gallery_key.read_text() != old_key
    assert pub.run_once() == {new: 2}  # same version, new key: sealed again
    _, g = open_retained(venue_ca, new, retained_gallery(venue_ca, broker, new))
    assert g.ids == ("R", "S")


def test_parts_keep_a_delegate_together_and_stay_under_the_part_limit():
    ids = [f"D{i // 3:05d}" for i in range(PART_TEMPLATES + 300)]
    emb = np.ones((len(ids), 128), np.float32) / np.sqrt(128)
    plains = plain_parts(ids, emb)
    assert len(plains) >= 2 and all(len(p) <= PART_PLAIN_BYTES for p in plains)
    opened = [gallery_crypto.decode(1, p) for p in plains]
    assert sum(len(g.ids) for g in opened) == len(ids)
    assert sum(len(set(g.ids)) for g in opened) == len(set(ids))  # no delegate split between parts
    assert all(len(g.ids) <= PART_TEMPLATES for g in opened)
    assert len(plain_parts([], np.zeros((0, 128), np.float32))) == 1  # the empty gallery is one part


def published(db, unit: str) -> bool:
    with db.session() as s:
        return s.get(GalleryPublication, unit) is not None


def test_gallery_publisher_sends_on_the_controllers_one_link(db, vault, venue_ca, broker, tmp_path):
    from congress.config import parse_config
    from congress.config.controller import ControllerConfig
    from controller.checkins.service import build_link
    from controller.checkins.unit_registry import UnitRegistry
    from controller.delegates.gallery import build_gallery_publisher

    enroll_synthetic(db, vault, {"Q": 1})
    cfg = parse_config({
        "venue": {"id": venue_ca.venue}, "ca_dir": str(venue_ca.dir), "data_dir": str(tmp_path / "data"),
        "broker": {"host": "localhost", "port": broker.port, "ca_file": str(venue_ca.ca_cert),
                   "cert_file": str(venue_ca.controller_cert), "key_file": str(venue_ca.controller_key)},
    }, ControllerConfig)
    link = build_link(cfg, client_id="controller-gallery-test").start()
    pub = build_gallery_publisher(cfg, db, link.publish_retained, UnitRegistry(cfg.ca_dir),
                                  counter=link.counter)
    pub.interval_s = 0.2
    pub.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if not published(db, "door-1"):  # read what is retained, not a publication under way
                time.sleep(0.1)
                continue
            got = retained_gallery(venue_ca, broker, "door-1", quiet_s=0.5)
            if len(got) >= 2:
                break
    finally:
        pub.stop()
        link.stop()
    manifest, g = open_retained(venue_ca, "door-1", got)
    assert g.ids == ("Q",)
    assert manifest.boot == link.counter.boot  # numbered by the link's one counter


def test_unit_still_reporting_an_older_gallery_is_sent_it_again(db, vault, venue_ca, broker, mqtt_client):
    """Lost retained messages (a broker that lost its persistence): the unit's heartbeats keep reporting
    an older gallery, so after ``resend_after_s`` the current one is sealed and sent again, once."""
    import datetime as dt

    from controller.devices import health as devices
    from controller.storage.database import utcnow

    enroll_synthetic(db, vault, {"U": 1})
    pub = publisher(db, vault, venue_ca, mqtt_client, ["door-1", "door-2"])
    assert pub.run_once() == {"door-1": 1, "door-2": 1}
    with db.session() as s:
        version = s.get(GalleryPublication, "door-1").version
        for row in s.scalars(select(GalleryPublication)):
            row.published_at = utcnow() - dt.timedelta(seconds=pub.resend_after_s * 3)
        for n, (unit, reported) in enumerate((("door-1", version - 1), ("door-2", version))):
            devices.record_status(s, wire.UnitStatus(venue=venue_ca.venue, unit=unit, boot="b", seq=n + 1,
                                                     state=wire.UnitState.READY, gallery_version=reported),
                                  received_at=utcnow())
    assert pub.run_once() == {"door-1": 1}  # door-2 has it; door-1 gets it again
    assert pub.run_once() == {}  # and not again before another resend_after_s

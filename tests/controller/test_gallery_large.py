"""A gallery bigger than one part (> 4,000 templates) over the real broker: every part on its own
retained topic, a real door unit that was offline while a new version was published installs it
complete on reconnecting, a unit that connects for the first time gets it from the retained messages
alone, and part topics left over from a bigger gallery are cleared when it shrinks."""

from __future__ import annotations

import time

import numpy as np
import pytest
from gallery_probe import enroll_synthetic, open_retained, retained_gallery

from congress import gallery_keys, pki, wire
from congress.config.common import BrokerSection
from congress.link.outbox import Outbox
from congress.link.publisher import Publisher
from controller.delegates.enrollment import purge_biometrics
from controller.delegates.face_vault import FaceVault
from controller.delegates.gallery import GalleryPublisher, mqtt_publisher
from controller.delegates.gallery_parts import PART_TEMPLATES
from edge.gallery import GalleryStore
from edge.gallery_sync import GallerySync


class Doors:
    """door-1 and door-2 of the test CA, with their gallery keys."""

    def __init__(self, venue_ca) -> None:
        self.venue_ca = venue_ca

    def known_units(self):
        return ["door-1", "door-2"]

    def gallery_key(self, unit):
        return gallery_keys.read_public(self.venue_ca.unit(unit).gallery_pub)

    def revoked_units(self):
        return []


class DoorUnit:
    """The door unit's gallery path: store, sync and MQTT link; the link can go and come back."""

    def __init__(self, venue_ca, broker, unit: str, data) -> None:
        self.creds = venue_ca.unit(unit)
        self.venue_ca, self.broker, self.unit = venue_ca, broker, unit
        key = gallery_keys.parse_key(self.creds.gallery_key.read_text(), "key")
        self.store = GalleryStore(data, key, venue_ca.venue, unit)
        self.sync = GallerySync(self.store)
        self.outbox = Outbox(data / "outbox.db", 100, boot_id="b")
        self.link: Publisher | None = None

    def connect(self) -> None:
        c = self.creds
        section = BrokerSection(host="localhost", port=self.broker.port, ca_file=c.ca_cert, cert_file=c.cert,
                                key_file=c.key)
        self.link = Publisher(broker=section, venue_id=self.venue_ca.venue, unit_id=self.unit,
                              signing_key=pki.load_signing_key(c.signing_key),
                              controller_key=pki.load_public_key(c.controller_pub), outbox=self.outbox,
                              health=lambda: {"gallery_version": self.store.version}, on_gallery=self.sync)
        self.link.start()

    def disconnect(self) -> None:
        self.link.stop()

    def close(self) -> None:
        if self.link is not None:
            self.link.stop()
        self.outbox.close()


def wait(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def vault(tmp_path, monkeypatch):
    monkeypatch.delenv("CONGRESS_FACE_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return FaceVault.load(tmp_path / "data")


def test_large_gallery_in_parts_reaches_a_reconnecting_and_a_new_unit(sqlite_db, vault, venue_ca, broker,
                                                                       mqtt_client, tmp_path):
    db = sqlite_db
    first = enroll_synthetic(db, vault, {f"L{i:05d}": 3 for i in range(1400)}, seed=1)  # 4,200 templates
    assert sum(len(r) for r in first.values()) > PART_TEMPLATES
    ctl = mqtt_client("controller", client_id="controller-gallery-large")
    pub = GalleryPublisher(db, vault, venue_id=venue_ca.venue, units=Doors(venue_ca),
                           signing_key=pki.load_signing_key(venue_ca.controller_signing_key),
                           publish=mqtt_publisher(ctl))
    door1 = DoorUnit(venue_ca, broker, "door-1", tmp_path / "door-1")
    door2 = DoorUnit(venue_ca, broker, "door-2", tmp_path / "door-2")
    try:
        door1.connect()
        assert wait(lambda: door1.link.stats.connected)
        assert pub.run_once() == {"door-1": 4200, "door-2": 4200}
        assert wait(lambda: len(door1.store.index) == 1400)
        v1 = door1.store.version
        assert door1.store.index.search(first["L00777"][1]).identity == "L00777"

        door1.disconnect()  # offline while the gallery grows
        more = enroll_synthetic(db, vault, {f"M{i:05d}": 3 for i in range(200)}, seed=2)
        assert pub.run_once() == {"door-1": 4800, "door-2": 4800}
        retained = retained_gallery(venue_ca, broker, "door-1")
        manifest, g = open_retained(venue_ca, "door-1", retained)
        assert len(retained) == manifest.parts + 1  # the manifest and every part on its own retained topic
        assert manifest.parts > 2 and len(g.ids) == 4800
        door1.connect()  # reconnects: the retained parts and the queued ones arrive in any order
        assert wait(lambda: door1.store.version > v1)
        assert len(door1.store.index) == 1600 and door1.store.version == manifest.version
        assert door1.store.index.search(more["M00123"][2]).identity == "M00123"
        assert door1.sync.refused == 0

        door2.connect()  # first connection ever: everything comes from the retained messages
        assert wait(lambda: door2.store.version == manifest.version)
        assert len(door2.store.index) == 1600

        purge_biometrics(db, tmp_path / "data", actor="admin")  # the gallery shrinks to one empty part
        assert pub.run_once() == {"door-1": 0, "door-2": 0}
        assert wait(lambda: door1.store.version > manifest.version and len(door1.store.index) == 0)
        left = retained_gallery(venue_ca, broker, "door-1")
        assert sorted(left) == [wire.unit_topic(venue_ca.venue, "door-1", wire.Kind.GALLERY),
                                wire.gallery_part_topic(venue_ca.venue, "door-1", 0)]  # parts 1.. cleared
        assert door1.sync.refused == 0 and door1.link.stats.rejected_messages == 0
    finally:
        door1.close()
        door2.close()
    assert np.asarray(g.embeddings).shape == (4800, 128)

"""Gallery sync over the real broker: signed parts assembled, sealed at rest, swapped, kept offline."""

from __future__ import annotations

import time

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from edge_controller_stand_in import ControllerStandIn

from congress import gallery_crypto, pki, wire
from congress.config.common import BrokerSection
from congress.errors import ProtocolError
from edge.gallery import FILE, GalleryStore
from edge.gallery_sync import GallerySync
from edge.outbox import Outbox
from edge.publisher import Publisher

VENUE_KEY = bytes(range(32))


def update(venue, unit, version, part, parts, entries, *, full=True, removed=()):
    return wire.GalleryUpdate(
        venue=venue, unit=unit, boot="ctl", seq=version * 10 + part, version=version, full=full, part=part,
        parts=parts, entries=tuple(wire.GalleryEntry(d, e.astype("<f4").tobytes()) for d, e in entries),
        removed=tuple(removed))


def unit_vectors(n, seed):
    v = np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def synced_unit(venue_ca, broker, tmp_path):
    creds = venue_ca.unit("door-2")
    key = gallery_crypto.derive_unit_key(VENUE_KEY, venue_ca.venue, "door-2")
    store = GalleryStore(tmp_path, key, venue_ca.venue, "door-2")
    outbox = Outbox(tmp_path / "outbox.db", 100, boot_id="b")
    section = BrokerSection(host="localhost", port=broker.port, ca_file=creds.ca_cert, cert_file=creds.cert,
                            key_file=creds.key)
    pub = Publisher(broker=section, venue_id=venue_ca.venue, unit_id="door-2",
                    signing_key=pki.load_signing_key(creds.signing_key),
                    controller_key=pki.load_public_key(creds.controller_pub), outbox=outbox,
                    health=lambda: {"gallery_version": store.version}, on_gallery=GallerySync(store),
                    heartbeat_s=1.0)
    pub.start()
    yield store, pub, key, tmp_path
    pub.stop()
    outbox.close()


def wait(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_gallery_parts_install_atomically_sealed_and_survive_restart(venue_ca, broker, synced_unit):
    store, pub, key, data = synced_unit
    ctl = ControllerStandIn(venue_ca, broker)
    try:
        assert wait(lambda: pub.stats.connected)
        a, b, c = unit_vectors(2, 1), unit_vectors(1, 2), unit_vectors(1, 3)
        ctl.publish(update(venue_ca.venue, "door-2", 4, 0, 2, [("D-1", a)]))
        time.sleep(0.5)
        assert store.version == 0  # half a gallery is never installed
        ctl.publish(update(venue_ca.venue, "door-2", 4, 1, 2, [("D-2", b)]))
        assert wait(lambda: store.version == 4)
        assert store.index.search(a[1]).identity == "D-1"
        assert store.index.search(b[0]).identity == "D-2"
        assert ctl.wait_for(lambda c: any(s.gallery_version == 4 for s in c.statuses))
        blob = (data / FILE).read_bytes()
        assert a.astype("<f4").tobytes()[:64] not in blob  # encrypted at rest
        assert oct((data / FILE).stat().st_mode & 0o777) == "0o600"
        # A delta replaces D-2 and adds nobody else; D-1 stays.
        ctl.publish(update(venue_ca.venue, "door-2", 5, 0, 1, [("D-2", c)], full=False))
        assert wait(lambda: store.version == 5)
        assert store.index.search(c[0]).identity == "D-2" and store.index.search(c[0]).score > 0.99
        assert store.index.verify(b[0], "D-2") < 0.9
        # A gallery signed by someone else is refused; an older version is ignored.
        forged = update(venue_ca.venue, "door-2", 9, 0, 1, [("X", c)])
        ctl.client.publish(forged.topic, wire.encode(forged, Ed25519PrivateKey.generate()), qos=1)
        ctl.publish(update(venue_ca.venue, "door-2", 3, 0, 1, [("Old", c)]))
        assert wait(lambda: pub.stats.rejected_messages == 1)
        time.sleep(0.3)
        assert store.version == 5 and "X" not in store.index.names and "Old" not in store.index.names
        # A delta the unit cannot apply (64-d templates into a 128-d gallery) is skipped; the link lives.
        bad = wire.GalleryUpdate(venue=venue_ca.venue, unit="door-2", boot="ctl", seq=99, version=6,
                                 full=False, dim=64, entries=(wire.GalleryEntry("D-3", bytes(256)),))
        ctl.publish(bad)
        assert wait(lambda: pub.stats.rejected_messages == 2)
        ctl.publish(update(venue_ca.venue, "door-2", 7, 0, 1, [("D-1", a), ("D-2", c)]))
        assert wait(lambda: store.version == 7) and pub.is_alive()
    finally:
        ctl.close()
    # Offline after a restart: the last gallery is loaded from disk with the unit's key only.
    again = GalleryStore(data, key, venue_ca.venue, "door-2")
    assert again.version == 7 and again.index.names == ["D-1", "D-2"]
    other = gallery_crypto.derive_unit_key(VENUE_KEY, venue_ca.venue, "door-1")
    with pytest.raises(ProtocolError):
        gallery_crypto.open_sealed(other, venue_ca.venue, "door-1", (data / FILE).read_bytes())

"""Gallery sync over the real broker: sealed parts on their own retained topics, a signed manifest,
installed only when complete and verified, sealed at rest, kept when a bad one arrives, loaded offline."""

from __future__ import annotations

import time

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from edge_controller_stand_in import ControllerStandIn

from congress import gallery_crypto, gallery_keys, pki, wire
from congress.config.common import BrokerSection
from congress.errors import ProtocolError
from congress.link.outbox import Outbox
from congress.link.publisher import Publisher
from edge.gallery import FILE, GalleryStore
from edge.gallery_sync import GallerySync


def sealed(venue, unit, pub, version, groups, *, seq0=0):
    """``(parts, manifest)`` messages of one gallery version sealed to ``pub``; ``groups`` is one list of
    ``(delegate, rows)`` per part."""
    plains = [gallery_crypto.encode([d for d, r in g for _ in r],
                                    np.concatenate([r for _, r in g]) if g else np.zeros((0, 128)))
              for g in groups]
    blobs = gallery_crypto.seal_parts(pub, venue, unit, version, plains)
    env = {"venue": venue, "unit": unit, "boot": "ctl"}
    parts = [wire.GalleryPart(**env, seq=seq0 + n + 1, version=version, part=n, parts=len(blobs), sealed=b)
             for n, b in enumerate(blobs)]
    manifest = wire.GalleryUpdate(**env, seq=seq0 + len(blobs) + 1, version=version, parts=len(blobs),
                                  digests=tuple(gallery_crypto.digest(b) for b in blobs))
    return parts, manifest


def unit_vectors(n, seed):
    v = np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def synced_unit(venue_ca, broker, tmp_path):
    creds = venue_ca.unit("door-2")
    key = gallery_keys.parse_key(creds.gallery_key.read_text(), "gallery.key")
    store = GalleryStore(tmp_path, key, venue_ca.venue, "door-2")
    sync = GallerySync(store)
    outbox = Outbox(tmp_path / "outbox.db", 100, boot_id="b")
    section = BrokerSection(host="localhost", port=broker.port, ca_file=creds.ca_cert, cert_file=creds.cert,
                            key_file=creds.key)
    pub = Publisher(broker=section, venue_id=venue_ca.venue, unit_id="door-2",
                    signing_key=pki.load_signing_key(creds.signing_key),
                    controller_key=pki.load_public_key(creds.controller_pub), outbox=outbox,
                    health=lambda: {"gallery_version": store.version}, on_gallery=sync, heartbeat_s=1.0)
    pub.start()
    yield store, pub, sync, key, tmp_path
    pub.stop()
    outbox.close()


def wait(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_sealed_parts_install_when_complete_refuse_tampering_and_survive_restart(
        venue_ca, broker, synced_unit, caplog):
    store, pub, sync, key, data = synced_unit
    venue = venue_ca.venue
    unit_pub = gallery_keys.read_public(venue_ca.unit("door-2").gallery_pub)
    ctl = ControllerStandIn(venue_ca, broker)
    try:
        assert wait(lambda: pub.stats.connected)
        a, b, c = unit_vectors(2, 1), unit_vectors(1, 2), unit_vectors(1, 3)
        parts, manifest = sealed(venue, "door-2", unit_pub, 4, [[("D-1", a)], [("D-2", b)]])
        ctl.publish(parts[1], retain=True)
        ctl.publish(manifest, retain=True)
        time.sleep(0.5)
        assert store.version == 0  # half a gallery is never installed
        ctl.publish(parts[0], retain=True)
        assert wait(lambda: store.version == 4)
        assert store.index.search(a[1]).identity == "D-1"
        assert store.index.search(b[0]).identity == "D-2"
        assert ctl.wait_for(lambda c: any(s.gallery_version == 4 for s in c.statuses))
        blob = (data / FILE).read_bytes()
        assert a.astype("<f4").tobytes()[:64] not in blob  # encrypted at rest
        assert oct((data / FILE).stat().st_mode & 0o777) == "0o600"

        # A part altered after sealing (the controller signed it, the manifest names the original): refused.
        parts5, manifest5 = sealed(venue, "door-2", unit_pub, 5, [[("D-1", a), ("D-2", c)]], seq0=10)
        raw = parts5[0].sealed
        tampered = wire.GalleryPart(venue=venue, unit="door-2", boot="ctl", seq=50, version=5, part=0,
                                    parts=1, sealed=raw[:-1] + bytes([raw[-1] ^ 1]))
        ctl.publish(tampered)
        ctl.publish(manifest5)
        assert wait(lambda: sync.refused == 1)
        assert "does not match the signed manifest" in caplog.text
        assert store.version == 4
        ctl.publish(parts5[0])  # the genuine part completes version 5
        assert wait(lambda: store.version == 5)
        assert store.index.search(c[0]).identity == "D-2"

        # Sealed for door-1 (another unit's key), signed and consistent: cannot be opened, refused.
        other = gallery_keys.read_public(venue_ca.unit("door-1").gallery_pub)
        parts6, manifest6 = sealed(venue, "door-2", other, 6, [[("X", c)]], seq0=60)
        ctl.publish(parts6[0])
        ctl.publish(manifest6)
        assert wait(lambda: sync.refused == 2)
        assert "gallery version 6 refused" in caplog.text and "cannot be decrypted" in caplog.text
        assert store.version == 5 and "X" not in store.index.names

        # A manifest signed by someone else is refused by the publisher; an older version is ignored.
        parts9, manifest9 = sealed(venue, "door-2", unit_pub, 9, [[("Y", c)]], seq0=90)
        ctl.publish(parts9[0])
        ctl.client.publish(manifest9.topic, wire.encode(manifest9, Ed25519PrivateKey.generate()), qos=1)
        assert wait(lambda: pub.stats.rejected_messages == 1)
        parts3, manifest3 = sealed(venue, "door-2", unit_pub, 3, [[("Old", c)]], seq0=30)
        ctl.publish(parts3[0])
        ctl.publish(manifest3)
        time.sleep(0.3)
        assert store.version == 5 and "Y" not in store.index.names and "Old" not in store.index.names
        assert pub.is_alive()
    finally:
        ctl.close()
    # Offline after a restart: the last gallery is loaded from disk with the unit's key only.
    again = GalleryStore(data, key, venue, "door-2")
    assert again.version == 5 and again.index.names == ["D-1", "D-2"]
    other_key = gallery_keys.parse_key(venue_ca.unit("door-1").gallery_key.read_text(), "door-1")
    with pytest.raises(ProtocolError):
        GalleryStore(data, other_key, venue, "door-2")._open((data / FILE).read_bytes())

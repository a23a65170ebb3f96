"""Publisher against a real Mosquitto (TLS, client certificates, ACL) and a controller stand-in."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from edge_controller_stand_in import ControllerStandIn

from congress import pki, wire
from congress.config.common import BrokerSection
from congress.link.outbox import Outbox
from congress.link.publisher import Publisher


def checkin_builder(venue, unit, key, delegate):
    def build(boot, seq):
        msg = wire.CheckIn(
            venue=venue,
            unit=unit,
            boot=boot,
            seq=seq,
            delegate_id=delegate,
            direction=wire.Direction.IN,
            method=wire.Method.FACE,
            door="north",
        )
        return wire.encode(msg, key)

    return build


@pytest.fixture
def unit_parts(venue_ca, broker, tmp_path):
    creds = venue_ca.unit("door-1")
    section = BrokerSection(
        host="localhost", port=broker.port, ca_file=creds.ca_cert, cert_file=creds.cert, key_file=creds.key
    )
    key = pki.load_signing_key(creds.signing_key)
    outbox = Outbox(tmp_path / "outbox.db", 1000, boot_id="boot1")
    made = []

    def make(**kw):
        p = Publisher(
            broker=section,
            venue_id=venue_ca.venue,
            unit_id="door-1",
            signing_key=key,
            controller_key=pki.load_public_key(creds.controller_pub),
            outbox=outbox,
            health=lambda: {"gallery_version": 3, "detail": {"fps": 9.5}},
            heartbeat_s=1.0,
            **kw,
        )
        made.append(p)
        p.start()
        return p

    yield make, outbox, key
    for p in made:
        p.stop()
    outbox.close()


def add(outbox, venue, key, n, prefix="D"):
    for i in range(n):
        outbox.add("checkin", checkin_builder(venue, "door-1", key, f"{prefix}{i}"))


def test_events_are_published_acked_and_deleted(venue_ca, broker, unit_parts):
    make, outbox, key = unit_parts
    ctl = ControllerStandIn(venue_ca, broker)
    try:
        add(outbox, venue_ca.venue, key, 5)
        pub = make()
        assert ctl.wait_for(lambda c: len(c.checkins) == 5)
        assert _wait(lambda: outbox.depth() == 0)
        assert sorted(k[2] for k in ctl.checkins) == [1, 2, 3, 4, 5]
        assert {m.delegate_id for m in ctl.checkins.values()} == {f"D{i}" for i in range(5)}
        assert ctl.wait_for(lambda c: any(s.state is wire.UnitState.READY for s in c.statuses))
        st = [s for s in ctl.statuses if s.state is wire.UnitState.READY][-1]
        assert st.gallery_version == 3 and '"fps":9.5' in st.detail and st.boot == pub.boot
        assert ctl.rejected == []
    finally:
        ctl.close()


def test_forged_ack_deletes_nothing(venue_ca, broker, unit_parts, mqtt_client):
    make, outbox, key = unit_parts
    ctl = ControllerStandIn(venue_ca, broker, acking=False)
    try:
        add(outbox, venue_ca.venue, key, 2)
        pub = make()
        assert ctl.wait_for(lambda c: len(c.checkins) == 2)
        forged = wire.Ack(
            venue=venue_ca.venue,
            unit="door-1",
            boot="x",
            seq=1,
            events=(wire.AckedEvent("boot1", 1), wire.AckedEvent("boot1", 2)),
        )
        ctl.client.publish(forged.topic, wire.encode(forged, Ed25519PrivateKey.generate()), qos=1)
        assert _wait(lambda: pub.stats.rejected_messages == 1)
        assert outbox.depth() == 2
        ctl.ack("door-1", [("boot1", 2)])
        assert _wait(lambda: outbox.depth() == 1)
        assert [e.seq for e in outbox.pending()] == [1]
    finally:
        ctl.close()


def test_broker_down_events_queue_then_arrive(venue_ca, broker, unit_parts):
    make, outbox, key = unit_parts
    ctl = ControllerStandIn(venue_ca, broker)
    try:
        pub = make()
        add(outbox, venue_ca.venue, key, 3, prefix="A")
        pub.notify()
        assert ctl.wait_for(lambda c: len(c.checkins) == 3)
        assert _wait(lambda: outbox.depth() == 0)
        broker.stop()
        assert _wait(lambda: not pub.stats.connected)
        add(outbox, venue_ca.venue, key, 4, prefix="B")
        pub.notify()
        time.sleep(1.0)
        assert outbox.depth() == 4  # nothing lost while the broker is away
        broker.start()
        assert ctl.wait_for(lambda c: len(c.checkins) == 7, timeout=60)
        assert _wait(lambda: outbox.depth() == 0, timeout=30)
        assert sorted(k[2] for k in ctl.checkins) == list(range(1, 8))
    finally:
        ctl.close()


def _wait(cond, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_new_controller_presence_resends_everything_unacknowledged(venue_ca, broker, unit_parts):
    """The controller (re)subscribed, e.g. after a central broker restart that lost its queue: the unit
    publishes its unacknowledged events again at once, without waiting for its resend timer."""
    make, outbox, key = unit_parts
    ctl = ControllerStandIn(venue_ca, broker, acking=False)
    try:
        add(outbox, venue_ca.venue, key, 2)
        pub = make(resend_s=300.0)
        assert ctl.wait_for(lambda c: c.deliveries == 2)
        presence = wire.presence_topic(venue_ca.venue)
        ctl.client.publish(presence, b"ctl-boot-a:1", qos=1, retain=True)
        time.sleep(1.0)
        assert ctl.deliveries == 2  # the first presence a unit sees is no news
        ctl.client.publish(presence, b"ctl-boot-a:2", qos=1, retain=True)
        assert ctl.wait_for(lambda c: c.deliveries == 4, timeout=10)
        assert pub.stats.presence_resends == 1 and outbox.depth() == 2
        ctl.ack("door-1", [("boot1", 1), ("boot1", 2)])
        assert _wait(lambda: outbox.depth() == 0)
    finally:
        ctl.client.publish(wire.presence_topic(venue_ca.venue), b"", qos=1, retain=True)
        ctl.close()

"""The broker's byte budget and client-id binding (issue "hostile input", items 3 and 5), against the
real Mosquitto with TLS, client certificates and the ACL: a unit's packet is small, a gallery part
still passes, a client's queue has a byte limit, and no certificate can take over another client's
session by connecting under its client id. Figures: docs/security.md."""

from __future__ import annotations

import queue
import time

import numpy as np

from congress import gallery_keys, mqtt, pki, wire
from congress.broker import MAX_PACKET_BYTES, Mosquitto
from controller.delegates.gallery_parts import PART_PLAIN_BYTES, plain_parts, unit_messages
from tests.foundation.test_broker import WAIT, Inbox, publish, signed_checkin, subscribe


class Disconnects:
    """Every DISCONNECT a paho client sees, with the broker's reason."""

    def __init__(self, client) -> None:
        self.reasons: list[str] = []
        client.on_disconnect = lambda c, u, flags, rc, props: self.reasons.append(str(rc))


def round_trip(client, topic: str) -> None:
    """A SUBACK from the broker: everything it sent this client before is processed by now."""
    subscribe(client, topic)


def test_a_unit_cannot_take_over_the_controllers_session(venue_ca, broker, mqtt_client):
    ctl = mqtt.make_client(client_id="controller", ca_file=venue_ca.ca_cert,
                           cert_file=venue_ca.controller_cert, key_file=venue_ca.controller_key)
    gone = Disconnects(ctl)
    inbox = Inbox(ctl)
    mqtt.connect(ctl, "localhost", broker.port, durable=True)
    subscribe(ctl, wire.subscription(venue_ca.venue, "checkin"))
    try:
        for _attempt in range(3):  # a stolen door certificate, connecting as "controller" again and again
            mqtt_client("door-1", client_id="controller")
        round_trip(ctl, wire.subscription(venue_ca.venue, "status"))
        assert ctl.is_connected() and gone.reasons == []
        # the unit got its own session (its client id is its certificate's name), and still works
        topic, payload = signed_checkin(venue_ca, "door-1", 1)
        assert publish(mqtt_client("door-2", client_id="door-1"), *signed_checkin(venue_ca, "door-2", 1)) \
            == "Success"
        assert publish(mqtt_client("door-1", client_id="door-2"), topic, payload) == "Success"
        assert (topic, payload) in inbox.until(payload)
        assert gone.reasons == []
    finally:
        ctl.disconnect()
        ctl.loop_stop()
    assert "use_username_as_clientid true" in broker.conf_path.read_text()


def test_a_unit_packet_bigger_than_the_limit_disconnects_it(venue_ca, broker, mqtt_client):
    ctl = mqtt_client("controller")
    inbox = Inbox(ctl)
    subscribe(ctl, wire.subscription(venue_ca.venue, "status"))
    unit = mqtt_client("door-2")
    gone = Disconnects(unit)
    topic = wire.unit_topic(venue_ca.venue, "door-2", "status")
    unit.publish(topic, b"x" * (MAX_PACKET_BYTES + 1), qos=1, retain=True)
    deadline = time.monotonic() + WAIT
    while not gone.reasons and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone.reasons, "the broker kept a unit that sent an oversized packet"
    # nothing of it was delivered or retained; the controller still hears a normal status
    unit.loop_stop()
    small = mqtt_client("door-1")
    marker = b"small status"
    assert publish(small, wire.unit_topic(venue_ca.venue, "door-1", "status"), marker) == "Success"
    got = inbox.until(marker)
    assert all(len(p) <= MAX_PACKET_BYTES for _, p in got)


def test_the_largest_gallery_part_fits_the_broker_packet_limit(venue_ca, broker, mqtt_client):
    unit_pub = gallery_keys.read_public(venue_ca.unit("door-1").gallery_pub)
    n = 1200
    ids = [f"D{i:05d}-with-a-long-identifier-{'x' * 60}" for i in range(n)]  # longest ids, one row each
    emb = np.random.default_rng(1).standard_normal((n, 128)).astype(np.float32)
    plains = plain_parts(ids, emb)
    assert len(plains) > 1 and max(len(p) for p in plains) <= PART_PLAIN_BYTES
    counter = wire.BootCounter()
    key = pki.load_signing_key(venue_ca.controller_signing_key)
    parts, _manifest = unit_messages(venue_ca.venue, "door-1", unit_pub, 1, plains, key, counter)
    assert max(len(p) for _, p in parts) <= wire.MAX_GALLERY_BYTES < MAX_PACKET_BYTES
    unit = mqtt_client("door-1")
    inbox = Inbox(unit)
    subscribe(unit, wire.unit_topic(venue_ca.venue, "door-1", "gallery") + "/+")
    ctl = mqtt_client("controller")
    biggest = max(parts, key=lambda tp: len(tp[1]))
    assert publish(ctl, *biggest) == "Success"
    assert biggest in inbox.until(biggest[1])


def test_a_clients_queue_has_a_byte_limit(venue_ca, tmp_path):
    budget = 256 * 1024
    with Mosquitto.from_ca(venue_ca.dir, work_dir=tmp_path / "broker", max_queued_bytes=budget) as b:
        assert f"max_queued_bytes {budget}" in b.conf_path.read_text()
        ctl = mqtt.make_client(client_id="controller", ca_file=venue_ca.ca_cert,
                               cert_file=venue_ca.controller_cert, key_file=venue_ca.controller_key)
        mqtt.connect(ctl, "localhost", b.port, durable=True)
        subscribe(ctl, wire.subscription(venue_ca.venue, "status"))
        ctl.disconnect()
        ctl.loop_stop()  # the controller is away; its durable session queues for it
        creds = venue_ca.unit("door-1")
        unit = mqtt.make_client(client_id="door-1", ca_file=creds.ca_cert, cert_file=creds.cert,
                                key_file=creds.key)
        mqtt.connect(unit, "localhost", b.port)
        topic = wire.unit_topic(venue_ca.venue, "door-1", "status")
        n, size = 200, 15 * 1024
        for i in range(n):
            assert publish(unit, topic, i.to_bytes(4, "big") + b"x" * (size - 4)) == "Success"
        unit.disconnect()
        unit.loop_stop()
        ctl2 = mqtt.make_client(client_id="controller", ca_file=venue_ca.ca_cert,
                                cert_file=venue_ca.controller_cert, key_file=venue_ca.controller_key)
        got: queue.Queue = queue.Queue()
        ctl2.on_message = lambda c, u, m: got.put(len(m.payload))
        mqtt.connect(ctl2, "localhost", b.port, durable=True)
        round_trip(ctl2, wire.subscription(venue_ca.venue, "checkin"))
        received = []
        while True:  # until the queue has drained (nothing more for a second)
            try:
                received.append(got.get(timeout=1.0))
            except queue.Empty:
                break
        ctl2.disconnect()
        ctl2.loop_stop()
        print(f"{len(received)} of {n} messages, {sum(received)} bytes kept")
        assert received, "the queue kept nothing at all"
        assert sum(received) <= budget + size  # the budget and the message that crossed it
        assert len(received) < n

"""A real Mosquitto with TLS, client certificates and the ACL, driven by real paho clients."""

from __future__ import annotations

import queue
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from congress import mqtt, pki, wire
from congress.broker import RESERVED_PORTS, Mosquitto, render_acl
from congress.errors import BrokerError

WAIT = 10.0


class Inbox:
    """Collects (topic, payload) from a paho client's network thread."""

    def __init__(self, client) -> None:
        self.q: queue.Queue = queue.Queue()
        client.on_message = lambda c, u, m: self.q.put((m.topic, m.payload))

    def until(self, payload: bytes) -> list[tuple[str, bytes]]:
        """Everything received up to and including ``payload`` (fails if it never arrives)."""
        got = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                item = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            got.append(item)
            if item[1] == payload:
                return got
        raise AssertionError(f"{payload!r} never arrived; got {got}")


def publish(client, topic: str, payload: bytes) -> str:
    """Publish QoS 1 and return the broker's PUBACK reason (MQTT 5)."""
    acks: queue.Queue = queue.Queue()
    client.on_publish = lambda c, u, mid, rc, props: acks.put((mid, str(rc)))
    info = client.publish(topic, payload, qos=1)
    mid, rc = acks.get(timeout=WAIT)
    assert mid == info.mid
    return rc


def subscribe(client, topic: str) -> None:
    done: queue.Queue = queue.Queue()
    client.on_subscribe = lambda c, u, mid, rcs, props: done.put(rcs)
    client.subscribe(topic, qos=1)
    assert not done.get(timeout=WAIT)[0].is_failure


def signed_checkin(venue_ca, unit: str, seq: int, topic_unit: str | None = None) -> tuple[str, bytes]:
    msg = wire.CheckIn(venue=venue_ca.venue, unit=unit, boot="boot-a", seq=seq, delegate_id="D-1",
                       direction=wire.Direction.IN, method=wire.Method.FACE, door="north", score=0.9)
    key = pki.load_signing_key(venue_ca.unit(unit).signing_key)
    return wire.unit_topic(venue_ca.venue, topic_unit or unit, "checkin"), wire.encode(msg, key)


def test_unit_checkin_reaches_controller_and_verifies(venue_ca, mqtt_client):
    ctl = mqtt_client("controller")
    inbox = Inbox(ctl)
    subscribe(ctl, wire.subscription(venue_ca.venue, "checkin"))
    door = mqtt_client("door-1")
    topic, payload = signed_checkin(venue_ca, "door-1", 1)
    assert publish(door, topic, payload) == "Success"
    [(got_topic, got)] = inbox.until(payload)
    keys = pki.unit_signing_keys(venue_ca.dir)
    msg = wire.verify(got, topic=got_topic, venue=venue_ca.venue, unit_keys=keys)
    assert msg.event_id == ("door-1", "boot-a", 1)


def test_unit_cannot_publish_on_another_units_topics(venue_ca, mqtt_client):
    ctl = mqtt_client("controller")
    inbox = Inbox(ctl)
    subscribe(ctl, wire.subscription(venue_ca.venue, "checkin"))
    subscribe(ctl, wire.subscription(venue_ca.venue, "status"))
    door1 = mqtt_client("door-1")
    forged_topic, forged = signed_checkin(venue_ca, "door-1", 2, topic_unit="door-2")
    assert publish(door1, forged_topic, forged) == "Not authorized"
    status_topic = wire.unit_topic(venue_ca.venue, "door-2", "status")
    assert publish(door1, status_topic, b"forged status") == "Not authorized"
    marker_topic, marker = signed_checkin(venue_ca, "door-1", 3)
    assert publish(door1, marker_topic, marker) == "Success"
    received = inbox.until(marker)  # sent after the forged ones on the same connection
    assert received == [(marker_topic, marker)]


def test_unit_cannot_write_controller_topics_or_read_other_units(venue_ca, mqtt_client):
    door1 = mqtt_client("door-1")
    for kind in ("ack", "gallery", "cmd"):  # a unit cannot impersonate the controller, even to itself
        assert publish(door1, wire.unit_topic(venue_ca.venue, "door-1", kind), b"x") == "Not authorized"
    inbox = Inbox(door1)
    subscribe(door1, wire.unit_topic(venue_ca.venue, "door-2", "ack"))  # granted, but filtered by the ACL
    subscribe(door1, wire.unit_topic(venue_ca.venue, "+", "cmd"))
    subscribe(door1, wire.unit_topic(venue_ca.venue, "door-1", "ack"))
    ctl = mqtt_client("controller")
    assert publish(ctl, wire.unit_topic(venue_ca.venue, "door-2", "ack"), b"for door-2") == "Success"
    assert publish(ctl, wire.unit_topic(venue_ca.venue, "door-2", "cmd"), b"cmd door-2") == "Success"
    assert publish(ctl, wire.unit_topic(venue_ca.venue, "door-1", "ack"), b"for door-1") == "Success"
    assert inbox.until(b"for door-1") == [(wire.unit_topic(venue_ca.venue, "door-1", "ack"), b"for door-1")]


def test_client_without_certificate_is_refused(venue_ca, broker):
    c = mqtt.make_client(client_id="anon", ca_file=venue_ca.ca_cert, cert_file=None, key_file=None)
    with pytest.raises(BrokerError, match="requires a client certificate"):
        mqtt.connect(c, "localhost", broker.port, timeout=WAIT)
    assert "certificate" in broker.log_text()


def test_revoked_certificate_is_refused_after_reload_and_restart(venue_ca, broker):
    creds = venue_ca.unit("door-revoked")

    def attempt():
        c = mqtt.make_client(client_id="door-revoked", ca_file=creds.ca_cert, cert_file=creds.cert,
                             key_file=creds.key)
        mqtt.connect(c, "localhost", broker.port, timeout=WAIT)
        c.disconnect()
        c.loop_stop()

    attempt()
    pki.revoke(venue_ca.dir, "door-revoked")
    broker.reload()  # what `systemctl reload` does: the broker re-reads crl.pem
    deadline = time.monotonic() + WAIT
    with pytest.raises(BrokerError, match="REVOKED"):
        while time.monotonic() < deadline:
            attempt()
            time.sleep(0.2)
    broker.restart()
    with pytest.raises(BrokerError, match="REVOKED"):
        attempt()


def test_certificate_from_another_venue_ca_is_refused(venue_ca, broker, tmp_path):
    pki.init_ca(tmp_path / "other", "other-venue")
    stranger = pki.issue_unit(tmp_path / "other", "door-1")
    c = mqtt.make_client(client_id="door-1", ca_file=venue_ca.ca_cert, cert_file=stranger.cert,
                         key_file=stranger.key)
    with pytest.raises(BrokerError, match="another CA"):
        mqtt.connect(c, "localhost", broker.port, timeout=WAIT)
    # and a device that trusts another CA refuses our broker
    c = mqtt.make_client(client_id="door-1", ca_file=stranger.ca_cert, cert_file=stranger.cert,
                         key_file=stranger.key)
    with pytest.raises(BrokerError, match="not trusted"):
        mqtt.connect(c, "localhost", broker.port, timeout=WAIT)


def test_unreachable_broker_and_unreadable_files_explained(venue_ca, broker, tmp_path):
    creds = venue_ca.unit("door-1")
    broker.stop()
    c = mqtt.make_client(client_id="door-1", ca_file=creds.ca_cert, cert_file=creds.cert, key_file=creds.key)
    with pytest.raises(BrokerError, match="is the broker running"):
        mqtt.connect(c, "localhost", broker.port, timeout=WAIT)
    with pytest.raises(BrokerError, match="cannot read the venue CA"):
        mqtt.make_client(client_id="x", ca_file=tmp_path / "missing.pem", cert_file=None, key_file=None)
    with pytest.raises(BrokerError, match="cannot load the client certificate"):
        mqtt.make_client(client_id="x", ca_file=creds.ca_cert, cert_file=creds.cert,
                         key_file=venue_ca.unit("door-2").key)


def test_queued_checkins_survive_broker_restart_and_kill(venue_ca, broker, mqtt_client):
    ctl = mqtt.make_client(client_id="controller", ca_file=venue_ca.ca_cert,
                           cert_file=venue_ca.controller_cert, key_file=venue_ca.controller_key)
    mqtt.connect(ctl, "localhost", broker.port, durable=True)
    subscribe(ctl, wire.subscription(venue_ca.venue, "checkin"))
    ctl.disconnect()
    ctl.loop_stop()  # controller down; its durable session stays on the broker
    door = mqtt_client("door-2")
    topic, payload = signed_checkin(venue_ca, "door-2", 1)
    assert publish(door, topic, payload) == "Success"
    broker.restart()  # clean stop writes the persistence file
    assert broker.running and broker.port not in RESERVED_PORTS
    ctl2 = mqtt.make_client(client_id="controller", ca_file=venue_ca.ca_cert,
                            cert_file=venue_ca.controller_cert, key_file=venue_ca.controller_key)
    inbox = Inbox(ctl2)
    mqtt.connect(ctl2, "localhost", broker.port, durable=True)
    assert inbox.until(payload) == [(topic, payload)]
    pid = broker.pid
    broker.kill()
    assert not broker.running
    broker.start()
    assert broker.pid != pid
    deadline = time.monotonic() + WAIT  # paho reconnects by itself to the same port
    while not ctl2.is_connected() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ctl2.is_connected()
    ctl2.disconnect()
    ctl2.loop_stop()


def test_acl_text_confines_units_and_reserved_ports_refused(venue_ca):
    acl = render_acl("v1", controllers=("controller", "bench"))
    assert "pattern write congress/v1/unit/%u/checkin" in acl
    assert "pattern read congress/v1/unit/%u/cmd" in acl
    assert "user bench\n" in acl and "topic write congress/v1/unit/+/ack" in acl
    assert "pattern write congress/v1/unit/%u/ack" not in acl
    with pytest.raises(BrokerError, match="reserved"):
        Mosquitto.from_ca(venue_ca.dir, port=8883)


def test_wire_key_is_not_the_tls_key(venue_ca):
    """Event signatures use the Ed25519 signing key, never the TLS key (separate compromise)."""
    creds = venue_ca.unit("door-1")
    assert creds.signing_key != creds.key
    assert isinstance(pki.load_signing_key(creds.signing_key), Ed25519PrivateKey)


def test_last_will_cannot_speak_for_another_unit_and_controller_cannot_forge_checkins(
        venue_ca, broker, mqtt_client):
    ctl = mqtt_client("controller")
    inbox = Inbox(ctl)
    subscribe(ctl, wire.subscription(venue_ca.venue, "status"))
    subscribe(ctl, wire.subscription(venue_ca.venue, "checkin"))
    # a controller identity may not publish check-ins, not even for a unit
    topic, payload = signed_checkin(venue_ca, "door-2", 40)
    assert publish(ctl, topic, payload) == "Not authorized"
    creds = venue_ca.unit("door-1")
    liar = mqtt.make_client(client_id="door-1-liar", ca_file=creds.ca_cert, cert_file=creds.cert,
                            key_file=creds.key, will=(wire.unit_topic(venue_ca.venue, "door-2", "status"),
                                                      b"forged will"), will_retain=False)
    try:
        mqtt.connect(liar, "localhost", broker.port)
    except BrokerError:
        pass  # refusing the connection outright is also fine
    else:
        liar.loop_stop()
        liar.socket().close()  # dies without DISCONNECT: the broker would publish the will
    honest = mqtt.make_client(client_id="door-1-honest", ca_file=creds.ca_cert, cert_file=creds.cert,
                              key_file=creds.key, will=(wire.unit_topic(venue_ca.venue, "door-1", "status"),
                                                        b"honest will"), will_retain=False)
    mqtt.connect(honest, "localhost", broker.port)
    honest.loop_stop()
    honest.socket().close()
    own_status = wire.unit_topic(venue_ca.venue, "door-1", "status")
    assert inbox.until(b"honest will") == [(own_status, b"honest will")]


def test_will_factory_signs_a_fresh_will_for_every_connection(venue_ca, broker, mqtt_client):
    import socket as socketlib

    ctl = mqtt_client("controller")
    inbox = Inbox(ctl)
    subscribe(ctl, wire.subscription(venue_ca.venue, "status"))
    creds = venue_ca.unit("door-2")
    key = pki.load_signing_key(creds.signing_key)
    counter = wire.BootCounter()

    def offline() -> tuple[str, bytes]:
        msg = wire.UnitStatus(venue=venue_ca.venue, unit="door-2", boot=counter.boot, seq=counter.next(),
                              state=wire.UnitState.OFFLINE)
        return msg.topic, wire.encode(msg, key)

    door = mqtt.make_client(client_id="door-2", ca_file=creds.ca_cert, cert_file=creds.cert,
                            key_file=creds.key, will_factory=offline, will_retain=False)
    mqtt.connect(door, "localhost", broker.port)
    guard = wire.ReplayGuard()
    keys = pki.unit_signing_keys(venue_ca.dir)
    seqs = []
    try:
        for _ in range(2):  # the link dies twice; paho reconnects in between with a new will
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:  # wait for a live connection, then cut it
                sock = door.socket()
                if sock is not None and door.is_connected():
                    try:
                        sock.shutdown(socketlib.SHUT_RDWR)
                        break
                    except OSError:
                        pass  # paho was replacing the socket at that moment
                time.sleep(0.05)
            topic, payload = inbox.q.get(timeout=WAIT)
            msg = wire.verify(payload, topic=topic, unit_keys=keys, replay=guard)
            assert msg.state is wire.UnitState.OFFLINE
            seqs.append(msg.seq)
    finally:
        door.disconnect()
        door.loop_stop()
    assert seqs[0] < seqs[1]


def test_port_taken_before_first_start_moves_to_a_free_one(venue_ca, tmp_path):
    import socket as socketlib

    b = Mosquitto.from_ca(venue_ca.dir, work_dir=tmp_path / "b")
    taken = b.port
    with socketlib.socket() as squatter:
        squatter.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        try:
            b.start()
            assert b.running and b.port != taken
            assert "Address already in use" in b.log_text()
            fixed = Mosquitto.from_ca(venue_ca.dir, work_dir=tmp_path / "c", port=taken)
            with pytest.raises(BrokerError, match="exited"):
                fixed.start()  # an explicit port is never changed behind the caller's back
        finally:
            b.close()


def test_a_port_that_does_not_speak_tls_is_named(venue_ca):
    import socket as socketlib
    import threading

    server = socketlib.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer_in_plain_text():
        conn, _ = server.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    t = threading.Thread(target=answer_in_plain_text, name="plain-server", daemon=True)
    t.start()
    creds = venue_ca.unit("door-1")
    c = mqtt.make_client(client_id="door-1", ca_file=creds.ca_cert, cert_file=creds.cert, key_file=creds.key)
    try:
        with pytest.raises(BrokerError, match="does not speak TLS"):
            mqtt.connect(c, "localhost", server.getsockname()[1], timeout=WAIT)
    finally:
        t.join(WAIT)
        server.close()


def test_wrong_clock_on_the_device_is_named(venue_ca, tmp_path):
    """A broker certificate that is not valid yet (as seen by a device whose clock is behind)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_key = serialization.load_pem_private_key((venue_ca.dir / "ca.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(venue_ca.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name)
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(later).not_valid_after(later + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "future.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "future.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    b = Mosquitto(venue_id=venue_ca.venue, cafile=venue_ca.ca_cert, certfile=tmp_path / "future.pem",
                  keyfile=tmp_path / "future.key", work_dir=tmp_path / "b").start()
    try:
        creds = venue_ca.unit("door-1")
        c = mqtt.make_client(client_id="door-1", ca_file=creds.ca_cert, cert_file=creds.cert,
                             key_file=creds.key)
        with pytest.raises(BrokerError, match="not yet valid") as err:
            mqtt.connect(c, "localhost", b.port, timeout=WAIT)
        assert "timedatectl" in str(err.value)
    finally:
        b.close()


def test_retained_gallery_parts_reach_only_their_unit(venue_ca, mqtt_client):
    ctl = mqtt_client("controller")
    for unit in ("door-2", "door-1"):
        info = ctl.publish(wire.gallery_part_topic(venue_ca.venue, unit, 0), f"part for {unit}".encode(),
                           qos=1, retain=True)
        info.wait_for_publish(WAIT)
    door1 = mqtt_client("door-1")
    inbox = Inbox(door1)
    subscribe(door1, wire.unit_topic(venue_ca.venue, "door-1", wire.Kind.ACK))
    subscribe(door1, wire.unit_topic(venue_ca.venue, "+", wire.Kind.GALLERY_PART))  # asks for everyone's
    # the retained parts are queued for door-1 at subscription, before anything published after it
    assert publish(ctl, wire.unit_topic(venue_ca.venue, "door-1", wire.Kind.ACK), b"marker") == "Success"
    own = wire.gallery_part_topic(venue_ca.venue, "door-1", 0)
    assert sorted(inbox.until(b"marker")) == sorted(
        [(own, b"part for door-1"), (wire.unit_topic(venue_ca.venue, "door-1", wire.Kind.ACK), b"marker")])
    assert publish(door1, own, b"unit writes its own gallery") == "Not authorized"

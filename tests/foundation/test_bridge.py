"""Real site brokers bridged to a real central broker over TLS: routes, confinement, link state, faults."""

from __future__ import annotations

import contextlib
import queue
import time

import pytest

from congress import mqtt, pki, wire
from congress.bridge import BridgedVenue, render_site_acl
from congress.linkfault import LinkFaults

WAIT = 15.0


class Inbox:
    def __init__(self, client) -> None:
        self.q: queue.Queue = queue.Queue()
        self.seen: list[tuple[str, bytes]] = []  # everything, also what wait_for consumed
        client.on_message = self._on_message

    def _on_message(self, c, u, m) -> None:
        self.seen.append((m.topic, bytes(m.payload)))
        self.q.put((m.topic, bytes(m.payload)))

    def wait_for(self, topic: str, payload: bytes | None = None, timeout: float = WAIT) -> float:
        """Seconds until ``topic`` (with ``payload``) arrives; fails if it does not."""
        t0 = time.monotonic()
        got = []
        while time.monotonic() - t0 < timeout:
            try:
                item = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            got.append(item)
            if item[0] == topic and (payload is None or item[1] == payload):
                return time.monotonic() - t0
        raise AssertionError(f"{topic} {payload!r} never arrived; got {got}")

    def drain(self, wait: float = 1.0) -> list[tuple[str, bytes]]:
        out, deadline = [], time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                out.append(self.q.get(timeout=0.1))
        return out


@pytest.fixture(scope="module")
def sites_ca(venue_ca):
    for site in ("bx-1", "bx-2"):
        if site not in pki.sites(venue_ca.dir):
            pki.issue_site(venue_ca.dir, site)
    venue_ca.units["bx-door"] = pki.issue_unit(venue_ca.dir, "bx-door", site="bx-1")
    return venue_ca


def client(ca, name: str, port: int, topics: list[str], *, cert=None):
    cert, key = cert or ca.tls_files(name)
    c = mqtt.make_client(client_id=name, ca_file=ca.ca_cert, cert_file=cert, key_file=key)
    inbox = Inbox(c)
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe([(t, 1) for t in topics]) if topics else None
    mqtt.connect(c, "localhost", port, durable=True)
    return c, inbox


def puback(c, topic: str, payload: bytes) -> str:
    done: queue.Queue = queue.Queue()
    c.on_publish = lambda cl, u, mid, rc, props: done.put(str(rc))
    c.publish(topic, payload, qos=1)
    return done.get(timeout=WAIT)


def signed(ca, seq: int) -> tuple[str, bytes]:
    msg = wire.CheckIn(venue=ca.venue, unit="bx-door", boot="b1", seq=seq, delegate_id=f"D{seq}",
                       direction=wire.Direction.IN, method=wire.Method.BADGE, door="hall")
    return msg.topic, wire.encode(msg, pki.load_signing_key(ca.units["bx-door"].signing_key))


def test_bridge_text_avoids_the_known_pitfalls(sites_ca):
    venue = BridgedVenue(sites_ca.dir, ["bx-1"])
    try:
        text = venue.sites["bx-1"].conf_path.read_text()
    finally:
        venue.close()
    v = sites_ca.venue
    for line in ("cleansession false", "local_cleansession false", "bridge_protocol_version mqttv311",
                 "autosave_on_changes true", "bridge_insecure false",
                 f"notification_topic congress/{v}/site/bx-1/link",
                 f"topic unit/+/checkin out 1 congress/{v}/ congress/{v}/site/bx-1/",
                 f"topic unit/+/ack in 1 congress/{v}/ congress/{v}/site/bx-1/"):
        assert line in text.splitlines(), line
    assert "mqttv50" not in text
    assert f"pattern read congress/{v}/site/bx-1/link" in render_site_acl(v, "bx-1")


def test_checkin_travels_the_bridge_under_its_site_and_the_ack_comes_back(sites_ca):
    v = sites_ca.venue
    with BridgedVenue(sites_ca.dir, ["bx-1"]) as venue:
        ctl, ctl_in = client(sites_ca, "controller", venue.central.port,
                             [wire.routed("+", wire.subscription(v, "checkin")), wire.link_topic(v, "+")])
        door, door_in = client(sites_ca, "bx-door", venue.sites["bx-1"].port,
                               [wire.unit_topic(v, "bx-door", "ack"), wire.presence_topic(v),
                                wire.link_topic(v, "+")])
        ctl_in.wait_for(wire.link_topic(v, "bx-1"), b"1")
        door_in.wait_for(wire.link_topic(v, "bx-1"), b"1")
        ctl.publish(wire.presence_topic(v), b"ctl-1", qos=1, retain=True)
        door_in.wait_for(wire.presence_topic(v), b"ctl-1")
        topic, payload = signed(sites_ca, 1)
        assert puback(door, topic, payload) == "Success"
        ctl_in.wait_for(wire.routed("bx-1", topic), payload)
        msg = wire.verify(payload, topic=wire.routed("bx-1", topic), venue=v,
                          unit_keys=pki.unit_signing_keys(sites_ca.dir))
        assert msg.event_id == ("bx-door", "b1", 1)
        ack = wire.routed("bx-1", wire.unit_topic(v, "bx-door", "ack"))
        ctl.publish(ack, b"signed-ack", qos=1)
        door_in.wait_for(wire.unit_topic(v, "bx-door", "ack"), b"signed-ack")
        for c in (ctl, door):
            c.disconnect()
            c.loop_stop()


def test_a_site_certificate_is_confined_to_its_own_subtree(sites_ca):
    v = sites_ca.venue
    with BridgedVenue(sites_ca.dir, ["bx-2"]) as venue:
        ctl, _ = client(sites_ca, "controller", venue.central.port, [])
        s1 = pki.site_credentials(sites_ca.dir, "bx-1")
        rogue, rogue_in = client(sites_ca, "bx-1", venue.central.port,
                                 [wire.routed("bx-2", wire.unit_topic(v, "+", "ack")),
                                  wire.routed("+", wire.subscription(v, "checkin"))], cert=(s1.cert, s1.key))
        topic, payload = signed(sites_ca, 2)
        assert puback(rogue, wire.routed("bx-2", topic), payload) == "Not authorized"
        assert puback(rogue, wire.link_topic(v, "bx-2"), b"1") == "Not authorized"
        assert puback(rogue, wire.presence_topic(v), b"x") == "Not authorized"
        assert puback(rogue, wire.routed("bx-1", topic), payload) == "Success"
        ctl.publish(wire.routed("bx-2", wire.unit_topic(v, "bx-door", "ack")), b"not-for-you", qos=1)
        got = rogue_in.drain(1.5)
        assert not [g for g in got if b"not-for-you" in g[1]]
        assert not [g for g in got if g[0].startswith(f"congress/{v}/site/bx-1/unit/")], got  # no read back
        door, _ = client(sites_ca, "door-1", venue.central.port, [])
        assert puback(door, wire.routed("bx-2", wire.unit_topic(v, "door-1", "checkin")), b"x") \
            == "Not authorized"
        for c in (ctl, rogue, door):
            c.disconnect()
            c.loop_stop()


def test_link_faults_and_a_killed_site_broker_lose_nothing_queued(sites_ca):
    """Stall, reset and refusal of the link, and kill -9 of the site broker holding a queue: every
    message published at the site reaches the central subscriber, and the link state follows."""
    v = sites_ca.venue
    link = wire.link_topic(v, "bx-1")
    with LinkFaults() as faults, BridgedVenue(sites_ca.dir, ["bx-1"], faults=faults, keepalive_s=5,
                                               restart_s=(1, 2)) as venue:
        ctl, ctl_in = client(sites_ca, "controller", venue.central.port,
                             [wire.routed("+", wire.subscription(v, "checkin")), link])
        door, door_in = client(sites_ca, "bx-door", venue.sites["bx-1"].port, [link])
        ctl_in.wait_for(link, b"1")
        ctl_in.drain(1.0)  # a bridge that reconnected at start may have said "1" twice
        sent = []

        def send(seq: int) -> None:
            topic, payload = signed(sites_ca, seq)
            assert puback(door, topic, payload) == "Success"
            sent.append(payload)

        faults.stall("bx-1")  # silent: only the keep-alive notices (1.5 x 5 s, checked every few s)
        send(10)
        ctl_in.wait_for(link, b"0", timeout=60)
        # (The site broker says "0" locally only when a connection attempt fails outright, not when a
        # silent link times out: units take it as a hint, never as a condition of delivery.)
        send(11)
        faults.resume("bx-1")
        ctl_in.wait_for(link, b"1")
        faults.reset("bx-1")
        send(12)
        ctl_in.wait_for(link, b"1")
        faults.refuse("bx-1")
        door_in.wait_for(link, b"0")
        for seq in range(13, 18):
            send(seq)
        time.sleep(0.5)  # saved on changes, not every autosave_interval seconds
        venue.sites["bx-1"].kill()
        venue.sites["bx-1"].start()
        faults.resume("bx-1")
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            missing = [p for p in sent if p not in {p for _, p in ctl_in.seen}]
            if not missing:
                break
            time.sleep(0.2)
        assert not missing, f"{len(missing)} of {len(sent)} never reached the central broker"
        for c in (ctl, door):
            c.disconnect()
            c.loop_stop()

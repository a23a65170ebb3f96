"""A simulated door unit for the check-in bench and the ingest tests: real certificate, real signing key,
real MQTT over TLS, and the door unit's outbox discipline (keep every check-in until the controller's
signed ack arrives; resend what is unacknowledged after ``resend_s`` and after every reconnect).

At most ``window`` events are in flight (published, not yet acknowledged), like the door unit's
publisher; the rest wait in the outbox. It is an instrument: it records when each event was first
published and when and how it was acknowledged, so callers assert on lost, duplicated and slow events.
paho's callbacks only enqueue; the thread named ``simdoor-<unit>`` verifies acks (against the
controller's public key), clears the outbox, publishes what waits and resends.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

from congress import mqtt, pki, wire
from congress.errors import ProtocolError

log = logging.getLogger(__name__)


@dataclass
class Pending:
    payload: bytes
    first_sent: float
    last_sent: float
    sends: int = 1


class SimDoor:
    """One simulated door unit; :meth:`checkin` publishes a signed check-in and keeps it until acked."""

    def __init__(
        self,
        creds: pki.UnitCredentials,
        *,
        venue_id: str,
        host: str,
        port: int,
        resend_s: float = 30.0,
        window: int = 256,
        door: str = "main",
    ) -> None:
        self.unit_id, self.venue_id, self.host, self.port = creds.unit_id, venue_id, host, port
        self.creds, self.resend_s, self.window, self.door = creds, resend_s, window, door
        self.waiting: deque[tuple[int, bytes]] = deque()  # in the outbox, not yet published
        self._key = pki.load_signing_key(creds.signing_key)
        self._controller = pki.load_public_key(creds.controller_pub)
        self.counter = wire.BootCounter()
        self.outbox: dict[int, Pending] = {}
        self.acked: dict[int, tuple[wire.AckOutcome, float, float]] = {}  # seq -> outcome, first_sent, t
        self.sent_at: dict[int, float] = {}  # seq -> time of the first publish
        self.bad_acks = 0
        self.resent = 0
        self._lock = threading.Lock()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"simdoor-{self.unit_id}", daemon=True)
        self._client = None
        self._checkin_topic = wire.unit_topic(venue_id, self.unit_id, wire.Kind.CHECKIN)

    # paho callbacks: enqueue only
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe(wire.unit_topic(self.venue_id, self.unit_id, wire.Kind.ACK), qos=1)
            self._inbox.put(("connected", None))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()

    def _on_message(self, client, userdata, message) -> None:
        self._inbox.put(("ack", (message.topic, message.payload, time.time())))

    def start(self) -> SimDoor:
        c = mqtt.make_client(client_id=self.unit_id, ca_file=self.creds.ca_cert, cert_file=self.creds.cert,
                             key_file=self.creds.key)
        c.max_inflight_messages_set(100)
        c.on_connect, c.on_message, c.on_disconnect = self._on_connect, self._on_message, self._on_disconnect
        self._client = c
        self._thread.start()
        mqtt.connect(c, self.host, self.port, durable=True)
        self._connected.wait(10)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    def prepare(self, delegate_id: str, direction: wire.Direction = wire.Direction.IN,
                method: wire.Method = wire.Method.FACE, score: float | None = 0.81) -> tuple[int, bytes]:
        """Build and sign one check-in (what a door unit does when it recognises someone)."""
        seq = self.counter.next()
        now = time.time()
        msg = wire.CheckIn(venue=self.venue_id, unit=self.unit_id, boot=self.counter.boot, seq=seq,
                           delegate_id=delegate_id, direction=direction, method=method, door=self.door,
                           score=score if method is not wire.Method.BADGE else None,
                           liveness=wire.Liveness.PASS, mono_ms=int(time.monotonic() * 1000),
                           wall_time_ms=int(now * 1000), clock_synced=True)
        return seq, wire.encode(msg, self._key)

    def send(self, seq: int, payload: bytes) -> None:
        """Put a prepared check-in in the outbox; publish it (QoS 1) if the window has room."""
        with self._lock:
            self.waiting.append((seq, payload))
        self._fill()

    def _fill(self) -> None:
        """Publish waiting events while fewer than ``window`` are unacknowledged (as the door unit does)."""
        batch = []
        with self._lock:
            now = time.time()
            while self.waiting and len(self.outbox) < self.window:
                seq, payload = self.waiting.popleft()
                self.outbox[seq] = Pending(payload, now, now)
                self.sent_at[seq] = now
                batch.append(payload)
        for payload in batch:
            self._client.publish(self._checkin_topic, payload, qos=1)

    def checkin(self, delegate_id: str, direction: wire.Direction = wire.Direction.IN,
                method: wire.Method = wire.Method.FACE, score: float | None = 0.81) -> int:
        """Sign, keep in the outbox and publish one check-in; return its seq."""
        seq, payload = self.prepare(delegate_id, direction, method, score)
        self.send(seq, payload)
        return seq

    def publish_raw(self, topic: str, payload: bytes) -> None:
        """Publish anything (forgeries and replays in tests); not kept in the outbox."""
        self._client.publish(topic, payload, qos=1).wait_for_publish(5)

    @property
    def unacked(self) -> int:
        with self._lock:
            return len(self.outbox) + len(self.waiting)

    def _run(self) -> None:
        last_sweep = time.monotonic()
        while not self._stop.is_set():
            try:
                kind, data = self._inbox.get(timeout=0.2)
            except queue.Empty:
                kind, data = None, None
            if kind == "connected":
                self._connected.set()
                self._resend(older_than=0.0)
            elif kind == "ack":
                self._handle_ack(*data)
            if time.monotonic() - last_sweep >= 0.5:
                last_sweep = time.monotonic()
                self._resend(older_than=self.resend_s)

    def _handle_ack(self, topic: str, payload: bytes, t: float) -> None:
        try:
            ack = wire.verify(payload, topic=topic, venue=self.venue_id, controller_key=self._controller)
        except ProtocolError as exc:
            self.bad_acks += 1
            log.warning("%s: refused ack: %s", self.unit_id, exc)
            return
        with self._lock:
            for e in ack.events:
                if e.boot != self.counter.boot:
                    continue
                p = self.outbox.pop(e.seq, None)
                if e.seq not in self.acked:
                    self.acked[e.seq] = (e.outcome, p.first_sent if p else 0.0, t)
        self._fill()

    def _resend(self, *, older_than: float) -> None:
        if not self._connected.is_set() or self._client is None:
            return
        now = time.time()
        with self._lock:
            due = [(s, p) for s, p in self.outbox.items() if now - p.last_sent >= older_than]
            for _, p in due:
                p.last_sent, p.sends = now, p.sends + 1
        for _, p in due:
            self._client.publish(self._checkin_topic, p.payload, qos=1)
        self.resent += len(due)

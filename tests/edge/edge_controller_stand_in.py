"""A test instrument that plays the controller on the real broker: verify check-ins, store, ack.

It subscribes to every unit's check-ins and status with the controller's client certificate, verifies
each check-in's signature with the unit keys from the venue CA, keeps it once per (unit, boot, seq)
and answers with a signed Ack, as the real controller does after its commit. ``acking`` can be turned
off to hold acknowledgements back. Received messages are handled in a named thread, not in paho's
callback.
"""

from __future__ import annotations

import queue
import threading
import time

from congress import mqtt, pki, wire
from congress.errors import ProtocolError

#: How long a step may take on a loaded machine: a bound on waiting for an event, never a timing check.
PATIENCE_S = 120.0


def wait_until(cond, timeout: float = PATIENCE_S) -> bool:
    """Poll ``cond()`` until it is true (True) or ``timeout`` seconds have passed (False)."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


class ControllerStandIn:
    def __init__(self, venue_ca, broker, *, acking: bool = True) -> None:
        self.venue = venue_ca.venue
        self.keys = pki.unit_signing_keys(venue_ca.dir)
        self.signer = pki.load_signing_key(venue_ca.controller_signing_key)
        self.acking = acking
        self.checkins: dict[tuple[str, str, int], wire.CheckIn] = {}
        self.deliveries = 0
        self.statuses: list[wire.UnitStatus] = []
        self.rejected: list[str] = []
        self.counter = wire.BootCounter()
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        cert, key = venue_ca.controller_cert, venue_ca.controller_key
        self.client = mqtt.make_client(
            client_id="controller", ca_file=venue_ca.ca_cert, cert_file=cert, key_file=key
        )
        self.client.on_message = lambda c, u, m: self._q.put((m.topic, bytes(m.payload)))
        self.client.on_connect = self._subscribe
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        mqtt.connect(self.client, "localhost", broker.port, durable=True)
        # Until the broker has granted the subscriptions, a unit's first check-in would find nobody
        # (and come again only after its 30 s resend): on a loaded machine that raced the tests.
        if not self._subscribed.wait(PATIENCE_S):
            raise AssertionError(f"the broker granted no subscription in {PATIENCE_S} s")
        self.thread = threading.Thread(target=self._run, name="controller-stand-in", daemon=True)
        self.thread.start()

    def _subscribe(self, client, *args) -> None:
        client.subscribe([(wire.subscription(self.venue, wire.Kind.CHECKIN), 1),
                          (wire.subscription(self.venue, wire.Kind.STATUS), 1)])

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                topic, payload = self._q.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                msg = wire.verify(payload, topic=topic, venue=self.venue, unit_keys=self.keys)
            except ProtocolError as exc:
                self.rejected.append(str(exc))
                continue
            with self._lock:
                if isinstance(msg, wire.UnitStatus):
                    self.statuses.append(msg)
                    continue
                self.deliveries += 1
                self.checkins.setdefault(msg.event_id, msg)
            if self.acking:
                self.ack(msg.unit, [(msg.boot, msg.seq)])

    def ack(self, unit: str, events) -> None:
        ack = wire.Ack(
            venue=self.venue,
            unit=unit,
            boot=self.counter.boot,
            seq=self.counter.next(),
            events=tuple(wire.AckedEvent(b, s) for b, s in events),
        )
        self.client.publish(
            wire.unit_topic(self.venue, unit, wire.Kind.ACK), wire.encode(ack, self.signer), qos=1
        )

    def publish(self, msg: wire.Message, *, retain: bool = False) -> None:
        self.client.publish(msg.topic, wire.encode(msg, self.signer), qos=1, retain=retain)

    def wait_for(self, cond, timeout: float = PATIENCE_S) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if cond(self):
                    return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.client.disconnect()
        self.client.loop_stop()

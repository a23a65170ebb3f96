"""A simulated door unit for the check-in bench and the ingest tests: the door unit's real link.

Real certificate, real signing key, and the door unit's own outbox and publisher
(:class:`congress.link.outbox.Outbox`, :class:`congress.link.publisher.Publisher`): every check-in is
stored in a SQLite outbox until the controller's signed ack names it, at most ``window`` are in
flight, an unacknowledged one is sent again after ``resend_s`` (then later and later) and after every
reconnection. Only the camera is missing: :meth:`checkin` is what the door does when it recognises
someone. A bench door sends no heartbeats (``heartbeat_s=None``), so the ingest sees only check-ins.

It is an instrument: it records when each event was first published and when and how it was
acknowledged (:class:`congress.link.publisher.LinkObserver`), so callers assert on lost, duplicated
and slow events.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from congress import pki, wire
from congress.config.common import BrokerSection
from congress.link.outbox import Event, Outbox
from congress.link.publisher import Publisher

#: A bench door never refuses a check-in for a full outbox.
CAPACITY = 10_000_000


class SimDoor:
    """One simulated door unit; :meth:`checkin` signs a check-in, keeps it in the outbox, publishes it."""

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
        outbox_dir: Path | None = None,
    ) -> None:
        self.unit_id, self.venue_id, self.door, self.creds = creds.unit_id, venue_id, door, creds
        self._own_dir = outbox_dir is None
        self.dir = Path(outbox_dir or tempfile.mkdtemp(prefix=f"simdoor-{self.unit_id}-"))
        self.outbox = Outbox(self.dir / f"{self.unit_id}.outbox.db", CAPACITY)
        self._key = pki.load_signing_key(creds.signing_key)
        self.acked: dict[int, tuple[wire.AckOutcome, float, float]] = {}  # seq -> outcome, first_sent, t
        self.ack_log: list[wire.AckedEvent] = []  # every acknowledged event, this boot's or not
        self.sent_at: dict[int, float] = {}  # seq -> time of the first publish
        self.resent = 0
        self._next_seq = 1
        self._lock = threading.Lock()
        broker = BrokerSection(host=host, port=port, ca_file=creds.ca_cert, cert_file=creds.cert,
                               key_file=creds.key)
        self.publisher = Publisher(
            broker=broker, venue_id=venue_id, unit_id=self.unit_id, signing_key=self._key,
            controller_key=pki.load_public_key(creds.controller_pub), outbox=self.outbox,
            health=dict, heartbeat_s=None, resend_s=resend_s, window=window, max_inflight=100,
            observer=self, name=f"simdoor-{self.unit_id}",
        )

    @property
    def boot(self) -> str:
        """This run's boot id (every check-in's event id starts with it)."""
        return self.outbox.boot_id

    @property
    def bad_acks(self) -> int:
        return self.publisher.stats.rejected_messages

    def start(self, timeout: float = 10.0) -> SimDoor:
        self.publisher.start()
        self.publisher.online.wait(timeout)
        return self

    def stop(self) -> None:
        self.publisher.stop()
        self.outbox.close()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- what the door's recognition loop does ---------------------------------------------------------
    def prepare(self, delegate_id: str, direction: wire.Direction = wire.Direction.IN,
                method: wire.Method = wire.Method.FACE, score: float | None = 0.81) -> tuple[int, bytes]:
        """Build and sign the next check-in (kept aside until :meth:`send`; the bench signs ahead)."""
        with self._lock:
            seq, self._next_seq = self._next_seq, self._next_seq + 1
        now = time.time()
        msg = wire.CheckIn(venue=self.venue_id, unit=self.unit_id, boot=self.boot, seq=seq,
                           delegate_id=delegate_id, direction=direction, method=method, door=self.door,
                           score=score if method is not wire.Method.BADGE else None,
                           liveness=wire.Liveness.PASS, mono_ms=int(time.monotonic() * 1000),
                           wall_time_ms=int(now * 1000), clock_synced=True)
        return seq, wire.encode(msg, self._key)

    def send(self, seq: int, payload: bytes) -> None:
        """Store a prepared check-in in the outbox (in the order prepared) and wake the publisher."""

        def signed(boot: str, number: int) -> bytes:
            if (boot, number) != (self.boot, seq):
                raise RuntimeError(f"{self.unit_id}: check-in {seq} sent out of order (outbox at {number})")
            return payload

        self.outbox.add(wire.Kind.CHECKIN, signed)
        self.publisher.notify()

    def checkin(self, delegate_id: str, direction: wire.Direction = wire.Direction.IN,
                method: wire.Method = wire.Method.FACE, score: float | None = 0.81) -> int:
        """Sign, keep in the outbox and publish one check-in; return its seq."""
        seq, payload = self.prepare(delegate_id, direction, method, score)
        self.send(seq, payload)
        return seq

    def publish_raw(self, topic: str, payload: bytes, *, wait: bool = True) -> None:
        """Publish anything on this unit's connection (forgeries and replays in tests); not kept."""
        info = self.publisher.client.publish(topic, payload, qos=1)
        if wait:
            info.wait_for_publish(5)

    @property
    def unacked(self) -> int:
        return self.outbox.depth()

    # -- LinkObserver: called by the publisher thread --------------------------------------------------
    def published(self, event: Event, resend: bool) -> None:
        if event.boot_id != self.boot:
            return
        if resend:
            self.resent += 1
        else:
            self.sent_at.setdefault(event.seq, time.time())

    def acked_event(self, event: wire.AckedEvent) -> None:
        self.ack_log.append(event)
        if event.boot == self.boot and event.seq not in self.acked:
            self.acked[event.seq] = (event.outcome, self.sent_at.get(event.seq, 0.0), time.time())

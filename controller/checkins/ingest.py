"""Check-in ingest: MQTT over TLS in, verified check-ins stored once, signed acks out after the commit.

:class:`Ingest` owns one paho client (TLS, the controller's client certificate, a durable MQTT session
so that the broker queues check-ins while the controller is down) subscribed to every unit's
``checkin`` and ``status`` topics. paho's callback only puts ``(topic, payload, arrival time)`` on a
queue; the thread named ``ingest`` takes up to ``batch_max`` messages at a time and

1. verifies each with :func:`congress.wire.verify` against
:class:`controller.checkins.unit_registry.UnitRegistry`
   (known, not revoked, Ed25519 signature, topic = signer, venue), in ``verify_workers`` processes
   (:class:`controller.checkins.verify_pool.VerifyPool`) when given, as Ed25519 is most of the CPU time;
2. stores the good check-ins with :func:`controller.checkins.store.store_batch` and writes the
   (rate-limited, :class:`controller.checkins.reject_audit.RejectAudit`) audit rows of the refused ones,
   all in
   ONE transaction;
3. after the commit, publishes one signed :class:`congress.wire.Ack` per unit (stored, duplicate or
   rejected for each event), hands status messages to ``on_status`` (the devices module) and stored
   check-ins to ``on_live`` (the live page bus).

Nothing is acknowledged before it is committed, and a unit deletes an event from its outbox only on an
ack, so a kill -9 of the controller, the broker or the unit loses nothing (the unit resends; the unique
key stores it once). Forged messages (bad signature, unknown or revoked unit) get no ack: the real unit
must not be told to drop an event someone else forged in its name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from congress import wire
from controller.checkins.reject_audit import RejectAudit
from controller.checkins.store import Disposition, Stored, Verified, store_batch
from controller.checkins.unit_registry import UnitRegistry, UnitTrust
from controller.checkins.verify_pool import verify_all
from controller.storage.database import Database

log = logging.getLogger(__name__)

REVOKED_UNIT = "revoked_unit"
#: Events per ack message: about 80 bytes each, well inside the wire's 16 KiB message limit.
ACK_EVENTS_MAX = 150
CONFLICT = "conflict"


@dataclass(frozen=True)
class BrokerTarget:
    """Where and as whom the ingest connects (from ``[broker]`` of the controller configuration)."""

    host: str
    port: int
    ca_file: str
    cert_file: str
    key_file: str
    keepalive_s: int = 15

    @classmethod
    def from_section(cls, b) -> BrokerTarget:
        return cls(b.host, b.port, str(b.ca_file), str(b.cert_file), str(b.key_file), b.keepalive_s)


@dataclass
class IngestStats:
    """Counters for the devices page and the bench (read without a lock: ints are atomic enough)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: Counter = field(default_factory=Counter)
    statuses: int = 0
    batches: int = 0
    acks_sent: int = 0
    db_errors: int = 0
    busy_s: float = 0.0  # time spent verifying, storing and acknowledging (load of the ingest thread)


class Ingest:
    """The check-in ingest thread and its MQTT client; construct once, :meth:`start`, :meth:`stop`."""

    def __init__(
        self,
        db: Database,
        registry: UnitRegistry,
        *,
        venue_id: str,
        broker: BrokerTarget,
        signing_key: Ed25519PrivateKey,
        client_id: str = "controller",
        on_status: Callable[[wire.UnitStatus, dt.datetime], None] | None = None,
        on_live: Callable[[str, dict], None] | None = None,
        batch_max: int = 1000,
        batch_wait_s: float = 0.01,
        reject_audit: RejectAudit | None = None,
        verify_workers: int = 0,
    ) -> None:
        self.db, self.registry, self.venue_id = db, registry, venue_id
        self.broker, self.client_id = broker, client_id
        self._key = signing_key
        self._counter = wire.BootCounter()
        self.on_status, self.on_live = on_status, on_live
        self.batch_max, self.batch_wait_s = batch_max, batch_wait_s
        self.rejects = reject_audit or RejectAudit()
        self.stats = IngestStats()
        self.verify_workers = verify_workers
        self._pool = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = None

    # --- MQTT side: callbacks only enqueue -------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe([(wire.subscription(self.venue_id, wire.Kind.CHECKIN), 1),
                              (wire.subscription(self.venue_id, wire.Kind.STATUS), 1)])

    def _on_message(self, client, userdata, message) -> None:
        self._queue.put((message.topic, message.payload, time.time()))

    def start(self) -> Ingest:
        """Connect to the broker (raises BrokerError with the reason) and start the ``ingest`` thread."""
        from congress import mqtt

        if self.verify_workers > 0 and self._pool is None:
            from controller.checkins.verify_pool import VerifyPool

            self._pool = VerifyPool(self.registry.ca_dir, self.venue_id, self.verify_workers)
        b = self.broker
        client = mqtt.make_client(client_id=self.client_id, ca_file=b.ca_file, cert_file=b.cert_file,
                                  key_file=b.key_file)
        client.on_connect, client.on_message = self._on_connect, self._on_message
        self._client = client  # before connecting: the queued backlog arrives at once and needs acks
        try:
            mqtt.connect(client, b.host, b.port, keepalive=b.keepalive_s, durable=True)
        except Exception:
            self._client = None
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            raise
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()
        return self

    @property
    def mqtt(self):
        """The connected paho client (after :meth:`start`); the gallery publisher sends on it too."""
        return self._client

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand, stop the thread, disconnect (the durable session stays)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # --- the ingest thread ------------------------------------------------------------------------

    def _take(self, timeout: float) -> list[tuple[str, bytes, float]]:
        try:
            first = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_max:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
        return batch

    def _run(self) -> None:
        # Pipelined: while batch N is stored and acknowledged here, the verification workers already
        # check batch N+1.
        inflight = None
        while not self._stop.is_set() or inflight is not None:
            batch = [] if self._stop.is_set() else self._take(0.0 if inflight else 0.2)
            try:
                nxt = (batch, self._submit(batch)) if batch else None
            except Exception:  # e.g. the CA index unreadable: nothing acknowledged, the units resend
                log.exception("could not verify a batch of %d messages", len(batch))
                self.stats.db_errors += 1
                nxt = None
            if inflight is not None:
                t0 = time.perf_counter()
                try:
                    self._complete(*inflight)
                except Exception:  # keep ingesting: the units resend what was not acknowledged
                    self.stats.db_errors += 1
                    log.exception("ingest batch of %d messages failed; not acknowledged", len(inflight[0]))
                    self._stop.wait(1.0)
                self.stats.busy_s += time.perf_counter() - t0
            inflight = nxt
            if not batch and inflight is None and self.rejects.due():
                self._flush_rejects()  # a flood that stopped still gets its summary row

    def _flush_rejects(self) -> None:
        try:
            with self.db.session() as s:
                self.rejects.flush(s)
        except Exception:
            log.exception("could not write refused-message audit rows")

    def _reason(self, reason: str, unit: str) -> str:
        if reason == wire.Reason.UNKNOWN_UNIT and self.registry.trust(unit) is UnitTrust.REVOKED:
            return REVOKED_UNIT
        return reason

    def _submit(self, batch: list[tuple[str, bytes, float]]) -> Callable[[], list]:
        items = [(topic, payload) for topic, payload, _ in batch]
        if self._pool is not None:
            return self._pool.submit(items, self.venue_id, self.registry)
        done = verify_all(items, self.venue_id, self.registry)
        return lambda: done

    def process(self, batch: list[tuple[str, bytes, float]]) -> list[Stored]:
        """Verify, store and acknowledge one batch (the ``ingest`` thread's work; tests call it too)."""
        return self._complete(batch, self._submit(batch))

    def _complete(self, batch: list[tuple[str, bytes, float]], checked: Callable[[], list]) -> list[Stored]:
        verified: list[Verified] = []
        statuses: list[tuple[wire.UnitStatus, dt.datetime]] = []
        refused: list[str] = []
        for (topic, payload, arrived), msg in zip(batch, checked(), strict=True):
            self.stats.received += 1
            if isinstance(msg, tuple):
                unit = topic.split("/")[3] if topic.count("/") == 4 else "?"
                reason = self._reason(msg[0], unit)
                refused.append(reason)
                self.rejects.note(unit, reason, {"topic": topic, "message": msg[1], "bytes": len(payload)})
                continue
            received = dt.datetime.fromtimestamp(arrived, dt.UTC)
            if isinstance(msg, wire.CheckIn):
                verified.append(Verified(msg, hashlib.sha256(payload).hexdigest(), received))
            elif isinstance(msg, wire.UnitStatus):
                statuses.append((msg, received))
        results: list[Stored] = []
        if verified or self.rejects.pending:
            with self.db.session() as s:
                now = dt.datetime.now(dt.UTC)
                results = store_batch(s, verified, stored_at=now) if verified else []
                for r in results:
                    if r.disposition is Disposition.CONFLICT:
                        refused.append(CONFLICT)
                        self.rejects.note(r.item.msg.unit, CONFLICT, {
                            "event": f"{r.item.msg.boot}/{r.item.msg.seq}",
                            "message": "same event id as a stored check-in but different content"})
                self.rejects.flush(s)
            self.stats.batches += 1
        self.stats.rejected.update(refused)
        self._after_commit(results, statuses)
        return results

    def _after_commit(self, results: list[Stored], statuses) -> None:
        by_unit: dict[str, list[wire.AckedEvent]] = defaultdict(list)
        for r in results:
            m = r.item.msg
            reason = "" if r.disposition is not Disposition.CONFLICT else CONFLICT
            by_unit[m.unit].append(wire.AckedEvent(m.boot, m.seq, r.ack, reason))
            if r.disposition is Disposition.STORED:
                self.stats.stored += 1
            elif r.disposition is Disposition.DUPLICATE:
                self.stats.duplicates += 1
        if self._client is not None:
            for unit, events in by_unit.items():
                for i in range(0, len(events), ACK_EVENTS_MAX):
                    ack = wire.Ack(venue=self.venue_id, unit=unit, boot=self._counter.boot,
                                   seq=self._counter.next(), events=tuple(events[i : i + ACK_EVENTS_MAX]))
                    self._client.publish(ack.topic, wire.encode(ack, self._key), qos=1)
                    self.stats.acks_sent += 1
        for msg, received in statuses:
            self.stats.statuses += 1
            if self.on_status is not None:
                try:
                    self.on_status(msg, received)
                except Exception:
                    log.exception("status of unit %s could not be handled", msg.unit)
        if self.on_live is not None:
            stored = [r for r in results if r.disposition is Disposition.STORED]
            if stored:
                try:
                    self.on_live("checkins", {"checkins": [
                        {"delegate_id": r.item.msg.delegate_id, "direction": r.item.msg.direction.value,
                         "method": r.item.msg.method.value, "unit": r.item.msg.unit,
                         "door": r.item.msg.door, "event_at": r.item.event_at.isoformat()}
                        for r in stored[-200:]], "count": len(stored)})
                except Exception:
                    log.exception("live update failed")

"""Check-in ingest: MQTT over TLS in, verified check-ins stored once, signed acks out after the commit.

:class:`Ingest` subscribes to every unit's ``checkin`` and ``status`` topics on the controller's one
broker connection (:class:`controller.link.ControllerLink`: the controller's client certificate, a
durable MQTT session so that the broker queues check-ins while the controller is down, one boot
counter for everything the controller signs). The link's callback only puts ``(topic, payload,
arrival time)`` on a queue; the thread named ``ingest`` takes up to ``batch_max`` messages at a time and

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

Units behind a satellite site arrive on ``congress/<venue>/site/<site>/unit/...`` (the site's bridge,
docs/multi-site.md): their acks go back the same way, and each bridge's link state
(``.../site/<site>/link``) goes to ``on_link``.

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

from congress import wire
from controller.checkins.reject_audit import RejectAudit
from controller.checkins.store import Disposition, Stored, Verified, store_batch
from controller.checkins.unit_registry import UnitRegistry, UnitTrust
from controller.checkins.verify_pool import Refused, Verdict, verify_all
from controller.link import ControllerLink
from controller.live import EventKind
from controller.storage.database import Database

log = logging.getLogger(__name__)

REVOKED_UNIT = "revoked_unit"
#: Events per ack message: about 80 bytes each, well inside the wire's 16 KiB message limit.
ACK_EVENTS_MAX = 150
CONFLICT = "conflict"
#: Refusal reason of a check-in left retained on the broker (only units can write check-in topics).
RETAINED_CHECKIN = "retained"
#: Stands for the payload of a retained check-in in the ingest queue (its bytes are not kept).
RETAINED = bytes(bytearray(b"retained"))  # a distinct object, compared by identity


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
    clock_untrusted: int = 0  # synchronised wall times not used (after the arrival, or far before it)
    busy_s: float = 0.0  # time spent verifying, storing and acknowledging (load of the ingest thread)


def _is_checkin(topic: str) -> bool:
    return topic.rsplit("/", 1)[-1] == wire.Kind.CHECKIN.value


def _unit_of(topic: str) -> str:
    """The unit a (possibly site-routed) unit topic names, or ``?``; never raises."""
    parts = topic.split("/")
    if len(parts) == 7 and parts[2] == "site":
        parts = parts[:2] + parts[4:]
    return parts[3] if len(parts) == 5 else "?"


class Ingest:
    """The check-in ingest thread and its MQTT client; construct once, :meth:`start`, :meth:`stop`."""

    def __init__(
        self,
        db: Database,
        registry: UnitRegistry,
        *,
        link: ControllerLink,
        on_status: Callable[[wire.UnitStatus, dt.datetime], None] | None = None,
        on_live: Callable[[EventKind, dict], None] | None = None,
        on_link: Callable[[str, bool, dt.datetime], None] | None = None,
        batch_max: int = 1000,
        batch_wait_s: float = 0.01,
        reject_audit: RejectAudit | None = None,
        verify_workers: int = 0,
    ) -> None:
        self.db, self.registry, self.link, self.venue_id = db, registry, link, link.venue_id
        self.on_status, self.on_live, self.on_link = on_status, on_live, on_link
        self.batch_max, self.batch_wait_s = batch_max, batch_wait_s
        self.rejects = reject_audit or RejectAudit()
        self.stats = IngestStats()
        self.verify_workers = verify_workers
        self._pool = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        def topics(kind: wire.Kind) -> list[tuple[str, int]]:
            return [(wire.routed(site, wire.subscription(self.venue_id, kind)), 1) for site in (None, "+")]

        # A check-in is never retained: one left on the broker would come back after every restart.
        link.subscribe(topics(wire.Kind.CHECKIN), self._enqueue, on_retained=self._enqueue_retained)
        link.subscribe([*topics(wire.Kind.STATUS), (wire.link_topic(self.venue_id, "+"), 1)], self._enqueue)

    def _enqueue(self, topic: str, payload: bytes, arrived: float) -> None:
        """The link's callback: no work here, only the hand-over to the ``ingest`` thread."""
        self._queue.put((topic, payload, arrived))

    def _enqueue_retained(self, topic: str, payload: bytes, arrived: float) -> None:
        """A check-in the broker kept as retained: refused (and audited) without being read."""
        self._queue.put((topic, RETAINED, arrived))

    def start(self) -> Ingest:
        """Start the signature workers and the ``ingest`` thread (start the link after this)."""
        if self.verify_workers > 0 and self._pool is None:
            from controller.checkins.verify_pool import VerifyPool

            self._pool = VerifyPool(self.registry.ca_dir, self.venue_id, self.verify_workers)
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()
        return self

    @property
    def thread(self) -> threading.Thread | None:
        """The ``ingest`` thread (None before :meth:`start`)."""
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand (its acks go out on the link, stopped after this) and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
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
            batch = [] if self._stop.is_set() else self._links(self._take(0.0 if inflight else 0.2))
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

    def _links(self, batch: list[tuple[str, bytes, float]]) -> list[tuple[str, bytes, float]]:
        """Hand the site bridges' link states (``1``/``0``, from Mosquitto, unsigned) to ``on_link``,
        refuse retained check-ins; return the rest of the batch."""
        rest = []
        for topic, payload, arrived in batch:
            if payload is RETAINED:
                self.stats.received += 1
                self.stats.rejected[RETAINED_CHECKIN] += 1
                self.rejects.note(_unit_of(topic), RETAINED_CHECKIN, {
                    "topic": wire.excerpt(topic, 160),
                    "message": "a check-in retained on the broker was ignored (units never retain one; "
                               "a unit key was used by something else)"})
                continue
            link = wire.parse_link_topic(topic)
            if link is None:
                rest.append((topic, payload, arrived))
            elif self.on_link is not None and link[0] == self.venue_id and payload in (b"0", b"1"):
                try:
                    self.on_link(link[1], payload == b"1", dt.datetime.fromtimestamp(arrived, dt.UTC))
                except Exception:
                    log.exception("link state of site %s could not be handled", link[1])
        return rest

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

    def _submit(self, batch: list[tuple[str, bytes, float]]) -> Callable[[], list[Verdict]]:
        items = [(topic, payload) for topic, payload, _ in batch]
        if self._pool is not None:
            return self._pool.submit(items, self.venue_id, self.registry)
        done = verify_all(items, self.venue_id, self.registry)
        return lambda: done

    def process(self, batch: list[tuple[str, bytes, float]]) -> list[Stored]:
        """Verify, store and acknowledge one batch (the ``ingest`` thread's work; tests call it too)."""
        return self._complete(batch, self._submit(batch))

    def _complete(
        self, batch: list[tuple[str, bytes, float]], checked: Callable[[], list[Verdict]]
    ) -> list[Stored]:
        verified: list[Verified] = []
        statuses: list[tuple[wire.UnitStatus, dt.datetime]] = []
        refused: list[str] = []
        refused_events: list[tuple[str | None, str, wire.AckedEvent]] = []
        for (topic, payload, arrived), msg in zip(batch, checked(), strict=True):
            self.stats.received += 1
            if isinstance(msg, Refused):
                unit = _unit_of(topic)
                reason = self._reason(msg.reason, unit)
                refused.append(reason)
                detail = {"topic": wire.excerpt(topic, 160), "message": msg.message, "bytes": len(payload)}
                self.rejects.note(unit, reason, detail)
                if msg.signed_event is not None and msg.signed_event[0] == unit and _is_checkin(topic):
                    # Signed by the unit, refused for a field (a time out of range): tell it to drop
                    # this one event; the rest of the batch goes on as usual.
                    _, boot, seq = msg.signed_event
                    refused_events.append((wire.split_route(topic)[0], unit,
                                           wire.AckedEvent(boot, seq, wire.AckOutcome.REJECTED, reason)))
                continue
            received = dt.datetime.fromtimestamp(arrived, dt.UTC)
            if isinstance(msg, wire.CheckIn):
                digest = hashlib.sha256(payload).hexdigest()
                item = Verified(msg, digest, received, wire.split_route(topic)[0])
                if msg.clock_synced and not item.time_trusted:
                    self.stats.clock_untrusted += 1
                verified.append(item)
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
        self._after_commit(results, statuses, refused_events)
        return results

    def _after_commit(self, results: list[Stored], statuses,
                      refused_events: list[tuple[str | None, str, wire.AckedEvent]] = ()) -> None:
        by_unit: dict[tuple[str | None, str], list[wire.AckedEvent]] = defaultdict(list)
        for site, unit, event in refused_events:
            by_unit[(site, unit)].append(event)
        for r in results:
            m = r.item.msg
            reason = "" if r.disposition is not Disposition.CONFLICT else CONFLICT
            by_unit[(r.item.site, m.unit)].append(wire.AckedEvent(m.boot, m.seq, r.ack, reason))
            if r.disposition is Disposition.STORED:
                self.stats.stored += 1
            elif r.disposition is Disposition.DUPLICATE:
                self.stats.duplicates += 1
        if self.link.started:
            for (site, unit), events in by_unit.items():  # back the way the check-ins came
                for i in range(0, len(events), ACK_EVENTS_MAX):
                    self._acknowledge(site, unit, tuple(events[i : i + ACK_EVENTS_MAX]))
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
                    self.on_live(EventKind.CHECKIN, {"checkins": [
                        {"delegate_id": r.item.msg.delegate_id, "direction": r.item.msg.direction.value,
                         "method": r.item.msg.method.value, "unit": r.item.msg.unit,
                         "door": r.item.msg.door, "event_at": r.item.event_at.isoformat()}
                        for r in stored[-200:]], "count": len(stored)})
                except Exception:
                    log.exception("live update failed")

    def _acknowledge(self, site: str | None, unit: str, events: tuple[wire.AckedEvent, ...]) -> None:
        self.link.send(lambda boot, seq: wire.Ack(venue=self.venue_id, unit=unit, boot=boot, seq=seq,
                                                  events=events), qos=1, site=site)
        self.stats.acks_sent += 1

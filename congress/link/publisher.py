"""The unit's link to the controller: publish the outbox, apply acks, receive gallery and commands.

Used by the door unit (:class:`edge.main.Unit`) and by the check-in bench's simulated doors
(:class:`controller.bench.sim_door.SimDoor`), which record what it does through a
:class:`LinkObserver`. One named thread (``edge-publisher``) owns the MQTT client. It connects over TLS
with the unit's
client certificate (:mod:`congress.mqtt`, durable session, last will = a signed retained ``offline``
status), and loops until its stop event is set:

* every outbox event not yet sent on this connection is published QoS 1 (at most ``window`` in
  flight); an event still unacknowledged after ``resend_s`` is sent again, then after twice as long,
  up to ``MAX_RESEND_S``;
* incoming messages are put on a queue by paho's callback and handled here: each is verified
  (controller signature, venue, topic, :mod:`congress.wire`); an Ack deletes exactly the events it names;
  sealed gallery parts and manifests go to ``on_gallery`` (an empty retained message is a cleared
  topic and is skipped), commands to ``on_command``;
* every ``heartbeat_s`` a retained signed status carries outbox depth, gallery version and ``health()``
  (``heartbeat_s=None``: no status at all, neither heartbeats nor the ``offline`` last will).

After a disconnect paho reconnects by itself (or this thread reconnects with backoff when the first
connection fails); on every (re)connection everything still in the outbox is published again, so an
event is delivered at least once and the controller's unique key makes it count once.

Behind a satellite site's broker (docs/multi-site.md) the unit's own connection can stay up while the
site's bridge to the central broker is down, or while the central broker restarts and forgets what it
held; so the unit also watches two retained topics: the controller's presence (a new value means the
controller has just subscribed: everything unacknowledged is published again at once) and, on a site
broker, the bridge's state (while it reads ``0`` the timed resends wait, since the site broker queues
what the unit sends for the bridge; when it reads ``1`` again they start afresh).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from congress import wire
from congress.errors import BrokerError, ProtocolError
from congress.link.outbox import Event, Outbox

log = logging.getLogger(__name__)

#: Longest wait before an unacknowledged event is sent again on the same connection.
MAX_RESEND_S = 300.0


class LinkObserver(Protocol):
    """What an instrument learns from the publisher thread (the bench's doors time their events)."""

    def published(self, event: Event, resend: bool) -> None: ...
    def acked_event(self, event: wire.AckedEvent) -> None: ...


@dataclass
class LinkStats:
    connected: bool = False
    connects: int = 0
    published: int = 0
    acked: int = 0
    rejected_messages: int = 0
    last_error: str = ""
    upstream_down: bool = False  # a site broker reports its bridge to the central broker down
    presence_resends: int = 0  # times the controller's presence changed and everything went again
    ignored_commands: int = 0  # signed commands for an earlier run of the unit, or replayed


class Publisher(threading.Thread):
    """Owns the MQTT connection of one unit; see the module docstring for the loop."""

    def __init__(
        self,
        *,
        broker,  # congress.config.common.BrokerSection
        venue_id: str,
        unit_id: str,
        signing_key,
        controller_key,
        outbox: Outbox,
        health: Callable[[], dict],
        on_gallery: Callable[[wire.GalleryUpdate | wire.GalleryPart], None] | None = None,
        on_command: Callable[[wire.UnitCommand], None] | None = None,
        on_keypad_replies: Callable[[wire.KeypadReplies], None] | None = None,
        heartbeat_s: float | None = 10.0,
        resend_s: float = 30.0,
        window: int = 256,
        software: str = "",
        max_inflight: int | None = None,
        observer: LinkObserver | None = None,
        name: str = "edge-publisher",
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.broker, self.venue, self.unit = broker, venue_id, unit_id
        self.key, self.controller_key = signing_key, controller_key
        self.outbox, self.health = outbox, health
        self.on_gallery, self.on_command = on_gallery, on_command
        self.on_keypad_replies = on_keypad_replies  # a site gateway's base station (gateway.relay)
        self.heartbeat_s, self.resend_s, self.window = heartbeat_s, resend_s, window
        self.software = software
        self.max_inflight, self.observer = max_inflight, observer
        self.stop_event = threading.Event()
        self.online = threading.Event()  # set while connected to the broker
        self.wake = threading.Event()
        # One boot id per run for check-ins (the outbox's) and status; status has its own counter.
        self.status_counter = wire.BootCounter(outbox.boot_id)
        self.started = time.monotonic()
        self.stats = LinkStats()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sent: dict[tuple[str, int], float] = {}  # event -> when to send it again
        self._tries: dict[tuple[str, int], int] = {}
        self._client = None
        self._next_beat = 0.0
        self._replay = wire.ReplayGuard()
        self._presence: bytes | None = None
        self._links_down: set[str] = set()

    @property
    def client(self):
        """The paho client of the current connection (instruments publish raw messages on it)."""
        return self._client

    @property
    def boot(self) -> str:
        """This run's boot id as the controller sees it in status messages (commands must name it)."""
        return self.status_counter.boot

    # -- paho callbacks: no work here, only hand-over to the thread ------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            kinds = [wire.Kind.ACK, wire.Kind.GALLERY, wire.Kind.GALLERY_PART, wire.Kind.CMD]
            if self.on_keypad_replies is not None:
                kinds.append(wire.Kind.KEYPAD_REPLIES)
            for kind in kinds:
                client.subscribe(wire.unit_topic(self.venue, self.unit, kind), qos=1)
            # Only a site broker lets its units read its bridge's state; the central broker has none.
            client.subscribe([(wire.presence_topic(self.venue), 1), (wire.link_topic(self.venue, "+"), 1)])
            self._inbox.put(("connected", None))
        self.wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._inbox.put(("disconnected", str(reason_code)))
        self.wake.set()

    def _on_message(self, client, userdata, msg) -> None:
        self._inbox.put((msg.topic, bytes(msg.payload)))
        self.wake.set()

    # -- thread ----------------------------------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.5
        try:
            while not self.stop_event.is_set():
                if self._client is None:
                    try:
                        self._connect()
                        backoff = 0.5
                    except BrokerError as exc:
                        self.stats.last_error = str(exc)
                        log.warning("broker not reachable (%s); retrying in %.1f s", exc, backoff)
                        self.stop_event.wait(backoff)
                        backoff = min(backoff * 2, 10.0)
                        continue
                self._drain_inbox()
                if self.stats.connected:
                    self._publish_pending()
                    if self.heartbeat_s is not None and time.monotonic() >= self._next_beat:
                        self._heartbeat()
                self.wake.wait(0.5)
                self.wake.clear()
        finally:
            self._shutdown()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        self.wake.set()
        if self.is_alive():
            self.join(timeout)

    def notify(self) -> None:
        """A new event is in the outbox: publish it now rather than at the next poll."""
        self.wake.set()

    def _status(self, state: wire.UnitState, *, will: bool = False) -> bytes:
        """A signed status. The last will is signed when the connection is made but delivered maybe
        hours later, after many heartbeats: it gets its own stream (``<boot>-will``, numbered by the
        monotonic clock) so a controller that ignores older sequence numbers still takes it."""
        h = self.health()
        d = h.get("detail", {})
        detail = json.dumps(d, sort_keys=True, separators=(",", ":"))
        if len(detail) > 500:  # the wire's limit; keep it valid JSON by keeping the essentials
            essentials = ("fps", "latency_ms", "clock", "alarm")
            detail = json.dumps(
                {k: d[k] for k in essentials if k in d}, sort_keys=True, separators=(",", ":")
            )
        msg = wire.UnitStatus(
            venue=self.venue,
            unit=self.unit,
            boot=f"{self.boot}-will" if will else self.boot,
            seq=int(time.monotonic() * 1000) if will else self.status_counter.next(),
            state=state,
            uptime_s=int(time.monotonic() - self.started),
            outbox=self.outbox.depth(),
            gallery_version=int(h.get("gallery_version", 0)),
            rss_kb=h.get("rss_kb"),
            temp_mc=h.get("temp_mc"),
            software=self.software[:64],
            detail=detail,
        )
        return wire.encode(msg, self.key)

    def _connect(self) -> None:
        from congress import mqtt

        will = None
        if self.heartbeat_s is not None:
            will = (
                wire.unit_topic(self.venue, self.unit, wire.Kind.STATUS),
                self._status(wire.UnitState.OFFLINE, will=True),
            )
        client = mqtt.make_client_from_config(self.broker, self.unit, will=will)
        if self.max_inflight is not None:
            client.max_inflight_messages_set(self.max_inflight)
        client.on_message = self._on_message
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        mqtt.connect(
            client, self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s, durable=True
        )
        self._client = client  # our on_connect already ran inside connect(): subscribed, queued "connected"

    def _drain_inbox(self) -> None:
        while True:
            try:
                topic, payload = self._inbox.get_nowait()
            except queue.Empty:
                return
            if topic == "connected":
                if not self.stats.connected:
                    self.stats.connected = True
                    self.stats.connects += 1
                    log.info("connected to the broker; %d events to (re)send", self.outbox.depth())
                self._sent.clear()
                self._next_beat = 0.0
                self.online.set()
            elif topic == "disconnected":
                if self.stats.connected:
                    log.warning("disconnected from the broker (%s)", payload)
                self.stats.connected = False
                self.online.clear()
            else:
                self._dispatch(topic, payload)

    def _upstream(self, topic: str, payload: bytes) -> bool:
        """Presence and link-state messages; True if ``topic`` was one of them."""
        if topic == wire.presence_topic(self.venue):
            if payload and payload != self._presence:
                if self._presence is not None:  # the first one is what the connection found retained
                    log.info("the controller subscribed again: resending %d events", len(self._sent))
                    self.stats.presence_resends += 1
                    self._sent.clear()
                self._presence = payload
            return True
        link = wire.parse_link_topic(topic)
        if link is None or link[0] != self.venue:
            return False
        if payload == b"0" and link[1] not in self._links_down:
            self._links_down.add(link[1])
            slowest = time.monotonic() + MAX_RESEND_S
            self._sent = {k: max(due, slowest) for k, due in self._sent.items()}
        elif payload == b"1" and link[1] in self._links_down:
            self._links_down.discard(link[1])
            again = time.monotonic() + self.resend_s  # the bridge delivers its queue first
            self._sent = dict.fromkeys(self._sent, again)
            self._next_beat = 0.0  # tell the central page the outbox depth now
        self.stats.upstream_down = bool(self._links_down)
        return True

    def _dispatch(self, topic: str, payload: bytes) -> None:
        if self._upstream(topic, payload):
            return
        if not payload:  # the controller cleared a retained topic (smaller gallery, revocation)
            log.debug("retained message on %s cleared", topic)
            return
        try:
            msg = wire.verify(payload, topic=topic, venue=self.venue, controller_key=self.controller_key)
        except ProtocolError as exc:
            self.stats.rejected_messages += 1
            log.error("refused a message on %s: %s (%s)", topic, exc, exc.reason)
            return
        if isinstance(msg, wire.Ack):
            for ev in msg.events:
                if self.outbox.ack(ev.boot, ev.seq):
                    self.stats.acked += 1
                self._sent.pop((ev.boot, ev.seq), None)
                self._tries.pop((ev.boot, ev.seq), None)
                if self.observer is not None:
                    self.observer.acked_event(ev)
                if ev.outcome is wire.AckOutcome.REJECTED:
                    log.error("controller refused event %s/%d for good: %s", ev.boot, ev.seq, ev.reason)
        elif isinstance(msg, wire.GalleryUpdate | wire.GalleryPart):
            if self.on_gallery is not None:
                self._safely(self.on_gallery, msg)
        elif isinstance(msg, wire.KeypadReplies):
            try:  # a copy the broker delivers twice must not reach the keypads twice
                self._replay.check("controller", msg.boot, msg.seq)
            except ProtocolError as exc:
                log.warning("ignored keypad replies: %s", exc)
                return
            if self.on_keypad_replies is not None:
                self._safely(self.on_keypad_replies, msg)
        elif isinstance(msg, wire.UnitCommand):
            if msg.unit_boot != self.boot:
                log.warning("ignored command %s for an earlier run of this unit", msg.command)
                self.stats.ignored_commands += 1
                return
            try:
                self._replay.check("controller", msg.boot, msg.seq)
            except ProtocolError as exc:
                log.warning("ignored command: %s", exc)
                self.stats.ignored_commands += 1
                return
            if self.on_command is not None:
                self._safely(self.on_command, msg)

    def _safely(self, handler: Callable, msg: wire.Message) -> None:
        """A message the unit cannot apply is logged and skipped; it must not stop the link (a
        retained gallery would otherwise stop it again after every restart)."""
        try:
            handler(msg)
        except Exception:
            self.stats.rejected_messages += 1
            log.exception("could not apply %s message %s/%d", msg.kind, msg.boot, msg.seq)

    def _publish_pending(self) -> None:
        now = time.monotonic()
        for key in [k for k, due in self._sent.items() if now >= due]:
            del self._sent[key]
        room = self.window - len(self._sent)
        if room <= 0:
            return
        for ev in self.outbox.pending(limit=room + len(self._sent)):
            if (ev.boot_id, ev.seq) in self._sent:
                continue
            topic = wire.unit_topic(self.venue, self.unit, ev.kind)
            info = self._client.publish(topic, ev.payload, qos=1)
            if info.rc != 0:  # not connected any more: paho would only queue it in memory
                self.stats.connected = False
                self.online.clear()
                return
            key = (ev.boot_id, ev.seq)
            tries = self._tries.get(key, 0)
            self._tries[key] = tries + 1
            # No ack yet (controller down?): send again later and later, so the broker's queue for
            # the controller does not fill with copies; a reconnection sends everything at once. While
            # the site's bridge is down the site broker queues what we send: only the slowest resends.
            wait = MAX_RESEND_S if self._links_down else min(self.resend_s * 2**tries, MAX_RESEND_S)
            self._sent[key] = now + wait
            self.stats.published += 1
            if self.observer is not None:
                self.observer.published(ev, tries > 0)

    def _heartbeat(self) -> None:
        """Retained status: ``degraded`` while ``health()`` reports a fault (alarm, failed camera).
        While the site's bridge is down none is sent (each would wait in the site broker's queue, and
        only the newest matters): the first one goes when the link is back."""
        self._next_beat = time.monotonic() + self.heartbeat_s
        if self._links_down:
            return
        state = wire.UnitState.DEGRADED if self.health().get("degraded") else wire.UnitState.READY
        topic = wire.unit_topic(self.venue, self.unit, wire.Kind.STATUS)
        self._client.publish(topic, self._status(state), qos=1, retain=True)

    def _shutdown(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            if self.stats.connected and self.heartbeat_s is not None:
                topic = wire.unit_topic(self.venue, self.unit, wire.Kind.STATUS)
                info = client.publish(topic, self._status(wire.UnitState.OFFLINE), qos=1, retain=True)
                info.wait_for_publish(2.0)
            client.disconnect()
        client.loop_stop()
        self.stats.connected = False
        self.online.clear()

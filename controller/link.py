"""The controller's one MQTT connection to the venue broker, shared by every area that talks to units.

:class:`ControllerLink` owns one paho client (TLS, the controller's client certificate, client id
``controller``, a durable session so the broker queues check-ins while the controller is down) and the
controller's one :class:`congress.wire.BootCounter`: every signed message the controller sends (acks
from the ingest, commands from the attendant lane, gallery parts and manifests) takes its ``(boot,
seq)`` from it. Areas register their subscriptions before :meth:`start` with :meth:`subscribe`; paho's
callback only hands ``(topic, payload, arrival time)`` to the area's ``on_message``, which queues it
for its own thread. :meth:`send` signs and publishes under one lock, so sequence numbers reach the
broker in order whichever thread sends.

**Sites.** A door unit behind a satellite site is reached under that site's subtree
(``congress/<venue>/site/<site>/unit/...``, docs/multi-site.md): ``route(unit) -> site`` (the unit
registry's :meth:`~controller.checkins.unit_registry.UnitRegistry.site_of`) routes every message to a
unit, and :meth:`send` takes ``site=`` to answer the way a message came. Each time its subscriptions
are in place (the first connection and every reconnection) the link publishes the controller's
**presence** (``congress/<venue>/controller/online``, retained, a new value each time): units resend
what is still unacknowledged, which is how check-ins dropped by a central broker that restarted
without its queue come back at once.

Built once by ``create_app`` (:mod:`controller.app`), started before and stopped after the services
that use it (:class:`controller.server.ControllerServer`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.client import topic_matches_sub

from congress import mqtt, wire
from congress.errors import BrokerError

log = logging.getLogger(__name__)

OnMessage = Callable[[str, bytes, float], None]


@dataclass(frozen=True)
class BrokerTarget:
    """Where and as whom the controller connects (from ``[broker]`` of the controller configuration)."""

    host: str
    port: int
    ca_file: str
    cert_file: str
    key_file: str
    keepalive_s: int = 15

    @classmethod
    def from_section(cls, b) -> BrokerTarget:
        return cls(b.host, b.port, str(b.ca_file), str(b.cert_file), str(b.key_file), b.keepalive_s)


class Route(Enum):
    UNITS_OWN = "the unit's own route"


class LinkState(StrEnum):
    """Where the broker connection stands (shown on the devices page)."""

    NOT_STARTED = "not_started"
    CONNECTING = "connecting"  # never connected since the start: the broker was not reachable yet
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # was connected; paho reconnects by itself


@dataclass(frozen=True)
class LinkStatus:
    """The connection's state, since when (Unix time) and, when not connected, why (for technicians)."""

    state: LinkState
    since: float
    reason: str = ""


def _unit_of(topic: str) -> str:
    """The unit of a unit topic ``congress/<venue>/unit/<unit>/...``, else ``""``."""
    parts = topic.split("/", 4)
    return parts[3] if len(parts) >= 5 and parts[2] == "unit" else ""


class ControllerLink:
    """One connection, one boot counter; :meth:`subscribe`, :meth:`start`, :meth:`send`, :meth:`stop`."""

    def __init__(
        self,
        *,
        venue_id: str,
        broker,
        signing_key: Ed25519PrivateKey,
        client_id: str = "controller",
        durable: bool = True,
        route: Callable[[str], str | None] | None = None,
    ) -> None:
        self.venue_id, self.broker, self.client_id, self.durable = venue_id, broker, client_id, durable
        self.route = route
        self.counter = wire.BootCounter()
        self._subscribe_mid: int | None = None
        self.presences = 0
        self._key = signing_key
        self._routes: list[tuple[list[tuple[str, int]], OnMessage, OnMessage | None]] = []
        self._lock = threading.Lock()
        self._client = None
        self.status = LinkStatus(LinkState.NOT_STARTED, time.time())

    def subscribe(self, topics: list[tuple[str, int]], on_message: OnMessage, *,
                  on_retained: OnMessage | None = None) -> None:
        """Deliver messages on ``topics`` (``(filter, qos)``) to ``on_message``; call before :meth:`start`.

        ``on_retained``: topics where nobody may leave a retained message (a unit's check-ins): a
        message the broker delivers *as retained* goes there instead, never to ``on_message``."""
        if self._client is not None:
            raise RuntimeError("subscribe before the link starts")
        self._routes.append((list(topics), on_message, on_retained))

    # --- paho callbacks: no work here -------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            self._set(LinkState.CONNECTED)
            wanted = [t for topics, _, _ in self._routes for t in topics]
            if wanted:
                self._subscribe_mid = client.subscribe(wanted)[1]
        else:
            self._set(self._down_state(), str(reason_code))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self._client is not None:
            self._set(self._down_state(), str(reason_code))

    def _on_connect_fail(self, client, userdata) -> None:
        self._set(self._down_state(), "the broker is not reachable")

    def _down_state(self) -> LinkState:
        was = self.status.state
        return LinkState.DISCONNECTED if was in (LinkState.CONNECTED, LinkState.DISCONNECTED) else \
            LinkState.CONNECTING

    def _set(self, state: LinkState, reason: str = "") -> None:
        """Record a state change (logged once per change, not once per retry)."""
        if state is not self.status.state:
            b = self.broker
            if state is LinkState.CONNECTED:
                log.info("connected to the broker at %s:%d as %s", b.host, b.port, self.client_id)
            elif reason:
                log.warning("broker at %s:%d: %s (%s); retrying in the background", b.host, b.port,
                            state.value, reason)
            self.status = LinkStatus(state, time.time(), reason)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        """Subscribed (SUBACK): announce the controller's presence (see the module docstring)."""
        if mid == self._subscribe_mid:
            self.presences += 1
            client.publish(wire.presence_topic(self.venue_id), f"{self.counter.boot}:{self.presences}",
                           qos=1, retain=True)

    def _on_message(self, client, userdata, message) -> None:
        arrived = time.time()
        for topics, handler, on_retained in self._routes:
            if any(topic_matches_sub(f, message.topic) for f, _ in topics):
                if message.retain and on_retained is not None:
                    handler = on_retained
                handler(message.topic, message.payload, arrived)

    def _new_client(self):
        client = mqtt.make_client_from_config(self.broker, self.client_id)
        client.on_connect, client.on_message = self._on_connect, self._on_message
        client.on_subscribe, client.on_disconnect = self._on_subscribe, self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        # Every site's backlog waits for the controller after a central broker restart: retry often.
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        return client

    def start(self, *, wait: bool = True) -> ControllerLink:
        """Connect; queued messages start arriving at once.

        ``wait``: raise BrokerError with the reason when the broker cannot be reached now. Without it
        (``congress controller run``) the reason is logged and the link connects in the background as
        soon as the broker answers, so the page comes up without the broker; :attr:`status` tells."""
        b = self.broker
        self._set(LinkState.CONNECTING)
        self._client = self._new_client()  # before connecting: the queued backlog arrives and needs acks
        try:
            mqtt.connect(self._client, b.host, b.port, keepalive=b.keepalive_s, durable=self.durable)
        except BrokerError as exc:
            if wait:
                self._client = None
                self._set(LinkState.NOT_STARTED)
                raise
            self._set(LinkState.CONNECTING, exc.message)
            self._client = self._new_client()
            mqtt.connect_in_background(self._client, b.host, b.port, keepalive=b.keepalive_s,
                                       durable=self.durable)
        except Exception:
            self._client = None
            self._set(LinkState.NOT_STARTED)
            raise
        return self

    @property
    def started(self) -> bool:
        """:meth:`start` was called (paho connects and reconnects by itself after that; what is
        published meanwhile waits in the client until it is connected)."""
        return self._client is not None

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected()

    def send(self, build: Callable[[str, int], wire.Message], *, qos: int = 1, retain: bool = False,
             site: str | Route | None = Route.UNITS_OWN):
        """Sign and publish ``build(boot, seq)``; returns paho's ``MQTTMessageInfo``. ``site``: the route
        (None: the unit talks to this broker directly); by default the unit's own (``route``)."""
        with self._lock:
            msg = build(self.counter.boot, self.counter.next())
            own = site is Route.UNITS_OWN
            topic = msg.topic if own else wire.routed(site, msg.topic)
            return self._publish(topic, wire.encode(msg, self._key), qos=qos, retain=retain, routed=not own)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False):
        """Publish bytes signed elsewhere with this link's counter (gallery parts) or an empty retained
        message that clears a topic."""
        with self._lock:
            return self._publish(topic, payload, qos=qos, retain=retain)

    def publish_retained(self, topic: str, payload: bytes, timeout: float = 30.0) -> None:
        """A retained QoS 1 message, returning once the broker has it (raises BrokerError otherwise, at
        once while the broker is not connected: the caller tries again later)."""
        if self._client is not None and not self.connected:
            raise BrokerError(f"the broker is not connected ({self.status.state.value}); {topic} not sent")
        info = self.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise BrokerError(f"the broker did not confirm the message for {topic} within {timeout:.0f} s")

    def _publish(self, topic: str, payload: bytes, *, qos: int, retain: bool, routed: bool = False):
        if self._client is None:
            raise BrokerError("the controller's broker link is not started")
        if not routed and self.route is not None:
            topic = wire.routed(self.route(_unit_of(topic)), topic) if _unit_of(topic) else topic
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def stop(self) -> None:
        """Disconnect (a durable session stays on the broker and queues what arrives meanwhile)."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self.status = LinkStatus(LinkState.NOT_STARTED, time.time())

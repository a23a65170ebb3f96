"""The controller's one MQTT connection to the venue broker, shared by every area that talks to units.

:class:`ControllerLink` owns one paho client (TLS, the controller's client certificate, client id
``controller``, a durable session so the broker queues check-ins while the controller is down) and the
controller's one :class:`congress.wire.BootCounter`: every signed message the controller sends (acks
from the ingest, commands from the attendant lane, gallery parts and manifests) takes its ``(boot,
seq)`` from it. Areas register their subscriptions before :meth:`start` with :meth:`subscribe`; paho's
callback only hands ``(topic, payload, arrival time)`` to the area's ``on_message``, which queues it
for its own thread. :meth:`send` signs and publishes under one lock, so sequence numbers reach the
broker in order whichever thread sends.

Built once by ``create_app`` (:mod:`controller.app`), started before and stopped after the services
that use it (:class:`controller.server.ControllerServer`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

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
    ) -> None:
        self.venue_id, self.broker, self.client_id, self.durable = venue_id, broker, client_id, durable
        self.counter = wire.BootCounter()
        self._key = signing_key
        self._routes: list[tuple[list[tuple[str, int]], OnMessage]] = []
        self._lock = threading.Lock()
        self._client = None

    def subscribe(self, topics: list[tuple[str, int]], on_message: OnMessage) -> None:
        """Deliver messages on ``topics`` (``(filter, qos)``) to ``on_message``; call before :meth:`start`."""
        if self._client is not None:
            raise RuntimeError("subscribe before the link starts")
        self._routes.append((list(topics), on_message))

    # --- paho callbacks: no work here -------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            wanted = [t for topics, _ in self._routes for t in topics]
            if wanted:
                client.subscribe(wanted)

    def _on_message(self, client, userdata, message) -> None:
        arrived = time.time()
        for topics, handler in self._routes:
            if any(topic_matches_sub(f, message.topic) for f, _ in topics):
                handler(message.topic, message.payload, arrived)

    def start(self) -> ControllerLink:
        """Connect (raises BrokerError with the reason); queued messages start arriving at once."""
        b = self.broker
        client = mqtt.make_client_from_config(b, self.client_id)
        client.on_connect, client.on_message = self._on_connect, self._on_message
        self._client = client  # before connecting: the queued backlog arrives at once and needs acks
        try:
            mqtt.connect(client, b.host, b.port, keepalive=b.keepalive_s, durable=self.durable)
        except Exception:
            self._client = None
            raise
        log.info("connected to the broker at %s:%d as %s", b.host, b.port, self.client_id)
        return self

    @property
    def started(self) -> bool:
        """:meth:`start` has connected once (paho reconnects by itself after that)."""
        return self._client is not None

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected()

    def send(self, build: Callable[[str, int], wire.Message], *, qos: int = 1, retain: bool = False):
        """Sign and publish ``build(boot, seq)``; returns paho's ``MQTTMessageInfo``."""
        with self._lock:
            msg = build(self.counter.boot, self.counter.next())
            return self._publish(msg.topic, wire.encode(msg, self._key), qos=qos, retain=retain)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False):
        """Publish bytes signed elsewhere with this link's counter (gallery parts) or an empty retained
        message that clears a topic."""
        with self._lock:
            return self._publish(topic, payload, qos=qos, retain=retain)

    def publish_retained(self, topic: str, payload: bytes, timeout: float = 30.0) -> None:
        """A retained QoS 1 message, returning once the broker has it (raises BrokerError otherwise)."""
        info = self.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise BrokerError(f"the broker did not confirm the message for {topic} within {timeout:.0f} s")

    def _publish(self, topic: str, payload: bytes, *, qos: int, retain: bool):
        if self._client is None:
            raise BrokerError("the controller's broker link is not started")
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def stop(self) -> None:
        """Disconnect (a durable session stays on the broker and queues what arrives meanwhile)."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

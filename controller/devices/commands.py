"""Commands to door units: signed :class:`congress.wire.UnitCommand` messages over MQTT/TLS.

The attendant lane (:mod:`controller.checkins.lane`) decides; the web route then calls
:meth:`UnitCommander.answer`, which tells the door unit to open or stay shut.
"""

from __future__ import annotations

import logging
import threading

from congress import wire
from controller.checkins.lane import Decided

log = logging.getLogger(__name__)


class UnitCommander:
    """Sends signed :class:`congress.wire.UnitCommand` messages to door units over MQTT/TLS.

    One paho client of its own (client id ``<name>-commands``) with the controller's certificate, so the
    ingest's connection stays a pure consumer. Commands are QoS 1 and not retained: a command to a unit
    that has restarted meanwhile is void anyway (``unit_boot``).
    """

    def __init__(self, *, venue_id: str, broker, signing_key, client_id: str = "controller-commands") -> None:
        self.venue_id, self.broker, self._key, self.client_id = venue_id, broker, signing_key, client_id
        self._counter = wire.BootCounter()
        self._client = None
        self._lock = threading.Lock()

    def start(self) -> UnitCommander:
        from congress import mqtt

        client = mqtt.make_client_from_config(self.broker, self.client_id)
        mqtt.connect(client, self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        self._client = client
        return self

    def send(self, unit_id: str, unit_boot: str, command: wire.Command, args: dict | None = None) -> None:
        with self._lock:
            msg = wire.UnitCommand(
                venue=self.venue_id,
                unit=unit_id,
                boot=self._counter.boot,
                seq=self._counter.next(),
                unit_boot=unit_boot,
                command=command,
                args=dict(args or {}),
            )
            info = self._client.publish(msg.topic, wire.encode(msg, self._key), qos=1)
        info.wait_for_publish(5)
        log.info("sent %s to unit %s", command.value, unit_id)

    def answer(self, decided: Decided) -> None:
        """Tell the unit the attendant's answer (``open_door`` with ``accept``)."""
        self.send(
            decided.unit_id,
            decided.boot_id,
            wire.Command.OPEN_DOOR,
            {"delegate_id": decided.delegate_id, "accept": decided.accepted},
        )

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

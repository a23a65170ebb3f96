"""Commands to door units: signed :class:`congress.wire.UnitCommand` messages over MQTT/TLS.

The attendant lane (:mod:`controller.checkins.lane`) decides; the web route then calls
:meth:`UnitCommander.answer`, which tells the door unit to open or stay shut.
"""

from __future__ import annotations

import logging

from congress import wire
from controller.checkins.lane import Decided
from controller.link import ControllerLink

log = logging.getLogger(__name__)


class UnitCommander:
    """Sends signed :class:`congress.wire.UnitCommand` messages to door units on the controller's link.

    Commands are QoS 1 and not retained: a command to a unit that has restarted meanwhile is void
    anyway (``unit_boot``). They are numbered by the link's one boot counter, like every message the
    controller signs.
    """

    def __init__(self, link: ControllerLink, *, timeout_s: float = 5.0) -> None:
        self.link, self.timeout_s = link, timeout_s

    def send(self, unit_id: str, unit_boot: str, command: wire.Command, args: dict | None = None) -> None:
        def build(boot: str, seq: int) -> wire.UnitCommand:
            return wire.UnitCommand(venue=self.link.venue_id, unit=unit_id, boot=boot, seq=seq,
                                    unit_boot=unit_boot, command=command, args=dict(args or {}))

        info = self.link.send(build, qos=1)
        info.wait_for_publish(self.timeout_s)
        log.info("sent %s to unit %s", command.value, unit_id)

    def answer(self, decided: Decided) -> None:
        """Tell the unit the attendant's answer (``open_door`` with ``accept``)."""
        self.send(
            decided.unit_id,
            decided.boot_id,
            wire.Command.OPEN_DOOR,
            {"delegate_id": decided.delegate_id, "accept": decided.accepted},
        )

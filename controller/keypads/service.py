"""Wiring of the voting side into a running controller: ballots service + keypad reader.

:func:`attach` is called by the controller's start-up with the app's :class:`Services`; it puts a
:class:`controller.ballots.Ballots` (live events on the app's bus, quorum from ``[attendance]``)
into ``Services.extra["ballots"]`` and, when the configuration has a ``[keypads]`` table, a
:class:`KeypadReader` on that port into ``extra["keypad_reader"]``; ballot openings and closings are
then announced to the keypads. The caller starts and stops the returned reader.
"""

from __future__ import annotations

from congress.keypads.keystore import KeyStore
from controller.attendance import QuorumPolicy
from controller.ballots import Ballots
from controller.keypads.reader import KeypadReader


def attach(svc, config) -> KeypadReader | None:
    ballots = Ballots(svc.db, QuorumPolicy.parse(config.attendance.quorum), publish=svc.bus.publish)
    svc.extra["ballots"] = ballots
    section = getattr(config, "keypads", None)
    if section is None:
        return None
    keys = KeyStore.load(section.keys_file)
    reader = KeypadReader(section.port, keys, svc.db, ballots, baud=section.baud, retry_s=section.retry_s)
    ballots.announce = reader.announce
    svc.extra["keypad_reader"] = reader
    return reader

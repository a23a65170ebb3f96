"""Wiring of the voting side into a running controller: ballots, keypad reader, ballot timer.

:func:`attach` is called by the controller's start-up with the app's :class:`Services`; it puts a
:class:`controller.ballots.Ballots` (live events on the app's bus, quorum from ``[attendance]``)
into ``Services.extra["ballots"]`` and, when the configuration has a ``[keypads]`` table, a
:class:`KeypadReader` on that port into ``extra["keypad_reader"]``; ballot openings and closings are
then announced to the keypads. The returned :class:`VotingService` starts and stops the reader and
the ``ballot-timer`` thread, which closes ballots whose voting time has run out.
"""

from __future__ import annotations

import logging
import threading

from congress.keypads.keystore import KeyStore
from controller.attendance import QuorumPolicy
from controller.ballots import Ballots
from controller.keypads.reader import KeypadReader

log = logging.getLogger(__name__)


class VotingService:
    def __init__(self, ballots: Ballots, reader: KeypadReader | None, *, tick_s: float = 1.0) -> None:
        self.ballots, self.reader, self.tick_s = ballots, reader, tick_s
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    def start(self) -> VotingService:
        if self.reader is not None:
            self.reader.start()
        self._timer = threading.Thread(target=self._tick, name="ballot-timer", daemon=True)
        self._timer.start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.ballots.flush_progress()
                for bid in self.ballots.expire_due():
                    log.info("ballot %d closed: voting time over", bid)
            except Exception:  # a database hiccup must not end the timer; it retries next tick
                log.exception("ballot timer: could not check for ballots past their time")

    def stop(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=5)
        if self.reader is not None:
            self.reader.stop()


def attach(svc, config) -> VotingService:
    ballots = Ballots(svc.db, QuorumPolicy.parse(config.attendance.quorum), publish=svc.bus.publish)
    svc.extra["ballots"] = ballots
    reader = None
    section = getattr(config, "keypads", None)
    if section is not None:
        keys = KeyStore.load(section.keys_file)
        reader = KeypadReader(section.port, keys, svc.db, ballots, baud=section.baud, retry_s=section.retry_s)
        ballots.announce = reader.announce
        svc.extra["keypad_reader"] = reader
    return VotingService(ballots, reader)

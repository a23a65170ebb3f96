"""Wiring of the voting side into a running controller: ballots, keypad reader, ballot timer.

:func:`build_voting` is called by ``create_app`` (:mod:`controller.app`) with the app's
:class:`controller.voting.ballots.Ballots` (live events on the app's bus, quorum from ``[attendance]``);
when the configuration has a ``[keypads]`` table it adds a :class:`KeypadReader` on that port on the
app's one database, and ballot openings and closings are then announced to the keypads. The returned
:class:`VotingService` starts and stops the reader and the ``ballot-timer`` thread. Every ``tick_s``
(half a second) that thread announces the openings and closings this process has not announced (a
ballot opened or closed by ``congress controller ballot`` in another process on the same database, the
ballot already open at start: :meth:`Ballots.announce_changes`), closes ballots whose voting time has
run out (announced as they close) and sends the live progress held back by its rate limit.
"""

from __future__ import annotations

import logging
import threading

from congress.keypads.keystore import KeyStore
from controller.storage.database import Database
from controller.voting.ballots import Ballots
from controller.voting.keypad_reader import KeypadReader

log = logging.getLogger(__name__)


class VotingService:
    def __init__(self, ballots: Ballots, reader: KeypadReader | None, *, tick_s: float = 0.5) -> None:
        self.ballots, self.reader, self.tick_s = ballots, reader, tick_s
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    def start(self) -> VotingService:
        for bid in self.ballots.sweep_keys():
            log.warning("ballot %d: tally key left by a close cut short; shredded now", bid)
        if self.reader is not None:
            self.reader.start()
        self._timer = threading.Thread(target=self._tick, name="ballot-timer", daemon=True)
        self._timer.start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                for bid, state in self.ballots.announce_changes():
                    log.info("ballot %d %s outside this process (or before it started): announced", bid,
                             state.name.lower())
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


def build_voting(config, db: Database, ballots: Ballots) -> VotingService:
    """The voting side for a controller configuration: ``ballots``, and a :class:`KeypadReader` on the
    ``[keypads]`` port (ballot openings and closings are then announced to the keypads)."""
    reader = None
    section = getattr(config, "keypads", None)
    if section is not None:
        keys = KeyStore.load(section.keys_file)
        reader = KeypadReader(section.port, keys, db, ballots, baud=section.baud, retry_s=section.retry_s)
        ballots.announce = reader.announce
    return VotingService(ballots, reader)

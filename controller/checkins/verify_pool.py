"""Verification of wire messages in worker processes, so signature checks use every core.

Ed25519 verification is most of the ingest's CPU time and holds the GIL, so threads do not help.
:class:`VerifyPool` runs :func:`congress.wire.verify` in ``workers`` spawned processes (spawned, not
forked: the parent has MQTT and database threads). Each worker keeps its own
:class:`controller.checkins.unit_registry.UnitRegistry` on the venue CA directory (it re-reads the index when
it changes, so a revocation reaches the workers as quickly as the parent). A batch is split into one
chunk per worker; small batches are verified in the calling thread, where a process round trip would
only add latency. Results come back in input order, each a :data:`Verdict`: the verified message, or
:class:`Refused` with the reason.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from congress import wire
from congress.errors import ProtocolError
from controller.checkins.unit_registry import UnitRegistry

log = logging.getLogger(__name__)

#: Batches smaller than this are verified in the calling thread.
MIN_PARALLEL = 64
#: After the workers failed, wait this long before starting new ones.
RESTART_AFTER_S = 60.0

_worker: dict = {}


@dataclass(frozen=True)
class Refused:
    """A message that failed verification: ``reason`` (a :class:`congress.wire.Reason` value) and what
    exactly was wrong, for the audit row."""

    reason: str
    message: str
    #: ``(unit, boot, seq)`` when the signature verified and only a body field was refused.
    signed_event: tuple[str, str, int] | None = None


#: The verdict on one message: the verified wire message, or why it was refused.
Verdict = wire.Message | Refused


def _init(ca_dir: str, venue_id: str) -> None:
    # The parent stops its workers; Ctrl-C in a terminal signals the whole process group, and a worker
    # must not die first with a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker["registry"] = UnitRegistry(Path(ca_dir))
    _worker["venue"] = venue_id
    parent = os.getppid()

    def watch_parent() -> None:
        # A worker must not outlive a controller that was killed -9 (nobody would shut it down).
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch_parent, name="verify-parent-watch", daemon=True).start()


def verify_all(items: list[tuple[str, bytes]], venue_id: str, registry: UnitRegistry) -> list[Verdict]:
    """Verify ``(topic, payload)`` pairs here, one :data:`Verdict` each."""
    out: list[Verdict] = []
    for topic, payload in items:
        try:
            out.append(wire.verify(payload, topic=topic, venue=venue_id, unit_keys=registry.key))
        except ProtocolError as exc:
            out.append(Refused(str(exc.reason), exc.message, exc.signed_event))
    return out


def _verify_chunk(items: list[tuple[str, bytes]]) -> list[Verdict]:
    return verify_all(items, _worker["venue"], _worker["registry"])


class VerifyPool:
    """``workers`` processes verifying messages; :meth:`close` when done.

    If a worker dies (killed, out of memory), the batch is verified in the calling thread instead and
    a fresh set of workers is started for the next batches (at most once a minute).
    """

    def __init__(self, ca_dir: Path, venue_id: str, workers: int) -> None:
        self.workers, self._args = workers, (str(ca_dir), venue_id)
        self._ex: ProcessPoolExecutor | None = None
        self._broken_at = 0.0
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        self._ex = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=self._args,
        )
        # Start the workers now (imports take a second), not on the first busy batch.
        list(self._ex.map(_verify_chunk, [[] for _ in range(self.workers)]))

    def _broken(self, exc: BaseException) -> None:
        log.error("signature workers failed (%s); verifying in the ingest thread", exc)
        self._broken_at = time.monotonic()
        if self._ex is not None:
            self._ex.shutdown(wait=False, cancel_futures=True)
            self._ex = None

    def _executor(self) -> ProcessPoolExecutor | None:
        if self._ex is None and time.monotonic() - self._broken_at >= RESTART_AFTER_S:
            try:
                self._start()
                self.restarts += 1
            except (BrokenProcessPool, OSError) as exc:
                self._broken(exc)
        return self._ex

    def submit(
        self, items: list[tuple[str, bytes]], venue_id: str, registry: UnitRegistry
    ) -> Callable[[], list[Verdict]]:
        """Start verifying ``items``; the returned function waits for and returns the results."""
        ex = self._executor() if len(items) >= MIN_PARALLEL else None
        if ex is None:
            done = verify_all(items, venue_id, registry)
            return lambda: done
        size = -(-len(items) // self.workers)
        try:
            futures = [ex.submit(_verify_chunk, items[i : i + size]) for i in range(0, len(items), size)]
        except BrokenProcessPool as exc:
            self._broken(exc)
            done = verify_all(items, venue_id, registry)
            return lambda: done

        def results() -> list[Verdict]:
            try:
                return [r for f in futures for r in f.result()]
            except BrokenProcessPool as exc:
                self._broken(exc)
                return verify_all(items, venue_id, registry)

        return results

    def verify(self, items: list[tuple[str, bytes]], venue_id: str, registry: UnitRegistry) -> list[Verdict]:
        return self.submit(items, venue_id, registry)()

    def close(self) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)
            self._ex = None

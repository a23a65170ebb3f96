"""A keypad base station with N paired keypads, played on a pseudo-terminal.

The simulator opens a pty pair (``os.openpty``), puts the line in raw mode at the requested baud rate
and hands the slave side to the controller's reader as if it were ``/dev/ttyUSB0``. Optionally it
keeps a symlink (``link``) pointing at the current slave, so :meth:`unplug` / :meth:`replug` can
imitate pulling the USB cable out and back in (the new pty has a new name, the link stays).

It is an instrument: every frame it sends is recorded in :attr:`sent`, every acknowledgement that
comes back (with its receipt code) in :attr:`acks`, every controller frame in :attr:`host_frames`.
A pty does not throttle to the baud rate, so with ``pace=True`` writes are timed to the wire rate
(10 bits per byte) to make benchmarks honest. Threads: ``keypad-sim-rx`` reads the master side,
``keypad-sim-tx`` answers re-polls and ballot announcements; both stop on :meth:`stop`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import random
import select
import termios
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

from congress.keypads import protocol as p
from congress.keypads.framing import FrameParser, RawFrame
from congress.keypads.keystore import KeyStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SentFrame:
    kind: str  # "vote", "status", "hello", "raw"
    keypad_id: int | None
    counter: int | None
    ballot_no: int | None
    choices: frozenset[int] | None
    nbytes: int


def seeded_plan(seed: int, keypad_ids, *, n_options: int = 3, max_choices: int = 1,
                overvote_rate: float = 0.0) -> dict[int, frozenset[int]]:
    """Deterministic choices for each keypad: one of ``n_options`` for a motion (max_choices=1), or
    up to ``max_choices`` candidates for an election (sometimes one too many, at ``overvote_rate``)."""
    rng = random.Random(seed)
    plan = {}
    for kid in keypad_ids:
        if max_choices == 1 and rng.random() >= overvote_rate:
            plan[kid] = frozenset({rng.randint(1, n_options)})
            continue
        k = max_choices + 1 if rng.random() < overvote_rate else rng.randint(0, max_choices)
        plan[kid] = frozenset(rng.sample(range(1, n_options + 1), min(k, n_options)))
    return plan


def _baud_constant(baud: int) -> int:
    const = getattr(termios, f"B{baud}", None)
    if const is None:
        raise ValueError(f"baud rate {baud} is not a standard rate")
    return const


class BaseStationSimulator:
    """See the module docstring. ``counters`` continues keypad counters from an earlier run;
    ``device`` plays the base station on a real serial port instead of a pty."""

    def __init__(self, keys: KeyStore, *, baud: int = 115200, pace: bool = False,
                 link: str | os.PathLike | None = None, seed: int = 0, auto_vote: bool = False,
                 counters: dict[int, int] | None = None, firmware: str = "congress-sim/1",
                 device: str | None = None) -> None:
        self.keys = keys
        self.baud = baud
        self.pace = pace
        self.link = Path(link) if link else None
        self.device = device  # a real serial port (e.g. a USB adapter cabled to the controller's)
        self.seed = seed
        self.auto_vote = auto_vote
        self.firmware = firmware
        self.counters: dict[int, int] = dict(counters or {})
        self.current_votes: dict[tuple[int, int], frozenset[int]] = {}
        self.sent: list[SentFrame] = []
        self.acks: dict[tuple[int, int], p.Ack] = {}
        self.host_frames: list[object] = []
        self.bad_acks: list[str] = []
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_path: str | None = None
        self._wlock = threading.Lock()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._jobs: queue.Queue = queue.Queue()
        self._free_at = 0.0
        self._threads: list[threading.Thread] = []

    # -- line ---------------------------------------------------------------------------------------
    @property
    def port(self) -> str:
        """What the reader should open: the stable link if there is one, else the slave path."""
        return str(self.link) if self.link else str(self.slave_path)

    def _open_device(self) -> None:
        fd = os.open(self.device, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[4] = attrs[5] = _baud_constant(self.baud)
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        self._master, self._slave, self.slave_path = fd, None, self.device

    def _open_pty(self) -> None:
        if self.device:
            self._open_device()
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = _baud_constant(self.baud)
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self._master, self._slave, self.slave_path = master, slave, os.ttyname(slave)
        if self.link:
            tmp = self.link.with_name(f".{self.link.name}.new")
            tmp.unlink(missing_ok=True)
            os.symlink(self.slave_path, tmp)
            os.replace(tmp, self.link)

    def start(self) -> BaseStationSimulator:
        self._open_pty()
        for name, target in (("keypad-sim-rx", self._rx_loop), ("keypad-sim-tx", self._tx_loop)):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def unplug(self) -> None:
        """Pull the cable: the pty disappears (reader sees EIO) and the link is removed."""
        with self._wlock:
            if self.link:
                self.link.unlink(missing_ok=True)
            for fd in (self._master, self._slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = None

    def replug(self) -> None:
        with self._wlock:
            self._open_pty()

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        for t in self._threads:
            t.join(timeout=5)
        self.unplug()

    def __enter__(self) -> BaseStationSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- sending ------------------------------------------------------------------------------------
    def write(self, data: bytes, record: SentFrame | None = None) -> None:
        """Write bytes to the line, paced to the baud rate when ``pace`` is set."""
        with self._wlock:
            if self._master is None:
                raise OSError("base station unplugged")
            if self.pace:
                # The line's schedule: byte k of a burst may not arrive before t0 + 10k/baud. When
                # this thread wakes late it catches up, but never gets ahead of the wire.
                now = time.monotonic()
                if now - self._free_at > 0.05:  # the line was idle: a new burst starts now
                    self._free_at = now
                due = self._free_at + len(data) * 10 / self.baud
                if due > now:
                    time.sleep(due - now)
                self._free_at = due
            view = memoryview(data)
            while view:
                view = view[os.write(self._master, view):]
            self.sent.append(record or SentFrame("raw", None, None, None, None, len(data)))

    def next_counter(self, kid: int) -> int:
        c = self.counters.get(kid, 0) + 1
        self.counters[kid] = c
        return c

    def vote(self, kid: int, ballot_no: int, choices) -> int:
        """Keypad ``kid`` presses ``choices`` in ballot ``ballot_no``; returns the frame counter."""
        choices = frozenset(choices)
        ctr = self.next_counter(kid)
        frame = p.encode_vote(self.keys.sealer(kid), kid, ctr, ballot_no, choices)
        self.current_votes[(kid, ballot_no)] = choices
        self.write(frame, SentFrame("vote", kid, ctr, ballot_no, choices, len(frame)))
        return ctr

    def status(self, kid: int, battery: int, rssi: int) -> int:
        ctr = self.next_counter(kid)
        frame = p.encode_status(self.keys.sealer(kid), kid, ctr, battery, rssi)
        self.write(frame, SentFrame("status", kid, ctr, None, None, len(frame)))
        return ctr

    def hello(self) -> None:
        frame = p.encode_hello(self.keys.base_id, self.firmware)
        self.write(frame, SentFrame("hello", None, None, None, None, len(frame)))

    def run_plan(self, ballot_no: int, plan: dict[int, frozenset[int]]) -> int:
        """Send every vote of ``plan`` in keypad order; returns the number of bytes sent."""
        total = 0
        for kid in sorted(plan):
            ctr = self.vote(kid, ballot_no, plan[kid])
            # not sent[-1]: the simulator may answer a hello request in between (the line reopened)
            total += next(f.nbytes for f in reversed(self.sent)
                          if f.kind == "vote" and f.keypad_id == kid and f.counter == ctr)
        return total

    # -- receiving ----------------------------------------------------------------------------------
    def wait_acks(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` acknowledgements came back."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.acks) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def wait_host_frames(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.host_frames) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _rx_loop(self) -> None:
        parser = FrameParser()
        while not self._stop.is_set():
            fd = self._master
            if fd is None:
                self._stop.wait(0.05)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
                data = os.read(fd, 4096) if ready else b""
            except OSError:  # unplugged meanwhile, or no reader has the slave open yet
                self._stop.wait(0.05)
                continue
            for item in parser.feed(data):
                if isinstance(item, RawFrame):
                    self._on_frame(item)

    def _on_frame(self, raw: RawFrame) -> None:
        from congress.errors import ProtocolError

        try:
            if raw.type == p.FrameType.ACK:
                ack = p.decode_ack(raw, self.keys.sealer)
                with self._cond:
                    self.acks[(ack.keypad_id, ack.counter)] = ack
                    self._cond.notify_all()
                return
            msg = p.decode_host_frame(raw)
        except ProtocolError as exc:
            self.bad_acks.append(f"{exc.reason}: {exc}")
            return
        with self._cond:
            self.host_frames.append(msg)
            self._cond.notify_all()
        self._jobs.put(msg if msg is not None else "hello")

    def _tx_loop(self) -> None:
        while not self._stop.is_set():
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._do(job)
            except OSError as exc:
                log.warning("base station simulator: cannot answer %s: %s", type(job).__name__, exc)

    def _do(self, job) -> None:
        if job == "hello":
            self.hello()
        elif isinstance(job, p.Repoll):
            for kid in job.keypad_ids:
                if kid not in self.keys:
                    continue
                prev = self.current_votes.get((kid, job.ballot_no))
                if prev is not None:
                    self.vote(kid, job.ballot_no, prev)
                else:
                    self.status(kid, battery=80, rssi=-60)
        elif isinstance(job, p.BallotAnnounce) and job.state == p.BallotState.OPEN and self.auto_vote:
            plan = seeded_plan(self.seed * 100003 + job.ballot_no, self.keys.ids(),
                               n_options=job.n_options, max_choices=job.max_choices)
            self.run_plan(job.ballot_no, plan)

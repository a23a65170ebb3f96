"""Keypad reader: one thread that owns the base-station serial line.

``KeypadReader(port, keys, db, ballots)`` opens ``port`` with pyserial (``serial_for_url``: a
``/dev/ttyUSB*`` device, a pty, or any pyserial URL), asks the base station for its hello, then loops:
read whatever has arrived, cut it into frames, authenticate each one, and handle the whole batch in
ONE database transaction — keypad counter (replay protection), keypad health and the vote
(:meth:`controller.voting.ballots.Ballots.record_vote`). Only after that transaction commits (SQLite with
``synchronous=FULL``; PostgreSQL commits are durable) are the acknowledgements written back, each
with a short random receipt code the keypad shows. A replayed or older frame is rejected, also after
a restart, because the counter was on disk before the keypad ever saw its ack.

Every rejected frame is logged with its reason (``RejectReason``) and counted in :attr:`stats`;
choices are never logged. When the line fails (cable pulled: EIO, device gone) the reader closes it,
reports the bytes of a half-received frame as truncated, and retries opening every ``retry_s``
until the base station is back. Other threads send to the keypads through :meth:`send` (re-poll,
ballot announcements); the reader thread does the writing. Stop with :meth:`stop`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable

import serial
from sqlalchemy.exc import SQLAlchemyError

from congress.errors import ProtocolError
from congress.keypads import protocol as p
from congress.keypads.framing import FrameParser, RawFrame, Rejection, RejectReason
from congress.keypads.keystore import KeyStore
from controller.storage.database import Database, utcnow
from controller.voting.keypad_store import KeypadStore
from controller.voting.secret_tally import BallotKeyError

log = logging.getLogger(__name__)

IDLE_FLUSH_S = 0.3  # a partial frame older than this is reported truncated
READ_CHUNK = 65536


class _Writer:
    """A line that only writes, for :meth:`KeypadReader.relay`."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self.write = write


class KeypadReader:
    """See the module docstring. ``on_batch(ballot_ids)`` is called after each committed batch."""

    def __init__(self, port: str, keys: KeyStore, db: Database, ballots, *, baud: int = 115200,
                 retry_s: float = 0.5, on_batch: Callable[[set[int]], None] | None = None) -> None:
        self.port, self.baud, self.retry_s = port, baud, retry_s
        self.keys = keys
        # The process's one database; the controller's hides SQL parameters from every log line
        # (:func:`controller.app.open_database`), as these transactions carry a secret choice.
        self.db = db
        self.store = KeypadStore(db)
        self.ballots = ballots
        self.on_batch = on_batch
        self.stats: collections.Counter[str] = collections.Counter()
        self.base_hello: p.BaseHello | None = None
        self.connected = threading.Event()
        self._out: queue.Queue[bytes] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._batch = threading.Lock()  # one batch at a time: the line's and the site gateways' relays
        #: Also called with every frame :meth:`send` queues (ballots, re-polls): satellite sites' base
        #: stations get them through their gateways (:mod:`controller.sites.keypads`).
        self.mirrors: list[Callable[[bytes], None]] = []

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> KeypadReader:
        """Open the base station's line in the ``keypad-reader`` thread; an empty ``port`` means there
        is no base station here (only satellite sites relay keypad frames, see :meth:`relay`)."""
        if self.port:
            self._thread = threading.Thread(target=self._run, name="keypad-reader", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def send(self, frame: bytes) -> None:
        """Queue a frame for the base station (written by the reader thread, in order) and hand it to
        every mirror (the satellite sites' base stations)."""
        if self.port:
            self._out.put(frame)
        for mirror in self.mirrors:
            try:
                mirror(frame)
            except Exception:
                log.exception("a keypad frame could not be passed on to a site")

    def relay(self, frames: list[bytes], write: Callable[[bytes], None]) -> None:
        """Handle whole frames another base station sent (a satellite site's, relayed by its gateway)
        exactly as frames from this line: authenticated, committed in one transaction, and only then
        acknowledged, through ``write`` (back to that base station)."""
        parser = FrameParser()
        items = [item for f in frames for item in parser.feed(f)] + parser.flush()
        self.stats["relayed"] += len(frames)
        self._handle(items, _Writer(write))

    def repoll(self, ballot_no: int, keypad_ids) -> int:
        frames = p.encode_repoll(ballot_no, keypad_ids)
        for f in frames:
            self.send(f)
        return len(frames)

    def announce(self, ann: p.BallotAnnounce) -> None:
        self.send(p.encode_ballot(ann))

    def ingest(self, data: bytes, parser: FrameParser | None = None, *, flush: bool = True) -> None:
        """Process bytes without a serial line (no acks are written): tests and offline replays."""
        parser = parser or FrameParser()
        self._handle(parser.feed(data), None)
        if flush:
            self._handle(parser.flush(), None)

    # -- the loop -------------------------------------------------------------------------------------
    def _run(self) -> None:
        parser = FrameParser()
        down_logged = False
        while not self._stop.is_set():
            try:
                line = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0.1, write_timeout=2)
            except (serial.SerialException, OSError, ValueError) as exc:
                if not down_logged:
                    log.warning("keypad base station %s not available (%s); retrying", self.port, exc)
                    down_logged = True
                self._stop.wait(self.retry_s)
                continue
            down_logged = False
            log.info("keypad base station %s connected at %d baud", self.port, self.baud)
            self.stats["connects"] += 1
            try:
                line.write(p.encode_hello_request())
                self.connected.set()
                self._serve(line, parser)
            except (serial.SerialException, OSError) as exc:
                log.warning("keypad base station %s lost (%s); reconnecting", self.port, exc)
                self.stats["disconnects"] += 1
            except Exception:  # a bug must not silence the keypads: log it, reopen the line
                log.exception("keypad reader: unexpected error; reopening %s", self.port)
                self.stats["errors"] += 1
                self._stop.wait(self.retry_s)
            finally:
                self.connected.clear()
                self._handle(parser.flush(), None)
                with contextlib.suppress(serial.SerialException, OSError):
                    line.close()

    def _serve(self, line, parser: FrameParser) -> None:
        last_data = time.monotonic()
        while not self._stop.is_set():
            while True:
                try:
                    line.write(self._out.get_nowait())
                except queue.Empty:
                    break
            data = line.read(1)
            if data:
                waiting = line.in_waiting
                if waiting:
                    data += line.read(min(waiting, READ_CHUNK))
                last_data = time.monotonic()
                self.stats["bytes"] += len(data)
                self._handle(parser.feed(data), line)
            elif parser.pending and time.monotonic() - last_data > IDLE_FLUSH_S:
                self._handle(parser.flush(), line)

    # -- one batch ------------------------------------------------------------------------------------
    def _reject(self, reason: str, detail: str) -> None:
        self.stats[f"rejected.{reason}"] += 1
        log.warning("keypad frame rejected (%s): %s", reason, detail)

    def _handle(self, items: list[RawFrame | Rejection], line) -> None:
        with self._batch:
            self._handle_batch(items, line)

    def _handle_batch(self, items: list[RawFrame | Rejection], line) -> None:
        keyed: list[p.VoteFrame | p.StatusFrame] = []
        for item in items:
            if isinstance(item, Rejection):
                self._reject(item.reason, item.detail)
                continue
            try:
                msg = p.decode_base_frame(item, self.keys.sealer)
            except ProtocolError as exc:
                self._reject(exc.reason, str(exc))
                continue
            if isinstance(msg, p.BaseHello):
                self.base_hello = msg
                log.info("base station %d hello: firmware %r, protocol up to %d",
                         msg.base_id, msg.firmware, msg.max_version)
                continue
            keyed.append(msg)
        if not keyed:
            return
        try:
            acks, ballots = self._commit(keyed)
        except SQLAlchemyError as exc:
            # Nothing was stored, nothing is acknowledged: the keypads send again with a new counter.
            self.stats["db_errors"] += 1
            # Only the error class: the message of a failed statement would carry its parameters.
            log.error("keypad batch of %d frames not stored: database error %s; keypads will resend",
                      len(keyed), type(exc).__name__)
            return
        except BallotKeyError as exc:  # a secret ballot's tally key is gone: nothing stored, no ack
            self.stats["db_errors"] += 1
            log.error("keypad batch of %d frames not stored: %s", len(keyed), exc)
            return
        if line is not None:
            for kid, ctr, status in acks:
                line.write(p.encode_ack(self.keys.sealer(kid), kid, ctr, status, secrets.randbelow(10000)))
        if ballots:
            self.ballots.votes_committed(ballots)
            if self.on_batch:
                self.on_batch(ballots)

    def _commit(self, frames) -> tuple[list[tuple[int, int, p.AckStatus]], set[int]]:
        """Counters, health and votes of one batch in one transaction; returns the acks to send."""
        acks: list[tuple[int, int, p.AckStatus]] = []
        touched: set[int] = set()
        now = utcnow()
        with self.db.session() as s:
            states = self.store.load(s, {f.keypad_id for f in frames})
            votes: list[p.VoteFrame] = []
            for f in frames:
                st = states[f.keypad_id]
                if f.counter <= st.last_counter:
                    self._reject(RejectReason.REPLAY,
                                 f"keypad {f.keypad_id}: counter {f.counter} <= {st.last_counter}")
                    continue
                st.last_counter, st.last_seen = f.counter, now
                if self.base_hello:
                    st.base_id = self.base_hello.base_id
                if isinstance(f, p.StatusFrame):
                    st.battery_pct, st.rssi_dbm = f.battery_pct, f.rssi_dbm
                    acks.append((f.keypad_id, f.counter, p.AckStatus.STATUS_SEEN))
                    continue
                votes.append(f)
            for f, status in zip(votes, self.ballots.record_votes(s, votes), strict=True):
                self.stats[f"vote.{status.name.lower()}"] += 1
                touched.add(f.ballot_no)
                acks.append((f.keypad_id, f.counter, status))
        return acks, touched

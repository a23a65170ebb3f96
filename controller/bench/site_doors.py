"""The sites bench's door units, spread over a few worker processes (:class:`DoorPool`).

Each site has one door unit made of the door unit's own outbox and publisher
(:class:`congress.link.outbox.Outbox`, :class:`congress.link.publisher.Publisher`), connected over TLS
with the unit's certificate to its site's broker. A publisher is two threads (its own and paho's); two
hundred doors in one Python process would be four hundred threads behind one interpreter lock, and
their TLS handshakes at start-up would queue behind it until the brokers' CONNACKs time out, so the
bench would measure the lock, not the links. The pool therefore runs the doors in ``workers``
processes (started with ``spawn``: the bench process already has threads), each starting its doors a
few at a time (``batch``, each batch connected before the next), so a start-up is a trickle of
handshakes rather than a storm.

The bench drives the pool from one thread: :meth:`DoorPool.checkin` hands a delegate to a door (the
door signs and stores the check-in in its outbox, as a door does when it recognises someone, and
publishes it); :meth:`DoorPool.state` and :meth:`DoorPool.created` ask every worker what its doors
hold. Times are wall-clock (``time.time``), as the controller's ``stored_at`` is.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from congress.errors import CongressError

log = logging.getLogger(__name__)

#: Doors per worker process, at most (the pool starts ``ceil(doors / PER_WORKER)`` workers, up to 8).
PER_WORKER = 30
MAX_WORKERS = 8


@dataclass
class PoolState:
    """What the doors report: how many are connected to their site broker, what their outboxes hold."""

    doors: int = 0
    connected: int = 0
    depth: int = 0
    presence_resends: int = 0
    published: int = 0


@dataclass
class _Door:
    unit: str
    outbox: object
    publisher: object
    key: object
    created: dict[tuple[str, int], float] = field(default_factory=dict)


def _build_doors(ca_dir: Path, venue: str, entries: list[tuple[str, str, int]], folder: Path) -> list[_Door]:
    from congress import pki
    from congress.config.common import BrokerSection
    from congress.link.outbox import Outbox
    from congress.link.publisher import Publisher

    controller_key = pki.load_public_key(ca_dir / "controller-signing.pub")
    doors = []
    for unit, _site, port in entries:
        creds = pki.unit_credentials(ca_dir, unit)
        key = pki.load_signing_key(creds.signing_key)
        outbox = Outbox(folder / f"{unit}.db", 1_000_000)
        publisher = Publisher(
            broker=BrokerSection(host="localhost", port=port, ca_file=creds.ca_cert, cert_file=creds.cert,
                                 key_file=creds.key),
            venue_id=venue, unit_id=unit, signing_key=key, controller_key=controller_key, outbox=outbox,
            health=dict, software="bench", name=f"door-{unit}")
        doors.append(_Door(unit, outbox, publisher, key))
    return doors


def _start_doors(doors: list[_Door], batch: int, timeout: float) -> None:
    """Start the publishers ``batch`` at a time, each batch connected (or ``timeout`` spent) first."""
    for i in range(0, len(doors), batch):
        group = doors[i:i + batch]
        for d in group:
            d.publisher.start()
        deadline = time.monotonic() + timeout
        while not all(d.publisher.stats.connected for d in group) and time.monotonic() < deadline:
            time.sleep(0.05)


def _checkin(door: _Door, venue: str, delegate: str) -> None:
    from congress import wire

    def build(boot: str, seq: int) -> bytes:
        now = time.time()
        return wire.encode(wire.CheckIn(
            venue=venue, unit=door.unit, boot=boot, seq=seq, delegate_id=delegate,
            direction=wire.Direction.IN, method=wire.Method.BADGE, door="main",
            mono_ms=int(time.monotonic() * 1000), wall_time_ms=int(now * 1000), clock_synced=True), door.key)

    ev = door.outbox.add("checkin", build)
    door.created[(ev.boot_id, ev.seq)] = time.time()
    door.publisher.notify()


def _worker(conn, ca_dir: str, venue: str, entries: list[tuple[str, str, int]], folder: str, batch: int,
            connect_timeout: float) -> None:
    """One worker process: its doors, then commands from the bench until ``stop``."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(processName)s %(name)s: "
                        "%(message)s")
    doors = _build_doors(Path(ca_dir), venue, entries, Path(folder))
    try:
        _start_doors(doors, batch, connect_timeout)
        conn.send(("ready", sum(d.publisher.stats.connected for d in doors)))
        while True:
            msg = conn.recv()
            if msg[0] == "checkin":
                _checkin(doors[msg[1]], venue, msg[2])
            elif msg[0] == "state":
                conn.send(PoolState(
                    doors=len(doors), connected=sum(d.publisher.stats.connected for d in doors),
                    depth=sum(d.outbox.depth() for d in doors),
                    presence_resends=sum(d.publisher.stats.presence_resends for d in doors),
                    published=sum(d.publisher.stats.published for d in doors)))
            elif msg[0] == "created":
                conn.send({(d.unit, b, q): t for d in doors for (b, q), t in d.created.items()})
            elif msg[0] == "stop":
                break
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        for d in doors:
            d.publisher.stop()
            d.outbox.close()
        conn.close()


class DoorPool:
    """One door per ``(unit, site, site broker port)`` of ``entries``, in worker processes (see above)."""

    def __init__(self, ca_dir: Path, venue: str, entries: list[tuple[str, str, int]], folder: Path, *,
                 workers: int | None = None, batch: int = 4) -> None:
        self.entries = entries
        n = workers or min(MAX_WORKERS, max(1, math.ceil(len(entries) / PER_WORKER)))
        self.workers = max(1, min(n, len(entries)))
        folder.mkdir(parents=True, exist_ok=True)
        ctx = multiprocessing.get_context("spawn")
        # door i lives in worker i % workers, as its index there i // workers
        self._where = [(i % self.workers, i // self.workers) for i in range(len(entries))]
        self._conns, self._procs = [], []
        for w in range(self.workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker, name=f"bench-doors-{w + 1}", daemon=True, args=(
                theirs, str(ca_dir), venue, entries[w::self.workers], str(folder), batch, 30.0))
            self._conns.append(mine)
            self._procs.append(proc)
        self._lock = threading.Lock()

    def start(self, timeout: float) -> int:
        """Start the workers; return how many doors are connected once every worker has started its own."""
        for p in self._procs:
            p.start()
        deadline = time.monotonic() + timeout
        connected = 0
        for conn, proc in zip(self._conns, self._procs, strict=True):
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise CongressError(f"{proc.name} did not start its doors within {timeout:.0f} s")
            connected += self._recv(conn, proc)[1]
        return connected

    def _recv(self, conn, proc):
        try:
            return conn.recv()
        except (EOFError, OSError):
            raise CongressError(f"{proc.name} ended (exit code {proc.exitcode})") from None

    def _ask(self, what: str) -> list:
        with self._lock:
            for conn in self._conns:
                conn.send((what,))
            return [self._recv(conn, proc) for conn, proc in zip(self._conns, self._procs, strict=True)]

    def checkin(self, door: int, delegate: str) -> None:
        """Door ``door`` checks ``delegate`` in (signed, stored in its outbox, published)."""
        w, index = self._where[door]
        with self._lock:
            self._conns[w].send(("checkin", index, delegate))

    def state(self) -> PoolState:
        total = PoolState()
        for s in self._ask("state"):
            for name in ("doors", "connected", "depth", "presence_resends", "published"):
                setattr(total, name, getattr(total, name) + getattr(s, name))
        return total

    def created(self) -> dict[tuple[str, str, int], float]:
        """Every check-in the doors made: ``(unit, boot, seq)`` -> when it entered the outbox."""
        out: dict = {}
        for part in self._ask("created"):
            out.update(part)
        return out

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):  # a worker that has ended
                    conn.send(("stop",))
        for p in self._procs:
            if p.pid is None:
                continue
            p.join(20)
            if p.is_alive():
                p.kill()
                p.join()
        for conn in self._conns:
            conn.close()

"""``congress bench sites``: many satellite sites bridged to the central broker, links failing, brokers
killed, and every delegate's check-in stored once at the centre.

Everything is real and private to the run, on loopback: a venue CA with one identity per site and one
door unit per site; the central Mosquitto and one Mosquitto per site, each site bridged over TLS
(:class:`congress.bridge.BridgedVenue`) through its own link-fault proxy
(:class:`congress.linkfault.LinkFaults`, in a process of its own: :mod:`controller.bench.site_links`);
the controller ingest as its own process (``python -m controller.checkins.service``, SQLite by default,
PostgreSQL with ``database``); and at each site a door unit made of the door unit's own outbox and
publisher, connected to its site broker, the doors spread over a few worker processes and started a
few at a time (:mod:`controller.bench.site_doors`). Each delegate belongs to one site and checks in
once, at that site's door. The brokers' persistence and the doors' outboxes are on tmpfs when there is
one (each real site saves to its own card; hundreds saving to one shared disk would measure the disk),
and the open-file limit is raised to its hard limit first.

The run, in three phases:

1. **links up** — a third of the delegates check in at ``rate`` per second; ``p99_ms`` is from the door's
   outbox to the central commit for these;
2. **faults** — another third check in while links are stalled silently and reset, site brokers are
   killed -9 and restarted, and the central broker is killed -9 and restarted; then the run waits until
   every check-in so far is stored (``faults_stored`` = ``faults_sent``);
3. **central outage** — the central broker is killed -9 and kept down ``outage_s`` seconds while the
   last third check in at their sites; it is started again, and ``drain_s`` is the time until every
   check-in is stored (``drain_ack_s``: until every door's outbox is empty).

Result: ``sites``, ``delegates``, ``sent``, ``stored``, ``lost``, ``duplicates`` (check-ins stored
more than once: the unique key makes it 0; ``redelivered`` counts the copies the controller received
and acknowledged again), ``p50_ms``/``p99_ms``, ``drain_s``, ``drain_ack_s``, ``rss_mb`` (all brokers
together, at their peak; ``rss_central_mb``, ``rss_site_mb`` per site broker), the faults applied,
the phases' times, how long brokers, bridges and doors took to start (``start_s``), and the machine's
``load_avg`` (at the end; ``load_avg_start``) and ``cpus``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import resource
import shutil
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from congress import pki
from congress.bridge import BridgedVenue
from congress.errors import CongressError
from controller import audit
from controller.bench.checkins import IngestProcess, _scratch_postgres, _write_config
from controller.bench.site_doors import DoorPool
from controller.bench.site_links import LinkFaultsProcess
from controller.storage import migrate
from controller.storage.database import Database
from controller.storage.tables import CheckIn

log = logging.getLogger(__name__)
VENUE = "bench-venue"


def _raise_open_files() -> int:
    """Raise this process's open-file limit to its hard limit (the brokers inherit it); return it.

    The link-fault proxies hold two sockets per bridge, and the central broker one per site."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def _fast_dir(work: Path, stack: ExitStack) -> Path:
    """The brokers' persistence and the doors' outboxes: on tmpfs when there is one. Each real site
    broker and door writes its own SD card; two hundred of them saving to one shared disk would measure
    that disk. Both still save as in a venue (``autosave_on_changes``, ``synchronous=FULL``), and kill -9
    of a process loses nothing a tmpfs holds that a disk would keep."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return work
    path = Path(tempfile.mkdtemp(prefix="congress-bench-sites-", dir=shm))
    stack.callback(shutil.rmtree, path, True)
    return path


_CONNECTED = re.compile(rb"New (?:client|bridge) connected from \S+ as (\S+) ")


def _links_up(venue: BridgedVenue, site_ids: list[str]) -> int:
    """How many site bridges the central broker has seen connect since its last start (its log)."""
    try:
        text = venue.central.log_path.read_bytes()
    except OSError:
        return 0
    text = text[text.rfind(b" running"):]
    wanted = {s.encode() for s in site_ids}
    return len(wanted & set(_CONNECTED.findall(text)))


def _issue(ca_dir: Path, sites: list[str]) -> None:
    pki.init_ca(ca_dir, VENUE)
    pki.issue_broker(ca_dir, "localhost")
    pki.issue_client(ca_dir, "controller")
    for site in sites:
        pki.issue_site(ca_dir, site)
        pki.issue_unit(ca_dir, f"door-{site}", site=site)


class _Sampler(threading.Thread):
    """Samples the brokers' memory every few seconds (thread ``bench-rss``); keeps the peak."""

    def __init__(self, venue: BridgedVenue, every_s: float = 3.0) -> None:
        super().__init__(name="bench-rss", daemon=True)
        self.venue, self.every_s = venue, every_s
        self.peak_total_kb = self.peak_central_kb = self.peak_site_kb = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.every_s):
            self.sample()

    def sample(self) -> None:
        central = self.venue.central.rss_kb()
        sites = [b.rss_kb() for b in self.venue.sites.values()]
        self.peak_central_kb = max(self.peak_central_kb, central)
        self.peak_site_kb = max([self.peak_site_kb, *sites])
        self.peak_total_kb = max(self.peak_total_kb, central + sum(sites))


def _stored(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CheckIn)) or 0


def _wait_stored(db: Database, target: int, timeout: float, empty: DoorPool | None = None,
                 doors: DoorPool | None = None) -> float:
    """Seconds until ``target`` check-ins are stored (and, with ``empty``, every outbox is empty);
    a timeout says what ``doors`` still hold."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if _stored(db) >= target and (empty is None or empty.state().depth == 0):
            return time.monotonic() - t0
        time.sleep(0.2)
    held = ""
    if doors is not None:
        st = doors.state()
        held = f"; the doors' outboxes hold {st.depth}, {st.connected} of {st.doors} doors connected"
    raise CongressError(f"only {_stored(db)} of {target} check-ins stored after {timeout:.0f} s{held}")


def _pace(doors: DoorPool, delegates: list[tuple[int, str]], seconds: float,
          during=None) -> None:
    """Check ``delegates`` (door index, id) in evenly over ``seconds``; ``during(i)`` runs between."""
    t0 = time.monotonic()
    for i, (door, delegate) in enumerate(delegates):
        delay = t0 + i * seconds / max(len(delegates), 1) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        doors.checkin(door, delegate)
        if during is not None:
            during(i)


def run_sites_bench(
    sites: int,
    delegates: int,
    *,
    outage_s: float = 600.0,
    rate: float = 100.0,
    database: str | None = None,
    keepalive_s: int = 10,
    restart_s: tuple[int, int] = (2, 10),
    work_dir: Path | None = None,
    door_workers: int | None = None,
    progress=None,
) -> dict:
    """Run the bench (see the module docstring) and return the result dictionary."""
    if sites < 1 or delegates < sites:
        raise CongressError("--sites must be at least 1 and --delegates at least --sites")
    site_ids = [f"site-{i + 1:03d}" for i in range(sites)]
    load_start = round(os.getloadavg()[0], 2)
    say = progress or (lambda text: log.info("%s", text))
    # Hundreds of doors reconnecting and resending would flood the log: only their warnings.
    for name in ("edge.publisher", "congress.link.publisher"):
        logging.getLogger(name).setLevel(logging.WARNING)
    t_run = time.monotonic()
    nofile = _raise_open_files()
    with ExitStack() as stack:
        work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="congress-bench-sites-"))
        if work_dir is None:
            stack.callback(shutil.rmtree, work, True)
        fast = _fast_dir(work, stack) if work_dir is None else work  # a kept run keeps its logs too
        ca_dir = work / "ca"
        say(f"issuing {sites} site identities and door units")
        _issue(ca_dir, site_ids)
        faults = stack.enter_context(LinkFaultsProcess())
        venue = BridgedVenue(ca_dir, site_ids, work_dir=fast / "brokers", faults=faults,
                             keepalive_s=keepalive_s, restart_s=restart_s,
                             central_options={"autosave_interval_s": 30})
        say(f"starting the central broker and {sites} site brokers")
        t = time.monotonic()
        venue.start(workers=2)
        stack.callback(venue.close)
        start_s = {"brokers": round(time.monotonic() - t, 1)}
        url = f"sqlite:///{work}/bench.db" if not database else _scratch_postgres(database, stack)
        db = Database(url, info={audit.INFO_KEY: audit.load_key(work / "data")})
        stack.callback(db.dispose)
        migrate.upgrade(db)
        cfg = work / "controller.toml"
        _write_config(cfg, url=url, port=venue.central.port, ca_dir=ca_dir, data_dir=work / "data")
        ingest = IngestProcess(cfg, ca_dir, work / "ingest.log")
        ingest.start()
        stack.callback(ingest.stop)
        say(f"waiting for {sites} bridges to the central broker")
        t = time.monotonic()
        _wait(lambda: _links_up(venue, site_ids) == sites, 60 + sites, "every site's bridge connected")
        start_s["bridges"] = round(time.monotonic() - t, 1)
        doors = DoorPool(ca_dir, VENUE, [(f"door-{s}", s, venue.sites[s].port) for s in site_ids],
                         fast / "doors", workers=door_workers)
        stack.callback(doors.close)
        say(f"starting {sites} doors in {doors.workers} processes")
        t = time.monotonic()
        doors.start(timeout=120 + 2 * sites)
        _wait(lambda: doors.state().connected == sites, 120, "every door connected to its site broker")
        start_s["doors"] = round(time.monotonic() - t, 1)
        sampler = _Sampler(venue)
        sampler.start()
        stack.callback(sampler.stop_event.set)
        roster = [(i % sites, f"D{i + 1:05d}") for i in range(delegates)]
        third = math.ceil(delegates / 3)
        phase1, phase2, phase3 = roster[:third], roster[third:2 * third], roster[2 * third:]

        say(f"phase 1: {len(phase1)} check-ins at {rate:g}/s, links up")
        t = time.monotonic()
        _pace(doors, phase1, len(phase1) / rate)
        _wait_stored(db, len(phase1), 300, None, doors)
        steady_s = time.monotonic() - t

        say(f"phase 2: {len(phase2)} check-ins with link stalls, resets and kill -9 of brokers")
        t = time.monotonic()
        applied = _faults(venue, faults, site_ids, phase2, doors, rate, keepalive_s)
        faults_sent = len(phase1) + len(phase2)
        try:
            _wait_stored(db, faults_sent, 600, None, doors)
        except CongressError as exc:
            raise CongressError(f"{exc}; {_missing(db, doors.created(), applied['sites'])}") from None
        faults_stored = _stored(db)
        faults_s = time.monotonic() - t

        say(f"phase 3: central broker down {outage_s:g} s while {len(phase3)} delegates check in")
        venue.central.kill()
        _pace(doors, phase3, outage_s)
        sampler.sample()
        backlog = doors.state().depth
        venue.central.start()
        t = time.monotonic()
        drain_s = _wait_stored(db, delegates, 600 + delegates / 50, None, doors)
        drain_ack_s = _wait_stored(db, delegates, 600, doors, doors)
        sampler.sample()
        result = _measure(db, doors.created(), phase1)
        presence_resends = doors.state().presence_resends
        doors.close()
        ingest.stop()
        redelivered = _redelivered(work / "ingest.log")
    result.update({
        "sites": sites, "delegates": delegates, "backend": db.backend, "outage_s": outage_s, "rate": rate,
        "faults_sent": faults_sent, "faults_stored": faults_stored,
        "faults": {k: v for k, v in applied.items() if k != "sites"},
        "backlog_at_restart": backlog, "drain_s": round(drain_s, 1), "drain_ack_s": round(drain_ack_s, 1),
        "redelivered": redelivered, "steady_s": round(steady_s, 1), "faults_s": round(faults_s, 1),
        "rss_mb": round(sampler.peak_total_kb / 1024, 1),
        "rss_central_mb": round(sampler.peak_central_kb / 1024, 1),
        "rss_site_mb": round(sampler.peak_site_kb / 1024, 1),
        "presence_resends": presence_resends, "door_workers": doors.workers, "start_s": start_s,
        "open_files_limit": nofile,
        "seconds": round(time.monotonic() - t_run, 1),
        "load_avg": round(os.getloadavg()[0], 2), "load_avg_start": load_start, "cpus": os.cpu_count(),
    })
    return result


def _faults(venue: BridgedVenue, faults: LinkFaultsProcess, site_ids: list[str], phase: list,
            doors: DoorPool, rate: float,
            keepalive_s: int) -> dict:
    """Check ``phase`` in while failing links and brokers; every fault is undone before returning."""
    rng = np.random.default_rng(18)
    n = len(site_ids)
    picked = rng.permutation(n)
    k = max(1, round(n * 0.1))
    stalled = [site_ids[i] for i in picked[:k]]
    reset = [site_ids[i] for i in picked[k:2 * k]]
    killed = [site_ids[i] for i in picked[2 * k:2 * k + max(1, round(n * 0.05))]] if n > 2 else []
    applied = {"stalled": len(stalled), "reset": 0, "site_kills": len(killed), "central_kills": 1,
               "sites": {"stalled": stalled, "reset": reset, "killed": killed}}

    def resets() -> None:
        applied["reset"] += sum(faults.reset(s) for s in reset)

    m, two_s = len(phase), int(2 * rate)
    steps = sorted([  # (check-in index, action): applied in this order while the phase is paced
        (m // 10, lambda: [faults.stall(s) for s in stalled]),
        (m // 5, resets),
        (m // 4, lambda: [venue.sites[s].kill() for s in killed]),
        (min(m // 4 + two_s, m - 1), lambda: [venue.sites[s].start() for s in killed]),
        (m // 2, venue.central.kill),
        (min(m // 2 + two_s, m - 1), venue.central.start),
        (m * 3 // 5, resets),
    ], key=lambda step: step[0])
    seconds = m / rate
    stall_until = time.monotonic() + max(seconds * 0.8, 3 * keepalive_s)

    def during(i: int) -> None:
        while steps and steps[0][0] <= i:
            steps.pop(0)[1]()

    _pace(doors, phase, seconds, during)
    during(m)
    time.sleep(max(0.0, stall_until - time.monotonic()))
    for s in stalled:
        faults.resume(s)
    return applied


def _missing(db: Database, created: dict, faulted: dict[str, list[str]]) -> str:
    """Which check-ins are not stored, by the fault their site had (a failed run says where it hangs)."""
    with db.session() as s:
        stored = set(s.execute(select(CheckIn.unit_id, CheckIn.boot_id, CheckIn.seq)).all())
    of_site = {f"door-{site}": kind for kind, sites in faulted.items() for site in sites}
    missing: dict[str, int] = {}
    for key, _t in sorted(created.items(), key=lambda kv: kv[1]):
        if tuple(key) not in stored:
            kind = of_site.get(key[0], "no fault")
            missing[kind] = missing.get(kind, 0) + 1
    units = len({k[0] for k in created if tuple(k) not in stored})
    return f"missing by the fault of their site: {missing} (from {units} doors)"


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise CongressError(f"timed out waiting for {what}")


def _measure(db: Database, created: dict[tuple[str, str, int], float], phase1: list) -> dict:
    with db.session() as s:
        rows = s.execute(select(CheckIn.unit_id, CheckIn.boot_id, CheckIn.seq, CheckIn.stored_at)).all()
    keys = [(u, b, q) for u, b, q, _ in rows]
    found = set(keys) & set(created)
    first = sorted(created.items(), key=lambda kv: kv[1])[: len(phase1)]
    stored_at = {(u, b, q): st.timestamp() for u, b, q, st in rows}
    lat = np.array([max(0.0, stored_at[k] - t) * 1000 for k, t in first if k in stored_at])
    return {
        "sent": len(created),
        "stored": len(found),
        "lost": len(set(created) - found),
        "duplicates": len(keys) - len(set(keys)),
        "unexpected": len(set(keys) - set(created)),
        "p50_ms": round(float(np.percentile(lat, 50)), 1) if len(lat) else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 1) if len(lat) else None,
    }


def _redelivered(log_path: Path) -> int | None:
    """Copies the controller acknowledged again (its ``duplicates`` count, logged when it stops)."""
    try:
        found = re.findall(r"duplicates=(\d+)", log_path.read_text(errors="replace"))
    except OSError:
        return None
    return sum(int(x) for x in found) if found else None


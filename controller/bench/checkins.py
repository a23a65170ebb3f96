"""``congress bench checkins``: signed check-ins through a real broker into a real controller ingest.

Everything is real and private to the run: a fresh venue CA (:mod:`congress.pki`), a Mosquitto with TLS,
client certificates and the ACL (:class:`congress.broker.Mosquitto`), the controller ingest as its own
process (``python -m controller.checkins.service``) storing to SQLite (default) or to a scratch database
created on a PostgreSQL server (``--database``), and D simulated door units
(:class:`controller.bench.sim_door.SimDoor`, each with its own certificate and Ed25519 key, and the
door unit's own SQLite outbox and publisher) publishing N check-ins in total over QoS 1 and keeping
each in their outbox until the controller's signed ack.

``kill_controller_at`` / ``kill_broker_at`` kill -9 the ingest process / the broker once that many
check-ins are stored, and start it again; the result must still be 0 lost and 0 duplicated.

Result: ``sent``, ``stored``, ``lost``, ``duplicates``, ``per_s`` (stored per second from the first
publish to the last commit), ``p50_ms``/``p99_ms`` (publish to stored), ``p99_ack_ms`` (publish to ack
received), ``resent``, ``kills``, and the machine's ``load_avg`` (1 min) and ``cpus`` when the run ended
(a benchmark on a busy machine measures the machine).
"""

from __future__ import annotations

import logging
import os
import secrets
import select as io_select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from congress import pki
from congress.broker import Mosquitto
from congress.errors import CongressError
from controller import audit
from controller.bench.sim_door import SimDoor
from controller.storage import migrate
from controller.storage.database import Database
from controller.storage.tables import CheckIn

log = logging.getLogger(__name__)
VENUE = "bench-venue"


class IngestProcess:
    """The controller ingest as a child process that can be killed -9 and started again."""

    def __init__(self, config: Path, ca_dir: Path, log_path: Path, verify_workers: int | None = None) -> None:
        self.config, self.ca_dir, self.log_path = config, ca_dir, log_path
        self.verify_workers = verify_workers
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        cmd = [sys.executable, "-m", "controller.checkins.service", "--config", str(self.config),
               "--ca-dir", str(self.ca_dir), "--client-id", "controller"]
        if self.verify_workers is not None:
            cmd += ["--verify-workers", str(self.verify_workers)]
        with open(self.log_path, "ab") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        ready, _, _ = io_select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""  # "ready" once connected and subscribed
        if line.strip() != b"ready":
            self.kill9()
            raise CongressError("the controller ingest did not start:\n" + self.log_tail())

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self._close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _scratch_postgres(url: str, stack: ExitStack) -> str:
    """Create a scratch database on the server of ``url``; drop it when the run ends."""
    import psycopg

    u = make_url(url)
    name = f"congress_bench_{secrets.token_hex(4)}"
    admin = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return u.set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _write_config(path: Path, *, url: str, port: int, ca_dir: Path, data_dir: Path) -> None:
    client = ca_dir / "clients" / "controller"
    path.write_text(
        f'data_dir = "{data_dir}"\nca_dir = "{ca_dir}"\n[venue]\nid = "{VENUE}"\n[database]\nurl = "{url}"\n'
        f'[broker]\nhost = "localhost"\nport = {port}\nca_file = "{ca_dir / "ca.pem"}"\n'
        f'cert_file = "{client / "cert.pem"}"\nkey_file = "{client / "key.pem"}"\n'
    )


def run_bench(
    count: int,
    doors: int,
    *,
    rate: float | None = None,
    database: str | None = None,
    kill_controller_at: int | None = None,
    kill_broker_at: int | None = None,
    resend_s: float = 30.0,
    work_dir: Path | None = None,
    verify_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run the bench and return the result dictionary (see the module docstring)."""
    if count < 1 or doors < 1:
        raise CongressError("--count and --doors must be at least 1")
    with ExitStack() as stack:
        work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="congress-bench-"))
        if work_dir is None:
            stack.callback(shutil.rmtree, work, True)
        ca_dir = work / "ca"
        pki.init_ca(ca_dir, VENUE)
        pki.issue_client(ca_dir, "controller")
        units = [pki.issue_unit(ca_dir, f"door-{i + 1:02d}") for i in range(doors)]
        broker = Mosquitto.from_ca(ca_dir, work_dir=work / "broker").start()
        stack.callback(broker.close)
        url = f"sqlite:///{work}/bench.db" if not database else _scratch_postgres(database, stack)
        db = Database(url, info={audit.INFO_KEY: audit.load_key(work / "data")})
        stack.callback(db.dispose)
        migrate.upgrade(db)
        cfg = work / "controller.toml"
        _write_config(cfg, url=url, port=broker.port, ca_dir=ca_dir, data_dir=work / "data")
        ingest = IngestProcess(cfg, ca_dir, work / "ingest.log", verify_workers)
        ingest.start()
        stack.callback(ingest.stop)
        doors_dir = _doors_dir(stack)
        sims = [SimDoor(u, venue_id=VENUE, host="localhost", port=broker.port, resend_s=resend_s,
                        door=f"door-{i + 1}", outbox_dir=doors_dir) for i, u in enumerate(units)]
        for s in sims:
            s.start()
            stack.callback(s.stop)
        kills = _drive(db, sims, count, rate, ingest, broker, kill_controller_at, kill_broker_at, progress)
        result = _measure(db, sims)
        result.update({"doors": doors, "rate": rate, "backend": db.backend, "kills": kills,
                       "resent": sum(s.resent for s in sims),
                       "load_avg": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()})
        if result["lost"]:
            result["ingest_log_tail"] = ingest.log_tail()
        return result


def _doors_dir(stack: ExitStack) -> Path:
    """Where the simulated doors keep their outboxes: a tmpfs folder when there is one. Each real door
    writes its own SD card; twenty doors syncing one shared disk would measure that disk, not the
    controller. The outboxes are the door unit's own (SQLite, ``synchronous=FULL``) either way."""
    shm = Path("/dev/shm")
    path = Path(tempfile.mkdtemp(prefix="congress-bench-doors-", dir=shm if shm.is_dir() else None))
    stack.callback(shutil.rmtree, path, True)
    return path


def _stored(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CheckIn)) or 0


def _drive(db, sims, count, rate, ingest, broker, kill_controller_at, kill_broker_at, progress) -> list:
    """Publish ``count`` check-ins round-robin (at ``rate`` per second if given), apply the kills, and
    wait until every door's outbox is empty."""
    rng = np.random.default_rng(7)
    who = [f"D{int(x):05d}" for x in rng.integers(0, 5000, count)]
    kills: list[dict] = []
    pending_kills = sorted(
        [(k, "controller") for k in [kill_controller_at] if k]
        + [(k, "broker") for k in [kill_broker_at] if k]
    )
    last_poll = 0.0

    def maybe_kill() -> None:
        stored = _stored(db)
        while pending_kills and stored >= pending_kills[0][0]:
            _, what = pending_kills.pop(0)
            if what == "controller":
                ingest.kill9()
                kills.append({"what": what, "stored": stored})
                ingest.start()
            else:
                broker.kill()
                kills.append({"what": what, "stored": stored})
                broker.start()
        if progress:
            progress(stored, len(who))

    # Each real door signs on its own Pi; here one process would spend more time signing for twenty
    # doors than the ingest spends verifying, so the messages are signed before the clock starts.
    prepared = [(sims[i % len(sims)], *sims[i % len(sims)].prepare(d)) for i, d in enumerate(who)]
    t0 = time.monotonic()
    for i, (sim, seq, payload) in enumerate(prepared):
        if rate:
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sim.send(seq, payload)
        if pending_kills and time.monotonic() - last_poll > 0.05:
            last_poll = time.monotonic()
            maybe_kill()
    deadline = time.monotonic() + 120 + count / 200
    while time.monotonic() < deadline:
        if pending_kills or progress:
            maybe_kill()
        if not pending_kills and all(s.unacked == 0 for s in sims):
            break
        time.sleep(0.05)
    return kills


def _measure(db: Database, sims: list[SimDoor]) -> dict:
    sent = {(s.unit_id, s.boot, seq): t for s in sims for seq, t in s.sent_at.items()}
    with db.session() as s:
        rows = s.execute(select(CheckIn.unit_id, CheckIn.boot_id, CheckIn.seq, CheckIn.stored_at)).all()
    keys = [(u, b, q) for u, b, q, _ in rows]
    found = set(keys) & set(sent)
    latencies = np.array([max(0.0, st.timestamp() - sent[(u, b, q)]) for u, b, q, st in rows
                          if (u, b, q) in sent]) * 1000
    acks = np.array([(t - first) * 1000 for s in sims for _, first, t in s.acked.values() if first])
    first_pub = min(sent.values()) if sent else 0.0
    last_store = max((st.timestamp() for *_, st in rows), default=first_pub)
    span = max(last_store - first_pub, 1e-6)
    return {
        "sent": len(sent),
        "stored": len(found),
        "lost": len(set(sent) - found),
        "duplicates": len(keys) - len(set(keys)),
        "unexpected": len(set(keys) - set(sent)),
        "per_s": round(len(found) / span, 1),
        "seconds": round(span, 3),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1) if len(latencies) else None,
        "p99_ms": round(float(np.percentile(latencies, 99)), 1) if len(latencies) else None,
        "p99_ack_ms": round(float(np.percentile(acks, 99)), 1) if len(acks) else None,
        "unacked": sum(s.unacked for s in sims),
    }

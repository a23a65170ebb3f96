"""Live-feed benchmark: many pages following ``/events`` on the real cheroot server.

:func:`run` starts a controller (no ingest) on a scratch SQLite database in a temporary directory,
logs one observer in over HTTP with the production Argon2 cost, opens ``clients`` event streams
(threads ``live-reader-N``), publishes ``events`` events on the bus at ``rate`` per second, and
measures for every event and stream the time from ``publish`` to the line arriving at the client.
Wired to ``congress controller bench-live``; numbers are recorded in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import http.client
import re
import tempfile
import threading
import time
from pathlib import Path

from congress.broker import free_port
from congress.config import parse_config
from congress.config.controller import ControllerConfig
from controller.accounts.auth import make_hasher
from controller.app import open_database
from controller.live import EventKind
from controller.storage import migrate
from controller.storage.tables import Role, User

PASSWORD = "bench password 1"


def _login(port: int) -> tuple[str, float]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", "/login")
        r = c.getresponse()
        html = r.read().decode()
        pre = re.search(r"congress_pre=([^;]+)", r.getheader("Set-Cookie", "")).group(1)
        token = re.search(r'csrf-token" content="([^"]+)', html).group(1)
        t0 = time.perf_counter()
        c.request(
            "POST",
            "/login",
            body=f"csrf_token={token}&name=bench&password={PASSWORD.replace(' ', '+')}",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"congress_pre={pre}"},
        )
        r = c.getresponse()
        r.read()
        took = time.perf_counter() - t0
        return re.search(r"congress_session=([^;]+)", r.getheader("Set-Cookie", "")).group(1), took
    finally:
        c.close()


def _pct(values: list[float], q: float) -> float:
    return round(1000 * values[min(len(values) - 1, int(len(values) * q))], 2) if values else 0.0


def run(clients: int = 48, events: int = 200, rate: float = 100.0) -> dict:
    """Run the benchmark; return ``clients, events, delivered, expected, lost, p50_ms, p99_ms, login_ms``."""
    from controller.server import ControllerServer

    with tempfile.TemporaryDirectory(prefix="congress-bench-live-") as tmp:
        port = free_port()
        cfg = parse_config(
            {
                "venue": {"id": "bench"},
                "database": {"url": f"sqlite:///{tmp}/bench.db"},
                "broker": {"ca_file": "unused", "cert_file": "unused", "key_file": "unused"},
                "data_dir": str(Path(tmp) / "data"),
                "web": {"port": port, "threads": clients + 16, "max_live_clients": clients},
                "security": {"secure_cookies": False},
            },
            ControllerConfig,
        )
        db = open_database(cfg)
        migrate.upgrade(db)
        with db.session() as s:
            s.add(User(name="bench", role=Role.OBSERVER, password_hash=make_hasher().hash(PASSWORD)))
        db.dispose()
        server = ControllerServer(cfg, with_ingest=False).start()
        try:
            cookie, login_s = _login(port)
            latencies: list[float] = []
            lock = threading.Lock()
            ready = threading.Barrier(clients + 1, timeout=60)

            def reader() -> None:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("GET", "/events", headers={"Cookie": f"congress_session={cookie}"})
                r = c.getresponse()
                r.fp.readline()
                ready.wait()
                seen = 0
                try:
                    while seen < events:
                        line = r.fp.readline()
                        if not line:
                            break
                        if line.startswith(b'data: {"t":'):
                            sent = float(line[len(b'data: {"t":') :].split(b"}")[0])
                            with lock:
                                latencies.append(time.perf_counter() - sent)
                            seen += 1
                except TimeoutError:
                    pass
                finally:
                    c.close()

            threads = [
                threading.Thread(target=reader, name=f"live-reader-{i}", daemon=True) for i in range(clients)
            ]
            for t in threads:
                t.start()
            ready.wait()
            for _ in range(events):
                server.bus.publish(EventKind.BENCH, {"t": time.perf_counter()})
                time.sleep(1.0 / rate)
            for t in threads:
                t.join(60)
        finally:
            server.stop()
    latencies.sort()
    expected = clients * events
    return {
        "clients": clients,
        "events": events,
        "expected": expected,
        "delivered": len(latencies),
        "lost": expected - len(latencies),
        "p50_ms": _pct(latencies, 0.50),
        "p99_ms": _pct(latencies, 0.99),
        "login_ms": round(1000 * login_s, 1),
    }

"""``congress bench portal``: a notice reaches 2,000 signed-in delegates while staff pages are used.

What runs, all on loopback:

1. a scratch venue: CA, server certificate for 127.0.0.1, controller signing key, a migrated SQLite
   database with ``--delegates`` delegates and one staff account (production Argon2 cost);
2. the real controller (:class:`controller.server.ControllerServer`): the staff page on cheroot and
   the tablet front (:mod:`controller.front`) on its own port, both TLS;
3. every delegate signed in to the portal: one open portal session each (the rows a sign-in writes,
   inserted at once: 2,000 PIN checks at the production Argon2 cost would take minutes and are not
   what is measured); ``--badges`` uses signed badge tokens instead;
4. the tablets: :mod:`controller.bench.portal_clients` in ``--client-procs`` processes, every tablet
   its own TLS connection to ``/p/events`` with its session cookie, all opened at once; the
   benchmark waits until the front holds every stream;
5. a staff browser (its own process, logged in) asks the staff page for the dashboard, the summary
   and devices JSON and the documents page, one after the other, before, during and after delivery;
6. one notice to everyone is sent with the portal's notice service (``Notices.send``: the 2,000
   recipient rows stored, then one live event), as the staff page sends it; each tablet records
   when it arrived (wall clock, one machine), and ``p50_ms``/``p99_ms`` count from the moment the
   send began (``publish_ms`` is the send itself).

JSON: ``clients`` (streams held), ``delivered``, ``p50_ms``, ``p99_ms`` (publish to arrival),
``staff_p99_ms`` (staff answers while the notice was being delivered, and ``staff_requests``),
``rss_mb`` and ``threads`` (controller process peak), ``connect_s`` (all streams open), plus the
load generator's CPU time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from controller.bench.documents import _PeakRss


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1) if ordered else 0.0


def _login(port: int, ca: Path, name: str, password: str) -> str:
    import http.client
    import re
    import ssl

    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.check_hostname = False
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    try:
        c.request("GET", "/login")
        r = c.getresponse()
        html = r.read().decode()
        pre = re.search(r"congress_pre=([^;]+)", r.getheader("Set-Cookie", "")).group(1)
        token = re.search(r'csrf-token" content="([^"]+)', html).group(1)
        c.request(
            "POST",
            "/login",
            body=f"csrf_token={token}&name={name}&password={password.replace(' ', '+')}",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"congress_pre={pre}"},
        )
        r = c.getresponse()
        r.read()
        return re.search(r"congress_session=([^;]+)", r.getheader("Set-Cookie", "")).group(1)
    finally:
        c.close()


def _sign_in_all(db, ids: list[str]) -> list[str]:
    """One open portal session per delegate, as a sign-in stores it (the sha-256 of the cookie
    token); the cookie tokens."""
    import hashlib
    import secrets

    from sqlalchemy import insert

    from controller.portal.tables import PortalSession
    from controller.storage.database import utcnow

    now, tokens, rows = utcnow(), [], []
    for d in ids:
        token = secrets.token_urlsafe(32)
        tokens.append(token)
        rows.append({"id": hashlib.sha256(token.encode()).hexdigest(), "public_id": secrets.token_hex(8),
                     "delegate_id": d, "csrf_token": secrets.token_urlsafe(32), "user_agent": "bench",
                     "ip": "127.0.0.1", "created_at": now, "last_seen": now})
    with db.session() as s:
        s.execute(insert(PortalSession), rows)
    return tokens


def run(*, delegates: int = 2000, client_procs: int = 2, threads: int = 64, badges: bool = False) -> dict:
    from sqlalchemy import insert

    from congress import badge_token, pki
    from congress.config import parse_config
    from congress.config.controller import ControllerConfig
    from controller.accounts.auth import make_hasher
    from controller.app import open_database
    from controller.documents.static_server import _free_port
    from controller.server import ControllerServer
    from controller.storage import migrate
    from controller.storage.tables import Delegate, Role, User

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        work = Path(tmp)
        ca_dir = work / "ca"
        pki.init_ca(ca_dir, "bench-venue")
        cert, key = pki.issue_broker(ca_dir, "127.0.0.1")
        cfg = parse_config(
            {
                "venue": {"id": "bench-venue", "name": "Đại hội (benchmark)"},
                "broker": {"ca_file": str(ca_dir / "ca.pem"), "cert_file": str(cert), "key_file": str(key)},
                "database": {"url": f"sqlite:///{work / 'controller.db'}"},
                "web": {"host": "127.0.0.1", "port": _free_port(), "tls_cert": str(cert),
                        "tls_key": str(key), "threads": threads, "max_live_clients": 8},
                "portal": {"enabled": True, "host": "127.0.0.1", "port": _free_port(),
                           "per_address": 100_000, "handshake_s": 60, "header_s": 60},
                "data_dir": str(work / "data"),
                "ca_dir": str(ca_dir),
            },
            ControllerConfig,
        )
        db = open_database(cfg)
        migrate.upgrade(db)
        ids = [f"D-{i:04d}" for i in range(1, delegates + 1)]
        password = "bench staff password"
        with db.session() as s:
            s.execute(insert(Delegate), [
                {"id": d, "name": f"Nguyễn Văn Đại Biểu {i}", "delegation": "Đoàn 1", "consent": False,
                 "summoned": True} for i, d in enumerate(ids, 1)
            ])
            s.add(User(name="bench-chair", role=Role.ADMIN, password_hash=make_hasher().hash(password)))
        if badges:
            signing = pki.load_signing_key(ca_dir / "controller-signing.key")
            headers = [{"Authorization": f"Badge {badge_token.issue(signing, 'bench-venue', d)}"}
                       for d in ids]
        else:
            headers = [{"Cookie": f"congress_portal={t}"} for t in _sign_in_all(db, ids)]
        db.dispose()

        server = ControllerServer(cfg, with_ingest=False).start()
        peak = _PeakRss()
        peak.start()
        mark = f"bench-{time.time_ns()}"
        procs, staff = [], None
        try:
            cookie = _login(server.port, ca_dir / "ca.pem", "bench-chair", password)
            t_connect = time.perf_counter()
            for i in range(client_procs):
                job = work / f"tablets-{i}.json"
                url = f"{server.front.url}/p/events"
                job.write_text(json.dumps({"ca": str(ca_dir / "ca.pem"), "url": url,
                                           "headers": headers[i::client_procs], "mark": mark}))
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "controller.bench.portal_clients", "tablets", str(job)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            hub = server.front.hub
            deadline = time.monotonic() + 300
            while len(hub.clients) < delegates and time.monotonic() < deadline:
                if any(p.poll() is not None for p in procs):
                    break
                time.sleep(0.2)
            connect_s = time.perf_counter() - t_connect
            clients = len(hub.clients)
            job = work / "staff.json"
            job.write_text(json.dumps({"ca": str(ca_dir / "ca.pem"), "port": server.port, "cookie": cookie}))
            staff = subprocess.Popen(
                [sys.executable, "-m", "controller.bench.portal_clients", "staff", str(job)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            staff.stderr.readline()  # "ready"
            time.sleep(1.0)  # the staff browser's first answers are the quiet baseline
            sent_at = time.time()
            server.services.portal.notices.send(mark, "Thông báo: phiên chiều bắt đầu lúc 14:00",
                                                actor="user:bench-chair")
            publish_s = time.time() - sent_at
            results = []
            for p in procs:
                out, err = p.communicate(timeout=600)
                if p.returncode != 0:
                    raise RuntimeError(f"portal clients failed: {err[-800:]}")
                results.append(json.loads(out))
            delivered_at = time.time()
            out, err = staff.communicate(input="", timeout=120)
            staff_result = json.loads(out)
        finally:
            for p in [*procs, *([staff] if staff else [])]:
                if p.poll() is None:
                    p.kill()
            peak.stop.set()
            peak.join()
            server.stop()
    latencies = [x - sent_at for r in results for x in r["arrivals"]]
    # staff answers that overlapped the delivery window (from the publish to the last arrival)
    staff_times = staff_result["times"]
    during = _staff_during(staff_times, sent_at, delivered_at, staff_result)
    return {
        "clients": clients,
        "delivered": len(latencies),
        "p50_ms": _pct(latencies, 0.5),
        "p99_ms": _pct(latencies, 0.99),
        "max_ms": _pct(latencies, 1.0),
        "staff_p99_ms": _pct(during, 0.99),
        "staff_p50_ms": _pct(during, 0.5),
        "staff_requests": len(during),
        "staff_p99_ms_all": _pct(staff_times, 0.99),
        "rss_mb": round(peak.peak, 1),
        "threads": peak.threads,
        "connect_s": round(connect_s, 1),
        "errors": [e for r in results for e in r["errors"]][:5] + staff_result["errors"],
        "client_cpu_s": round(sum(r["client_cpu_s"] for r in results), 1),
        "publish_ms": round(1000 * publish_s, 1),
        "notice_via": "the portal's notice service (Notices.send: recipients stored, then one live event)",
        "signed_in_with": "badge token" if badges else "portal session",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def _staff_during(times: list[float], start: float, end: float, result: dict) -> list[float]:
    """The staff answers that overlapped the delivery (from the publish to the last arrival)."""
    return [t for t, e in zip(times, result["ends"], strict=True) if e >= start and e - t <= end]

"""Slow clients against the real page (``congress bench slow-clients``): is the page still usable?

:class:`SlowClients` opens N TLS connections to the page and trickles one header line every few
seconds on each, never finishing a request (slowloris); :func:`page_loads` logs a member of staff in
and loads the dashboard meanwhile, timing each load. :func:`run_bench` starts a controller of its own
(SQLite, a self-signed certificate, ``[web] threads`` as given) and does both.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import socket
import ssl
import statistics
import tempfile
import threading
import time
from pathlib import Path


def _client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the bench's own self-signed page
    return ctx


class SlowClients:
    """``count`` connections that each send a request line and then one header line every
    ``interval`` seconds, forever; one the server closes is opened again (``reconnect``), as an
    attacker would. :attr:`open` is how many are open now."""

    def __init__(self, host: str, port: int, count: int, *, interval: float = 5.0, tls: bool = True,
                 source: str | None = None, reconnect: bool = True) -> None:
        self.host, self.port, self.count, self.interval, self.tls = host, port, count, interval, tls
        self.reconnect = reconnect
        self.source = source
        self.socks: list[socket.socket] = []
        self.closed_by_server = 0
        self.refused = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _connect(self) -> socket.socket | None:
        try:
            raw = socket.create_connection((self.host, self.port), timeout=10,
                                           source_address=(self.source, 0) if self.source else None)
            sock = _client_context().wrap_socket(raw) if self.tls else raw
            sock.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\n")
            sock.setblocking(False)
            return sock
        except OSError:
            self.refused += 1
            return None

    def start(self) -> SlowClients:
        for _ in range(self.count):
            sock = self._connect()
            if sock is not None:
                self.socks.append(sock)
        self._thread = threading.Thread(target=self._trickle, name="slow-clients", daemon=True)
        self._thread.start()
        return self

    @property
    def open(self) -> int:
        return len(self.socks)

    def _trickle(self) -> None:
        n = 0
        while not self._stop.wait(self.interval):
            n += 1
            for sock in list(self.socks):
                try:
                    sock.sendall(f"X-Slow-{n}: {'a' * 8}\r\n".encode())
                    if self._server_closed(sock):
                        raise ConnectionResetError
                except (OSError, ValueError):
                    self.closed_by_server += 1
                    self.socks.remove(sock)
                    sock.close()
            while self.reconnect and len(self.socks) < self.count and not self._stop.is_set():
                sock = self._connect()
                if sock is None:
                    break
                self.socks.append(sock)

    @staticmethod
    def _server_closed(sock: socket.socket) -> bool:
        try:
            sock.recv(4096)  # b"" (closed) or a 408: the server cut the request either way
            return True
        except (ssl.SSLWantReadError, BlockingIOError):
            return False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        for sock in self.socks:
            sock.close()
        self.socks.clear()


def _requester(host: str, port: int, timeout: float):
    """``request(method, path, body, headers)`` on a fresh TLS connection each time (as a browser's first
    visit): the status, the headers and the body."""
    ctx = _client_context()

    def request(method: str, path: str, body: str = "", headers: dict | None = None):
        c = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
        try:
            c.request(method, path, body=body or None, headers=headers or {})
            r = c.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            c.close()

    return request


def log_in(host: str, port: int, name: str, password: str, *, timeout: float = 30.0) -> str:
    """Log ``name`` in on the TLS page; the ``Cookie`` header value of the new session."""
    request = _requester(host, port, timeout)

    _, headers, html = request("GET", "/login", headers={"Accept": "text/html"})
    cookies = "; ".join(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    token = re.search(rb'name="csrf-token" content="([^"]+)"', html).group(1).decode()
    from urllib.parse import urlencode

    status, headers, _ = request("POST", "/login", urlencode({"csrf_token": token, "name": name,
                                                             "password": password}),
                                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies})
    if status != 302:
        raise RuntimeError(f"login failed with HTTP {status}")
    return "; ".join(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")


def page_loads(host: str, port: int, name: str, password: str, loads: int, *,
               timeout: float = 30.0, pause: float = 0.0) -> list[float]:
    """Log ``name`` in, then load the dashboard ``loads`` times on fresh connections (a browser's
    first visit: TLS handshake, request, response); the seconds each load took."""
    request = _requester(host, port, timeout)

    session = log_in(host, port, name, password, timeout=timeout)
    times = []
    for _ in range(loads):
        time.sleep(pause)
        t0 = time.perf_counter()
        status, _, _ = request("GET", "/", headers={"Accept": "text/html", "Cookie": session})
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"the dashboard answered HTTP {status}")
    return times


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (the bench's page only)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def run_bench(connections: int = 200, *, interval: float = 5.0, loads: int = 20, threads: int = 64,
              settle_s: float = 6.0) -> dict:
    """Start a controller, open ``connections`` slow clients, and time ``loads`` logged-in page loads."""
    import secrets

    from congress.config import parse_config
    from congress.config.controller import ControllerConfig
    from controller.accounts.auth import make_hasher
    from controller.app import open_database
    from controller.server import ControllerServer
    from controller.storage import migrate
    from controller.storage.tables import Role, User

    with tempfile.TemporaryDirectory(prefix="congress-slow-") as tmp:
        work = Path(tmp)
        cert, key = self_signed(work)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg = parse_config({
            "venue": {"id": "bench", "name": "Bench", "language": "en"},
            "broker": {"ca_file": "ca.pem", "cert_file": "c.pem", "key_file": "c.key"},
            "data_dir": str(work / "data"),
            "database": {"url": f"sqlite:///{work}/bench.db"},
            "web": {"host": "127.0.0.1", "port": port, "threads": threads, "max_live_clients": threads - 8,
                    "tls_cert": str(cert), "tls_key": str(key),
                    "max_pending_per_address": max(64, connections + 16),
                    "max_pending": max(512, connections + 64)},
        }, ControllerConfig)
        password = secrets.token_urlsafe(16)
        db = open_database(cfg)
        migrate.upgrade(db)
        with db.session() as s:
            s.add(User(name="bench", role=Role.ADMIN, password_hash=make_hasher().hash(password)))
        db.dispose()
        server = ControllerServer(cfg, with_ingest=False).start()
        slow = SlowClients("127.0.0.1", port, connections, interval=interval)
        try:
            t0 = time.perf_counter()
            slow.start()
            opened_s = time.perf_counter() - t0
            time.sleep(settle_s)  # let the first trickled lines arrive, as in the attack
            times = page_loads("127.0.0.1", port, "bench", password, loads, pause=1.0)
            still_open = slow.open
        finally:
            slow.stop()
            manager = getattr(server._server, "_connections", None)
            stats = dict(getattr(manager, "stats", {}))
            server.stop()
    return {
        "slow_connections": connections, "refused": slow.refused, "still_open": still_open,
        "cut_by_server": slow.closed_by_server,
        "open_s": round(opened_s, 2), "threads": threads, "loads": len(times),
        "p50_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
        "server": stats,
    }

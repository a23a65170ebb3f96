"""Slow clients do not take the real TLS page down (slowloris): a header deadline that bytes do not
reset, the TLS handshake under a deadline and outside the accept path, a cap per client address.

Real server (``ControllerServer`` with cheroot and TLS), real sockets. No timing assertion: the
page must answer at all (within a client timeout of 20 s) while the attack runs; the figures are in
docs/security.md (``congress bench slow-clients``).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time

import pytest

from controller.app import open_database
from controller.bench.slow_clients import SlowClients, log_in, page_loads, self_signed
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Role, User
from tests.controller.conftest import PASSWORD, controller_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def page(tmp_path, password_hash):
    """``page(**web)`` starts the real TLS page (16 threads) with ``[web]`` overrides."""
    servers = []

    def start(**web) -> ControllerServer:
        cert, key = self_signed(tmp_path)
        cfg = controller_config(
            tmp_path, database={"url": f"sqlite:///{tmp_path}/congress.db"},
            web={"host": "127.0.0.1", "port": free_port(), "threads": 16, "max_live_clients": 8,
                 "tls_cert": str(cert), "tls_key": str(key), **web})
        db = open_database(cfg)
        migrate.upgrade(db)
        with db.session() as s:
            s.add(User(name="admin", role=Role.ADMIN, password_hash=password_hash))
        db.dispose()
        server = ControllerServer(cfg, with_ingest=False).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _tls(port: int) -> ssl.SSLSocket:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20))


def test_the_page_answers_while_200_slow_connections_are_open(page):
    server = page(max_pending_per_address=256)
    slow = SlowClients("127.0.0.1", server.port, 200, interval=1.0).start()
    try:
        assert slow.open == 200  # 200 connections, each inside its request head, 16 server threads
        times = page_loads("127.0.0.1", server.port, "admin", PASSWORD, 3, timeout=20)
        assert len(times) == 3  # logged in and loaded the dashboard three times during the attack
        assert slow.open >= 150  # the attack was still on (a few may be in their reconnect)
    finally:
        slow.stop()


def test_a_request_head_has_a_deadline_that_bytes_do_not_reset(page):
    server = page(header_timeout_s=1)
    sock = _tls(server.port)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\n")
    answer = b""
    for i in range(100):  # a header line every 0.1 s: stock cheroot waits for ever
        try:
            sock.sendall(f"X-Slow-{i}: a\r\n".encode())
        except OSError:
            break
        sock.settimeout(0.1)
        try:
            answer = sock.recv(4096)
            break
        except TimeoutError:
            continue
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408") or answer == b"", answer
    assert i < 99, "the server never cut the request head"


def test_a_silent_tls_handshake_neither_stalls_accepting_nor_stays(page):
    server = page(handshake_timeout_s=1)
    silent = [socket.create_connection(("127.0.0.1", server.port), timeout=20) for _ in range(20)]
    try:
        # Stock cheroot shakes hands in its accept loop: 20 silent peers stall it 20 x 30 s.
        assert len(page_loads("127.0.0.1", server.port, "admin", PASSWORD, 1, timeout=20)) == 1
        for s in silent:
            s.settimeout(20)
            assert s.recv(1) == b""  # closed by the server at its handshake deadline
    finally:
        for s in silent:
            s.close()


def test_the_cap_per_address_closes_the_oldest_slow_connection(page):
    server = page(max_pending_per_address=8)
    slow = SlowClients("127.0.0.1", server.port, 20, interval=0.2, reconnect=False).start()
    try:
        deadline = time.monotonic() + 20
        while slow.open > 8 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert slow.open == 8 and slow.closed_by_server == 12
        assert len(page_loads("127.0.0.1", server.port, "admin", PASSWORD, 2, timeout=20)) == 2
    finally:
        slow.stop()


def test_keep_alive_and_large_bodies_still_work(page):
    server = page()
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=20, context=ctx)
    try:
        for _ in range(3):  # one connection, three requests: it waits in the loop between them
            c.request("GET", "/login", headers={"Accept": "text/html"})
            r = c.getresponse()
            assert r.status == 200 and r.read()
        body = "name=admin&password=x&pad=" + "a" * 200_000  # past the part read before a worker
        c.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        r.read()
        assert r.status == 400  # the form arrived whole and was judged (no CSRF token), not cut
    finally:
        c.close()


def _follow_live(port: int, session: str) -> tuple[ssl.SSLSocket, bytes]:
    """Open ``/events`` as a page does; the socket and the first bytes of the answer."""
    sock = _tls(port)
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: p\r\nAccept: text/event-stream\r\n"
                 f"Cookie: {session}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        part = sock.recv(4096)
        if not part:
            break
        head += part
    return sock, head


def test_pages_that_went_away_give_their_live_slots_to_new_ones(page):
    """A page closed without a word holds its live slot until a write to it fails; when the feed is
    full, the server writes to every follower at once, so a new page is not refused for the dead."""
    server = page()  # max_live_clients 8
    session = log_in("127.0.0.1", server.port, "admin", PASSWORD, timeout=20)
    gone = [_follow_live(server.port, session) for _ in range(8)]
    assert all(head.startswith(b"HTTP/1.1 200") for _, head in gone), [h[:40] for _, h in gone]
    for sock, _ in gone:  # eight pages closed (tab closed, navigated away): FIN, no word
        sock.close()
    sock, head = _follow_live(server.port, session)
    try:
        assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head, head[:200]
    finally:
        sock.close()

"""Connections to the front cost memory, not threads, and slow or greedy clients are cut off."""

from __future__ import annotations

import socket
import threading

from tests.front.conftest import make_front


def _closed(sock) -> bool:
    """Whether the server closed ``sock`` (read until EOF or reset; the socket's timeout bounds it)."""
    try:
        while sock.recv(4096):
            pass
        return True
    except (ConnectionError, OSError):
        return True


def test_a_handshake_never_started_and_headers_never_finished_are_cut_off(tmp_path, venue_ca, password_hash):
    f = make_front(tmp_path, venue_ca, password_hash, handshake_s=0.5, header_s=0.5)
    try:
        silent = socket.create_connection(("127.0.0.1", f.port), timeout=20)  # never says hello
        slowloris = f.raw()
        slowloris.settimeout(20)
        slowloris.sendall(b"GET /d HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never finishes
        assert _closed(silent) and _closed(slowloris)
        silent.close()
        slowloris.close()
        # an ordinary tablet is served meanwhile and afterwards
        assert f.get(f"/d/{f.refs['public']}/file")[0] == 200
    finally:
        f.server.stop()


def test_connections_per_address_are_capped(tmp_path, venue_ca, password_hash):
    f = make_front(tmp_path, venue_ca, password_hash, per_address=3)
    try:
        held = [f.raw() for _ in range(3)]
        cap = f.server.front.cap
        pause = threading.Event()
        for _ in range(200):
            if cap.connections == 3:
                break
            pause.wait(0.05)
        extra = f.raw()  # the handshake completes, then the connection is closed
        extra.settimeout(20)
        assert _closed(extra)
        extra.close()
        assert cap.refused >= 1
        for s in held:
            s.close()
        for _ in range(200):
            if cap.connections == 0:
                break
            pause.wait(0.05)
        assert f.get(f"/d/{f.refs['public']}/file")[0] == 200
    finally:
        f.server.stop()


def test_many_tablets_take_no_thread_each(front):
    before = threading.active_count()
    socks = [front.raw() for _ in range(60)]
    try:
        assert threading.active_count() < before + 10
        assert front.get(f"/d/{front.refs['public']}/file")[0] == 200
    finally:
        for s in socks:
            s.close()

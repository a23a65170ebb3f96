"""The link-fault proxy against a real TCP echo server: pass-through, reset, silent stall, refusal."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from congress.linkfault import LinkFaults, LinkState


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="echo", daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def faults():
    with LinkFaults() as lf:
        yield lf


def dial(port: int, timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def test_bytes_pass_both_ways_and_are_counted(echo, faults):
    link = faults.add("s1", "127.0.0.1", echo)
    with dial(link.port) as s:
        s.sendall(b"hello")
        assert s.recv(5) == b"hello"
    assert link.stats.connections == 1 and link.stats.bytes_up == 5 and link.stats.bytes_down == 5


def test_reset_sends_a_tcp_reset_and_new_connections_work(echo, faults):
    link = faults.add("s1", "127.0.0.1", echo)
    s = dial(link.port)
    s.sendall(b"a")
    assert s.recv(1) == b"a"
    assert faults.reset("s1") == 1
    with pytest.raises(ConnectionResetError):
        s.sendall(b"b")
        s.recv(1)  # the reset arrives at the first read or write after it
    s.close()
    with dial(link.port) as s2:
        s2.sendall(b"c")
        assert s2.recv(1) == b"c"


def test_stall_is_silent_and_resume_delivers_what_was_held(echo, faults):
    link = faults.add("s1", "127.0.0.1", echo)
    s = dial(link.port, timeout=0.5)
    s.sendall(b"x")
    assert s.recv(1) == b"x"
    faults.stall("s1")
    assert link.state is LinkState.STALLED
    s.sendall(b"held")
    with pytest.raises(TimeoutError):  # nothing comes back, and the connection is not closed either
        s.recv(4)
    late = dial(link.port, timeout=0.5)  # accepted, but not connected onward while stalled
    late.sendall(b"late")
    with pytest.raises(TimeoutError):
        late.recv(4)
    faults.resume("s1")
    s.settimeout(5)
    late.settimeout(5)
    assert s.recv(4) == b"held"
    assert late.recv(4) == b"late"
    s.close()
    late.close()


def test_refuse_resets_open_and_new_connections(echo, faults):
    link = faults.add("s1", "127.0.0.1", echo)
    s = dial(link.port)
    faults.refuse("s1")
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        s.sendall(b"b")
        if not s.recv(1):
            raise ConnectionResetError
    s.close()
    # the reset comes at connect, or at the first read or write
    with pytest.raises((ConnectionResetError, BrokenPipeError)), dial(link.port) as s2:
        s2.sendall(b"c")
        if not s2.recv(1):
            raise ConnectionResetError
    faults.resume("s1")
    with dial(link.port) as s3:
        s3.sendall(b"d")
        assert s3.recv(1) == b"d"

"""A tablet that reads slowly holds a bounded amount of the controller's memory: the front hands the
TLS layer a block only once the connection has taken what it had (no timing asserts: the client
stops reading until the server has had to wait, then reads everything).

On loopback the kernel would take a few megabytes of a copy into the socket on its own (send buffer
autotuning), so the server side of the test connection gets a small send buffer, as a congested
path to a tablet would leave it: the rest must wait in the controller, and that is what is bounded."""

from __future__ import annotations

import socket
import time

from controller.documents.access import Level
from controller.documents.samples import text_pdf
from controller.front.files import BLOCK
from controller.front.listener import WRITE_HIGH

#: One block on top of the high-water mark, plus the TLS records' headers and tags.
BOUND = WRITE_HIGH + BLOCK + 4096


def _read_response(sock) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the copy was cut off"
        body += chunk
    return head, body


def _server_side(front, client_address):
    """The front's socket of the connection from ``client_address`` (once its handshake is done)."""
    deadline = time.monotonic() + 30
    while True:
        for lp in front.server.front.loops:
            for transport in list(lp.transports):
                if transport.get_extra_info("peername") == client_address:
                    return transport.get_extra_info("socket")
        assert time.monotonic() < deadline, "the front never took the connection"
        time.sleep(0.02)


def test_a_stalled_tablet_is_not_given_more_than_a_bounded_buffer(front):
    library = front.server.services.documents
    ref = library.add("Văn kiện lớn", level=Level.DELEGATES, data=text_pdf(20, image_kb=195),
                      filename="van-kien.pdf", actor="test")
    path = f"/d/{ref}/file"
    _, _, expected = front.get(path, "D-0001")
    assert len(expected) > 2_000_000
    stats = front.server.front.send_stats
    waits_before = stats().waits

    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tablet that takes little at a time
    raw.settimeout(30)
    raw.connect(("127.0.0.1", front.port))
    sock = front.context().wrap_socket(raw)
    try:
        _server_side(front, sock.getsockname()).setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: tablet\r\nAuthorization: Badge {front.tokens['D-0001']}"
                     "\r\nConnection: close\r\n\r\n".encode())
        deadline = time.monotonic() + 60
        while stats().waits == waits_before:  # nothing is read until the sender has had to wait
            assert time.monotonic() < deadline, "the sender never waited for the tablet"
            time.sleep(0.05)
        assert stats().peak_buffered <= BOUND
        _, body = _read_response(sock)
    finally:
        sock.close()
    assert body == expected
    assert stats().peak_buffered <= BOUND

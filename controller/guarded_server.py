"""cheroot for a hostile LAN: no worker thread waits for a slow client (slowloris).

Stock cheroot does the TLS handshake inside its accept loop (one silent client stalls every new
connection for the socket timeout) and hands a connection to a worker thread as soon as its first byte
arrives; the worker then waits for the rest of the request line and headers with a timeout that every
byte resets. A hundred clients trickling one header line every few seconds hold all the threads, and
the page is gone without anybody logging in.

:class:`GuardedServer` replaces the connection manager with :class:`GuardedConnections`, which keeps
every connection in its selector loop, non-blocking, until its request is complete:

* the **TLS handshake** is driven there, with a deadline (``handshake_timeout``, 5 s);
* the **request line and headers** are read there, with a total deadline from their first byte that
  later bytes do not reset (``header_timeout``, 10 s), at most ``MAX_HEADER_BYTES``; a small body
  (at most ``PREFETCH_BODY``) is read there too, unless the client waits for ``100 Continue``;
* only then does a worker thread get the connection, with the bytes read so far in front of its socket
  (:class:`BufferedSocket`); a larger body must arrive at ``MIN_BODY_RATE`` or the worker's reads
  time out;
* a kept-alive connection goes back to the same loop between requests;
* connections not yet complete are capped per client address (``per_address``) and in all (``total``);
  at a cap the **oldest** incomplete connection of that address (or of all) is closed, so a slow
  client is what gets dropped, never a quick one.

A slow client therefore costs the controller a file descriptor and a few kilobytes, not a thread.
Figures: docs/security.md, item 4.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import socket
import ssl
import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass, field

from cheroot import connections, errors, wsgi
from cheroot.makefile import MakeFile

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024
PREFETCH_BODY = 64 * 1024
MIN_BODY_RATE = 64 * 1024  # bytes per second a larger body must keep up
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*([0-9]{1,12})[ \t]*\r?$", re.I | re.M)
_EXPECT_OR_CHUNKED = re.compile(rb"^(expect[ \t]*:[ \t]*100-continue|transfer-encoding[ \t]*:)", re.I | re.M)
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


@dataclass(frozen=True)
class SlowClientLimits:
    """From ``[web]``: deadlines and caps for connections whose request is not complete yet."""

    handshake_timeout: float = 5.0
    header_timeout: float = 10.0
    per_address: int = 64
    total: int = 4096


class BufferedSocket:
    """A connection's socket with the bytes already read in front of it, and an optional deadline that
    no read may pass (set while a large body is still arriving)."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self._sock = sock
        self.prefix = bytearray()
        self.deadline: float | None = None
        self.timeout = timeout

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        if self.prefix:
            n = min(nbytes or len(buffer), len(self.prefix))
            buffer[:n] = self.prefix[:n]
            del self.prefix[:n]
            return n
        self._limit()
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self.prefix:
            data = bytes(self.prefix[:bufsize])
            del self.prefix[:bufsize]
            return data
        self._limit()
        return self._sock.recv(bufsize, flags)

    def _limit(self) -> None:
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(min(left, self.timeout))

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


@dataclass(eq=False)
class _Pending:
    """A connection whose request is not complete: handshaking, or reading its head (and small body)."""

    raw: socket.socket  # the TCP or TLS socket, non-blocking while pending
    address: str
    port: int
    deadline: float
    handshaking: bool = False
    conn: object | None = None  # the HTTPConnection of a kept-alive connection
    buffered: BufferedSocket | None = None
    data: bytearray = field(default_factory=bytearray)
    first_byte: float | None = None


class GuardedConnections(connections.ConnectionManager):
    """cheroot's connection manager, with the TLS handshake and the request head read in its loop."""

    def __init__(self, server, limits: SlowClientLimits) -> None:
        super().__init__(server)
        self.limits = limits
        self._pending: OrderedDict[int, _Pending] = OrderedDict()  # by fd, oldest first
        self._by_address: defaultdict[str, OrderedDict[int, _Pending]] = defaultdict(OrderedDict)
        self.stats = {"accepted": 0, "evicted": 0, "timed_out": 0, "handshake_failed": 0, "dispatched": 0}
        # Worker threads hand kept-alive connections back through this queue and wake the loop, so
        # every change to the pending set happens in the loop's own thread.
        self._returning: deque = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r.fileno(), selectors.EVENT_READ, data=self._wake_r)

    @property
    def _num_connections(self) -> int:
        """Kept-alive connections waiting for their next request (cheroot's keep-alive limit)."""
        return sum(1 for p in self._pending.values() if p.conn is not None)

    # -- the loop ---------------------------------------------------------------------------------
    def _run(self, expiration_interval: float) -> None:
        select_timeout = min(expiration_interval, 0.25)
        last_check = time.monotonic()
        while not self._stop_requested:
            try:
                active = self._selector.select(timeout=select_timeout)
            except OSError:
                self._remove_invalid_sockets()
                continue
            for fd, item in active:
                if item is self.server:
                    self._accept()
                elif item is self._wake_r:
                    self._take_back()
                elif isinstance(item, _Pending):
                    self._advance(fd, item)
                else:  # an HTTPConnection registered by the base class (not used here, kept safe)
                    self._selector.unregister(fd)
                    self.server.process_conn(item)
            now = time.monotonic()
            if now - last_check > select_timeout:
                self._expire_pending(now)
                self._expire(threshold=time.time() - self.server.timeout)
                last_check = now

    def put(self, conn) -> None:
        """A kept-alive connection after its response (called by a worker thread): its next request is
        awaited in the loop, not in a thread."""
        conn.last_used = time.time()
        buffered = conn.socket
        if not isinstance(buffered, BufferedSocket) or conn.rfile.has_data() or buffered.prefix:
            self.server.process_conn(conn)  # the next request is already in the reader's buffer
            return
        buffered.deadline = None
        self._returning.append(conn)
        with contextlib.suppress(OSError):  # a full wake-up buffer: the loop is awake already
            self._wake_w.send(b"\0")

    def _take_back(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        while self._returning:
            conn = self._returning.popleft()
            buffered = conn.socket
            try:
                buffered._sock.setblocking(False)
            except OSError:
                conn.close()
                continue
            self._add(_Pending(buffered._sock, getattr(conn, "remote_addr", "") or "",
                               getattr(conn, "remote_port", 0) or 0,
                               deadline=time.monotonic() + self.server.timeout, conn=conn, buffered=buffered))

    def _expire(self, threshold: float) -> None:
        """Idle kept-alive connections expire as pending ones (:meth:`_expire_pending`)."""

    def _remove_invalid_sockets(self) -> None:
        for fd, p in list(self._pending.items()):
            try:
                os.fstat(fd)
            except OSError:
                self._drop(p)

    # -- accepting --------------------------------------------------------------------------------
    def _accept(self) -> None:
        try:
            sock, addr = self.server.socket.accept()
        except (BlockingIOError, InterruptedError, TimeoutError):
            return
        except OSError as exc:
            if exc.args and exc.args[0] in errors.socket_errors_to_ignore + errors.socket_errors_nonblocking:
                return
            log.warning("web server: accept failed: %s", exc)  # e.g. out of file descriptors
            return
        connections.prevent_socket_inheritance(sock)
        if self.server.stats["Enabled"]:
            self.server.stats["Accepts"] += 1
        self.stats["accepted"] += 1
        address, port = (addr[0], addr[1]) if isinstance(addr, tuple) and len(addr) >= 2 else ("", 0)
        sock.setblocking(False)
        now = time.monotonic()
        adapter = self.server.ssl_adapter
        if adapter is not None:
            try:
                raw = adapter.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            except (OSError, ssl.SSLError):
                sock.close()
                return
            p = _Pending(raw, address, port, deadline=now + self.limits.handshake_timeout, handshaking=True)
        else:
            p = _Pending(sock, address, port, deadline=now + self.server.timeout)
        self._add(p)

    def _add(self, p: _Pending) -> None:
        mine = self._by_address[p.address]
        while len(mine) >= self.limits.per_address:
            self._evict(next(iter(mine.values())))
        while len(self._pending) >= self.limits.total:
            self._evict(next(iter(self._pending.values())))
        fd = p.raw.fileno()
        self._pending[fd] = p
        mine[fd] = p
        self._selector.register(fd, selectors.EVENT_READ, data=p)

    def _forget(self, fd: int, p: _Pending) -> None:
        self._pending.pop(fd, None)
        mine = self._by_address.get(p.address)
        if mine is not None:
            mine.pop(fd, None)
            if not mine:
                del self._by_address[p.address]
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(fd)

    def _evict(self, p: _Pending, reply: bytes = b"") -> None:
        self.stats["evicted" if not reply else "timed_out"] += 1
        self._drop(p, reply)

    def _drop(self, p: _Pending, reply: bytes = b"") -> None:
        try:
            fd = p.raw.fileno()
        except OSError:
            fd = -1
        if fd >= 0:
            self._forget(fd, p)
        else:  # already closed: find it by identity
            for key, value in list(self._pending.items()):
                if value is p:
                    self._forget(key, p)
        if reply and not p.handshaking:
            with contextlib.suppress(OSError, ssl.SSLError):
                p.raw.send(reply)
        if p.conn is not None:
            p.conn.close()
        else:
            with contextlib.suppress(OSError):
                p.raw.close()

    def _expire_pending(self, now: float) -> None:
        for p in [p for p in self._pending.values() if p.deadline <= now]:
            if p.handshaking:
                self.stats["handshake_failed"] += 1
                self._drop(p)
            elif p.conn is not None and not p.data:
                self._drop(p)  # an idle kept-alive connection: the ordinary keep-alive timeout
            else:
                self._evict(p, _TIMED_OUT)

    # -- one connection's progress ---------------------------------------------------------------
    def _advance(self, fd: int, p: _Pending) -> None:
        if p.handshaking:
            try:
                p.raw.do_handshake()
            except ssl.SSLWantReadError:
                return
            except ssl.SSLWantWriteError:
                self._selector.unregister(fd)
                self._selector.register(fd, selectors.EVENT_READ | selectors.EVENT_WRITE, data=p)
                return
            except (OSError, ssl.SSLError, ValueError):
                self.stats["handshake_failed"] += 1
                self._drop(p)
                return
            p.handshaking = False
            p.deadline = time.monotonic() + self.server.timeout  # idle until the first byte
            self._selector.unregister(fd)
            self._selector.register(fd, selectors.EVENT_READ, data=p)
        if not self._read_available(p):
            self._drop(p)
            return
        if p.data and p.first_byte is None:
            p.first_byte = time.monotonic()
            p.deadline = min(p.deadline, p.first_byte + self.limits.header_timeout)
        complete, body_deadline = self._complete(p.data)
        if complete is None:
            self._evict(p, _TOO_LARGE)
        elif complete:
            self._dispatch(fd, p, body_deadline)

    def _read_available(self, p: _Pending) -> bool:
        """Read what has arrived (TLS records may hold more than the kernel shows); False on EOF."""
        while len(p.data) <= MAX_HEADER_BYTES + PREFETCH_BODY:
            try:
                chunk = p.raw.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
                return True
            except (OSError, ssl.SSLError):
                return False
            if not chunk:
                return False
            p.data += chunk
        return True

    def _complete(self, data: bytearray) -> tuple[bool | None, float | None]:
        """(True, body deadline) when the request can go to a worker, (False, _) when more must come,
        (None, _) when the head is too large."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return (None, None) if len(data) > MAX_HEADER_BYTES else (False, None)
        head = bytes(data[:end])
        body = len(data) - end - 4
        m = _CONTENT_LENGTH.search(head)
        length = int(m.group(1)) if m else 0
        if _EXPECT_OR_CHUNKED.search(head) or length > PREFETCH_BODY:
            rate_s = (length or PREFETCH_BODY * 16) / MIN_BODY_RATE
            return True, time.monotonic() + self.limits.header_timeout + rate_s
        return body >= length, None

    def _dispatch(self, fd: int, p: _Pending, body_deadline: float | None) -> None:
        self._forget(fd, p)
        try:
            p.raw.settimeout(self.server.timeout)  # blocking again, for the worker thread
        except OSError:
            self._drop(p)
            return
        if p.conn is None:
            buffered = BufferedSocket(p.raw, self.server.timeout)
            adapter = self.server.ssl_adapter
            makefile = adapter.makefile if adapter is not None else MakeFile
            conn = self.server.ConnectionClass(self.server, buffered, makefile)
            conn.remote_addr, conn.remote_port = p.address, p.port
            try:
                conn.ssl_env = adapter.get_environ(p.raw) if adapter is not None else {}
            except (OSError, ssl.SSLError, ValueError):
                self._drop(p)
                return
        else:
            conn, buffered = p.conn, p.buffered
        buffered.prefix += p.data
        buffered.deadline = body_deadline
        self.stats["dispatched"] += 1
        self.server.process_conn(conn)

    def close(self) -> None:
        for p in list(self._pending.values()):
            self._drop(p)
        while self._returning:
            self._returning.popleft().close()
        self._selector.unregister(self._wake_r.fileno())
        self._wake_r.close()
        self._wake_w.close()
        super().close()


class GuardedServer(wsgi.Server):
    """cheroot's WSGI server with :class:`GuardedConnections` (see the module docstring)."""

    def __init__(self, *args, limits: SlowClientLimits = SlowClientLimits(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slow_client_limits = limits

    def prepare(self) -> None:
        _raise_open_file_limit(self.slow_client_limits.total + self.numthreads + 1024)
        super().prepare()
        stock = self._connections
        self._connections = GuardedConnections(self, self.slow_client_limits)
        stock._selector.close()  # never ran; its selector only held the listening socket


def _raise_open_file_limit(needed: int) -> None:
    """Every pending connection is a file descriptor: lift the soft limit (systemd's is 1024) toward
    the hard one so that the caps, not ``EMFILE``, decide who is refused."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            log.warning("web server: cannot raise the open-file limit from %d to %d", soft, want)

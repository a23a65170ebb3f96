"""Connection deadlines and the per-address cap of the tablet front.

The TLS handshake deadline is asyncio's (``ssl_handshake_timeout``); the request deadline is
aiohttp's keep-alive timer, which closes a connection that has not completed a request's headers
within ``header_s`` of connecting or of its previous answer (a request being answered, such as a
live feed, is not idle). :class:`AddressCap` counts open connections per client address: a
:class:`CappedProtocol` wraps each of aiohttp's protocol objects and closes a connection beyond the
cap as soon as it is made, before any request is read. The cap is shared by the front's loops.

Every connection's write buffer is kept small (:data:`WRITE_HIGH`): asyncio's TLS layer lets a
connection hold 512 KiB of encrypted bytes before it tells the application to wait, and OpenSSL's
memory buffer keeps the largest size it ever reached until the connection closes (measured: 0.69 MB
per tablet downloading, 1.4 GB for 2,000). :meth:`CappedProtocol.writable` is what a sender awaits
between blocks; it returns at once unless the connection is above its high-water mark.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Bytes a connection may hold waiting for its client (asyncio's encrypted, not yet sent bytes over
#: TLS; its send buffer without) before a sender waits, and the level at which it may go on.
WRITE_HIGH = 32 * 1024
WRITE_LOW = 8 * 1024


class AddressCap:
    """At most ``limit`` open connections per client address, over all the front's loops."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()
        self.refused = 0
        self._lock = threading.Lock()

    def admit(self, address: str) -> bool:
        with self._lock:
            if self.open[address] >= self.limit:
                self.refused += 1
                return False
            self.open[address] += 1
            return True

    def release(self, address: str) -> None:
        with self._lock:
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]

    @property
    def connections(self) -> int:
        with self._lock:
            return sum(self.open.values())


class CappedProtocol(asyncio.Protocol):
    """aiohttp's protocol behind the :class:`AddressCap`; every call is passed on unchanged."""

    __slots__ = ("_address", "_cap", "_inner", "_paused", "_transport", "_transports", "_waiters")

    def __init__(self, inner: asyncio.Protocol, cap: AddressCap, transports: set) -> None:
        self._inner: asyncio.Protocol | None = inner
        self._cap, self._transports = cap, transports
        self._address: str | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._paused = False
        self._waiters: list[asyncio.Future] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "-"
        if not self._cap.admit(address):
            log.debug("front: %s has %d connections open; one more closed", address, self._cap.limit)
            self._inner = None
            transport.abort()
            return
        self._address = address
        self._transport = transport
        self._transports.add(transport)
        transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
        self._inner.connection_made(transport)

    @property
    def paused(self) -> bool:
        """The connection holds :data:`WRITE_HIGH` or more for its client (until :data:`WRITE_LOW`)."""
        return self._paused

    async def writable(self) -> None:
        """Return when the connection may take more (at once unless it is over :data:`WRITE_HIGH`);
        :class:`ConnectionResetError` if it closes meanwhile."""
        while self._paused:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def _wake(self, exc: Exception | None) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._paused = False
        self._wake(ConnectionResetError("the client went away"))
        if self._address is not None:
            self._cap.release(self._address)
            self._transports.discard(self._transport)
            self._address = self._transport = None
        if self._inner is not None:
            self._inner.connection_lost(exc)
            self._inner = None

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        self._paused = True
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._paused = False
        self._wake(None)
        if self._inner is not None:
            self._inner.resume_writing()


def capped(
    factory: Callable[[], asyncio.Protocol], cap: AddressCap, transports: set
) -> Callable[[], asyncio.Protocol]:
    """A protocol factory for ``loop.create_server`` that applies ``cap`` to ``factory``'s protocols;
    ``transports`` holds the loop's open connections (cut at shutdown)."""
    return lambda: CappedProtocol(factory(), cap, transports)

"""Faulty network links on loopback, for the tests and the sites benchmark.

A :class:`LinkFaults` runs one asyncio loop in a thread named ``linkfault`` and hosts any number of
TCP proxies (:meth:`LinkFaults.add`): each listens on a free loopback port and forwards every byte to
its target (a site bridge's address is the proxy, the target the central broker). Each link can be
driven while traffic flows, as a WAN link fails in practice:

* :meth:`reset` — every open connection is closed with a TCP reset on both sides (a router reboot,
  a NAT table flush); new connections go through at once;
* :meth:`stall` — the link goes silent: no byte passes in either direction and no close is passed
  on, connections stay open and new ones are accepted but not connected onward, so only the
  peers' keep-alive timers can tell (a cable cut behind a switch, a mobile link in a dead zone);
* :meth:`refuse` — every connection, open or new, is reset (the far end is unreachable);
* :meth:`resume` — back to normal; bytes held during a stall flow on.

Nothing here knows MQTT or TLS: the bytes are opaque. :attr:`Link.stats` counts connections, resets
and bytes so a test can check that its fault really happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)

CHUNK = 65536


class LinkState(StrEnum):
    UP = "up"
    STALLED = "stalled"
    REFUSING = "refusing"


@dataclass
class LinkStats:
    connections: int = 0
    resets: int = 0
    bytes_up: int = 0  # client -> target
    bytes_down: int = 0


@dataclass
class Link:
    """One proxy: clients connect to ``host:port``; bytes go to ``target``."""

    name: str
    target: tuple[str, int]
    host: str = "127.0.0.1"
    port: int = 0
    state: LinkState = LinkState.UP
    stats: LinkStats = field(default_factory=LinkStats)
    _flowing: asyncio.Event | None = None
    _server: asyncio.base_events.Server | None = None
    _pairs: set = field(default_factory=set)


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), not a FIN."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class LinkFaults:
    """The proxies and their loop; use as a context manager or call :meth:`start` / :meth:`close`."""

    def __init__(self, *, call_timeout_s: float = 10.0) -> None:
        self.links: dict[str, Link] = {}
        self.call_timeout_s = call_timeout_s  # how long a control call waits for the loop
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="linkfault", daemon=True)

    def start(self) -> LinkFaults:
        self._thread.start()
        return self

    def __enter__(self) -> LinkFaults:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self.call_timeout_s)

    # -- control (any thread) -------------------------------------------------------------------------
    def add(self, name: str, target_host: str, target_port: int, *, port: int = 0) -> Link:
        """A new proxy ``name`` to ``target_host:target_port``, listening on ``port`` (0: a free one)."""
        if name in self.links:
            raise ValueError(f"link {name!r} exists")
        link = Link(name, (target_host, target_port), port=port)
        self._call(self._open(link))
        self.links[name] = link
        return link

    def reset(self, name: str) -> int:
        """Reset every open connection of ``name``; return how many were reset."""
        return self._call(self._reset(self.links[name]))

    def stall(self, name: str) -> None:
        self._call(self._set(self.links[name], LinkState.STALLED))

    def refuse(self, name: str) -> None:
        link = self.links[name]
        self._call(self._set(link, LinkState.REFUSING))
        self.reset(name)

    def resume(self, name: str) -> None:
        self._call(self._set(self.links[name], LinkState.UP))

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    # -- the loop ------------------------------------------------------------------------------------
    async def _open(self, link: Link) -> None:
        link._flowing = asyncio.Event()
        link._flowing.set()
        link._server = await asyncio.start_server(
            lambda r, w: self._serve(link, r, w), link.host, link.port, reuse_address=True)
        link.port = link._server.sockets[0].getsockname()[1]

    async def _set(self, link: Link, state: LinkState) -> None:
        link.state = state
        if state is LinkState.STALLED:
            link._flowing.clear()
        else:
            link._flowing.set()

    async def _reset(self, link: Link) -> int:
        pairs = list(link._pairs)
        for a, b in pairs:
            _rst(a)
            _rst(b)
        link._pairs.clear()
        link.stats.resets += len(pairs)
        return len(pairs)

    async def _shutdown(self) -> None:
        for link in self.links.values():
            link._server.close()
            await self._reset(link)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0.05)  # let the aborted transports close their sockets

    async def _serve(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link.stats.connections += 1
        up_writer = None
        try:
            if link.state is LinkState.REFUSING:
                _rst(writer)
                return
            await link._flowing.wait()  # stalled: the connection hangs before it reaches the target
            if link.state is LinkState.REFUSING:
                _rst(writer)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*link.target)
            except OSError:
                _rst(writer)
                return
            pair = (writer, up_writer)
            link._pairs.add(pair)
            try:
                await asyncio.gather(self._pipe(link, reader, up_writer, up=True),
                                     self._pipe(link, up_reader, writer, up=False))
            finally:
                link._pairs.discard(pair)
        except asyncio.CancelledError:
            pass  # the proxies are closing
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.transport.abort()

    async def _pipe(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    *, up: bool) -> None:
        try:
            while True:
                await link._flowing.wait()
                data = await reader.read(CHUNK)
                await link._flowing.wait()  # bytes read just before a stall are held, not delivered
                if not data:
                    break
                if up:  # counted before they go on, so a peer that has them sees them counted
                    link.stats.bytes_up += len(data)
                else:
                    link.stats.bytes_down += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()  # one side ended: end the other, so a close passes through when the link is up

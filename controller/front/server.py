""":class:`TabletFront`: the aiohttp server of the delegates' port, in its own thread and loop.

Built and started by :class:`controller.server.ControllerServer` when ``[portal] enabled``; it
takes the Flask app (for the portal's pages), the document library (copies), the live bus (one
subscription) and the configuration, and serves with the TLS certificate and key of ``[web]``.
Routes, in order: ``GET /d/{ref}/file`` and ``/d/{ref}/v/{n}/file`` (native, sendfile), ``GET
/p/events`` (native, server-sent events), then every path whose first segment is one of
:data:`PASSTHROUGH` to the Flask app, and 404 (the controller page's error page, in the person's
language) for anything else: staff routes do not exist on this port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from asyncio import sslproto
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from congress.config.controller import ControllerConfig
from controller.documents.library import Library
from controller.front.events import EventHub, EventsHandler
from controller.front.files import CopyHandler, SendStats, SharedBases, page_headers
from controller.front.listener import AddressCap, capped
from controller.front.texts import Texts
from controller.front.wsgi_bridge import WsgiBridge
from controller.live import LiveBus

log = logging.getLogger(__name__)

#: First path segments the front hands to the Flask app: the portal (``/p/...``), the documents'
#: JSON (``/d``, ``/d/<ref>``), the printed codes (``/q/<token>``), static files and fonts.
PASSTHROUGH = frozenset({"p", "d", "q", "static", "fonts"})
#: A path no Flask route has: the front asks the app for its 404 page with it.
NOT_FOUND_PATH = "/.front/not-found"
#: Largest request body passed to the portal's pages (a written contribution as a PDF).
MAX_BODY = 16 * 1024 * 1024
#: Bytes asyncio's TLS layer receives at a time per connection. Its default, 256 KiB, is a buffer
#: allocated and zeroed for every connection (512 MB for 2,000 tablets) although a tablet only sends
#: short requests; 32 KiB still takes two full TLS records at once. Set on asyncio's class when a
#: front is built: nothing else in the controller uses asyncio's TLS.
TLS_READ_BUFFER = 32 * 1024


def tls_context(cert, key) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


class _Loop:
    """One event loop of the front, in its own thread, listening on the front's port."""

    def __init__(self, front: TabletFront, index: int) -> None:
        self.front, self.index = front, index
        self.loop: asyncio.AbstractEventLoop | None = None
        self.transports: set[asyncio.BaseTransport] = set()
        self.stats = SendStats()  # its copies' write buffers (touched in this loop only)
        self.thread = threading.Thread(target=self._run, name=f"front-{index}", daemon=True)
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.port: int | None = None
        self._stopped: asyncio.Event | None = None

    async def _serve(self, port: int) -> None:
        front, portal = self.front, self.front.config.portal
        loop = self.loop = asyncio.get_running_loop()
        loop.set_default_executor(front.io_pool)
        self._stopped = asyncio.Event()
        runner = web.AppRunner(
            front.build_app(self.stats), handle_signals=False, access_log=None,
            keepalive_timeout=portal.header_s, shutdown_timeout=2.0,
        )
        await runner.setup()
        ctx = tls_context(front.config.web.tls_cert, front.config.web.tls_key) if front.tls else None
        server = await loop.create_server(
            capped(runner.server, front.cap, self.transports),
            portal.host,
            port,
            ssl=ctx,
            ssl_handshake_timeout=portal.handshake_s if ctx else None,
            backlog=portal.backlog,
            reuse_address=True,
            reuse_port=portal.loops > 1,
        )
        self.port = server.sockets[0].getsockname()[1]
        front.hub.attach(loop)
        self.ready.set()
        await self._stopped.wait()
        server.close()
        await runner.cleanup()
        for transport in list(self.transports):  # no TLS goodbye is waited for at shutdown
            transport.abort()
        await asyncio.sleep(0.05)  # the aborted connections' callbacks run before the loop closes

    def _run(self) -> None:
        try:
            asyncio.run(self._serve(self._port))
        except BaseException as exc:  # reported to start(), which raises it
            self.failed = exc
            self.ready.set()
            if self.port is not None:
                log.exception("tablet front loop %d stopped on an error", self.index)

    def start(self, port: int) -> None:
        self._port = port
        self.thread.start()
        self.ready.wait(30)
        if self.failed is not None:
            raise self.failed

    def stop(self) -> None:
        if self.loop is not None and self._stopped is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self.loop.call_soon_threadsafe(self._stopped.set)
        if self.thread.is_alive():
            self.thread.join(10)


class TabletFront:
    """The delegates' port; :meth:`start` returns once it listens (``port`` is then known).

    ``[portal] loops`` event loops (threads ``front-0``...) listen on the one port
    (``SO_REUSEPORT``: the kernel spreads new connections over them); TLS, HTTP parsing and Python's
    share of sending run in each loop, so two loops use both cores of a small controller."""

    def __init__(self, config: ControllerConfig, app, library: Library, bus: LiveBus) -> None:
        self.config, self.flask_app, self.library, self.bus = config, app, library, bus
        portal = config.portal
        self.tls = config.web.tls_cert is not None
        if self.tls:
            sslproto.SSLProtocol.max_size = min(sslproto.SSLProtocol.max_size, TLS_READ_BUFFER)
        self.cap = AddressCap(portal.per_address)
        self.hub = EventHub(bus)
        self.page_pool = ThreadPoolExecutor(portal.page_threads, thread_name_prefix="front-page")
        self.file_pool = ThreadPoolExecutor(portal.file_threads, thread_name_prefix="front-doc")
        self.io_pool = ThreadPoolExecutor(4, thread_name_prefix="front-io")  # the loops' default executor
        self.bases = SharedBases()
        self.loops = [_Loop(self, i) for i in range(portal.loops)]
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.config.portal.host}:{self.port}"

    def send_stats(self) -> SendStats:
        """The copies' write buffers over every loop (read from another thread: a snapshot)."""
        total = SendStats()
        for lp in self.loops:
            total.merge(lp.stats)
        return total

    def build_app(self, stats: SendStats | None = None) -> web.Application:
        portal = self.config.portal
        headers = page_headers(self.tls)
        bridge = WsgiBridge(self.flask_app, self.page_pool, tls=self.tls)
        texts = Texts(self.config.venue.language)
        copies = CopyHandler(self.library, self.file_pool, self.bases, tls=self.tls, texts=texts, stats=stats)
        events = EventsHandler(
            self.hub, self.library.access, self.file_pool, headers,
            keepalive_s=portal.keepalive_s, write_s=portal.write_s, texts=texts,
        )

        async def other(request: web.Request) -> web.StreamResponse:
            first = request.path.lstrip("/").split("/", 1)[0]
            if first in PASSTHROUGH:
                return await bridge(request)
            return await bridge(request, path=NOT_FOUND_PATH)

        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/d/{ref}/file", copies.__call__, allow_head=False)
        app.router.add_get("/d/{ref}/v/{version}/file", copies.__call__, allow_head=False)
        app.router.add_get("/p/events", events.__call__, allow_head=False)
        app.router.add_route("*", "/{tail:.*}", other)
        return app

    def start(self) -> TabletFront:
        """Listen; a port clash or a bad certificate is raised here."""
        self.hub.start()
        try:
            first, *rest = self.loops
            first.start(self.config.portal.port)
            self.port = first.port
            for lp in rest:
                lp.start(self.port)
        except BaseException:
            self.stop()
            raise
        log.info("tablet front at %s (%d event loops)", self.url, len(self.loops))
        return self

    def stop(self) -> None:
        """Stop listening, end the live streams and close every connection."""
        self.hub.stop()
        for lp in self.loops:
            lp.stop()
        for pool in (self.page_pool, self.file_pool, self.io_pool):
            pool.shutdown(wait=False, cancel_futures=True)
        self.bases.close()

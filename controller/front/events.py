"""``GET /p/events``: the delegates' live feed, any number of clients on one bus subscription.

:class:`EventHub` holds ONE :class:`controller.live.Subscription` to the controller's live bus; its
pump thread (``front-events``) waits on it, filters each event for delegates
(:mod:`controller.front.audience`), encodes it once and hands it to each of the front's loops with
``call_soon_threadsafe``, where it is offered to every client addressed. Each client has a bounded
queue: a client that falls behind loses its backlog and gets one ``resync`` event (like the staff
page's feed), and a client that leaves an event unwritten for ``[portal] write_s`` is disconnected,
so a stalled tablet costs a little memory for a while and never a thread. When the bus closes (the
controller stops), every stream ends.

The stream is for signed-in delegates: the reader comes from the same
:meth:`controller.documents.delegate_access.DelegateAccess.reader_from` as documents (the portal's
session cookie, or a badge token), and is asked again every keep-alive and at once after a notice
that the delegate's session changed (the portal publishes one on sign-out and revocation), so a
revoked tablet loses its stream within moments and a delegate removed from the roster stops
receiving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
from concurrent.futures import Executor

from aiohttp import web

from congress.i18n import M_
from controller.documents.delegate_access import DelegateAccess, credentials_from
from controller.front.audience import addressed, for_delegates
from controller.front.texts import Texts
from controller.live import EventKind, LiveBus

log = logging.getLogger(__name__)

_END = b""  # queued to a client: the stream ends
#: In a notice the portal sends when a delegate's session ended (sign-out, revocation by staff).
SESSION_CHANGED = b'"type":"session"'


class EventClient:
    """One delegate's open stream (touched only in the thread of its loop)."""

    def __init__(self, delegate_id: str, size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.delegate_id, self.loop = delegate_id, loop
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, text: bytes) -> None:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped += 1
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(b'event: resync\ndata: {"reason":"backlog"}\n\n')


class EventHub:
    """The one bus subscription of the front, and the clients of each of its loops."""

    def __init__(self, bus: LiveBus, *, queue_size: int = 64) -> None:
        self.bus, self.queue_size = bus, queue_size
        self.delivered = 0
        self._clients: dict[asyncio.AbstractEventLoop, set[EventClient]] = {}
        self._loops: tuple[asyncio.AbstractEventLoop, ...] = ()
        self._sub = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def clients(self) -> list[EventClient]:
        """Every open stream, over all loops (a snapshot)."""
        return [c for loop in self._loops for c in list(self._clients[loop])]

    def start(self) -> None:
        self._sub = self.bus.subscribe()
        if self._sub is None:
            raise RuntimeError("the live bus has no room for the tablet front's subscription")
        self._thread = threading.Thread(target=self._pump, name="front-events", daemon=True)
        self._thread.start()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """A loop of the front that serves streams (called in that loop, before it accepts)."""
        self._clients[loop] = set()
        self._loops = (*self._loops, loop)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._sub is not None:
            self._sub.close()

    def _pump(self) -> None:
        while not self._stop.is_set():
            event = self._sub.get(timeout=0.5)
            if event is None:
                continue
            if not event.kind:  # the bus closed: every stream ends
                self._each_loop(self._end)
                return
            data = for_delegates(event)
            if data is None:
                continue
            body = json.dumps(data, separators=(",", ":"), default=str)
            text = f"id: {event.id}\nevent: {event.kind}\ndata: {body}\n\n".encode()
            self._each_loop(self._offer, text, event.data)

    def _each_loop(self, callback, *args) -> None:
        for loop in self._loops:
            with contextlib.suppress(RuntimeError):  # that loop is gone
                loop.call_soon_threadsafe(callback, loop, *args)

    def _offer(self, loop: asyncio.AbstractEventLoop, text: bytes, raw: dict) -> None:
        for client in self._clients[loop]:
            if addressed(raw, client.delegate_id):
                client.offer(text)

    def _end(self, loop: asyncio.AbstractEventLoop) -> None:
        for client in self._clients[loop]:
            client.offer(_END)

    def join(self, delegate_id: str) -> EventClient:
        """A stream for ``delegate_id`` in the running loop."""
        loop = asyncio.get_running_loop()
        client = EventClient(delegate_id, self.queue_size, loop)
        self._clients[loop].add(client)
        return client

    def leave(self, client: EventClient) -> None:
        self._clients[client.loop].discard(client)


class EventsHandler:
    """The aiohttp handler of ``/p/events``."""

    def __init__(
        self, hub: EventHub, access: DelegateAccess, pool: Executor, headers: dict[str, str],
        *, keepalive_s: float, write_s: float, texts: Texts,
    ) -> None:
        self.hub, self.access, self.pool, self.headers, self.texts = hub, access, pool, headers, texts
        self.keepalive_s, self.write_s = keepalive_s, write_s

    async def _delegate(self, creds: dict) -> str | None:
        if not any(creds.values()):
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: self.access.delegate_id(**creds))

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        creds = credentials_from(request.headers, request.cookies)
        delegate_id = await self._delegate(creds)
        if delegate_id is None:
            return web.json_response(
                {"error": self.texts.say(request, M_("sign in first"))},
                status=401, headers={**self.headers, "Cache-Control": "no-store"},
            )
        resp = web.StreamResponse(
            headers={
                **self.headers,
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await resp.prepare(request)
        client = self.hub.join(delegate_id)
        try:
            await self._write(resp, f"retry: 3000\n: connected {delegate_id}\n\n".encode())
            while True:
                try:
                    # jittered, so 2,000 streams opened together do not all ask at the same moment
                    wait = self.keepalive_s * (0.5 + random.random())
                    text = await asyncio.wait_for(client.queue.get(), wait)
                except TimeoutError:
                    if await self._delegate(creds) != delegate_id:
                        break  # removed from the roster, or the sign-in ended
                    await self._write(resp, b": keep-alive\n\n")
                    continue
                if text is _END:
                    break
                await self._write(resp, text)
                self.hub.delivered += 1
                if text.startswith(b"id: ") and SESSION_CHANGED in text and (
                    await self._delegate(creds) != delegate_id
                ):
                    break  # signed out or revoked: the portal was told, the stream ends now
        except (ConnectionError, TimeoutError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.debug("front: live client %s gone (%s)", delegate_id, type(exc).__name__)
        finally:
            self.hub.leave(client)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await resp.write_eof()
        return resp

    async def _write(self, resp: web.StreamResponse, text: bytes) -> None:
        """Write and wait until the client takes it, at most ``write_s`` (then :class:`TimeoutError`)."""
        await asyncio.wait_for(resp.write(text), self.write_s)


__all__ = ["EventHub", "EventKind", "EventsHandler"]

"""In-process live bus: server-sent events for the controller page.

``create_app`` constructs one :class:`LiveBus` and hands it to whoever produces events (the ingest
thread: check-ins and attendance; :class:`controller.devices.health.DeviceWatch`: unit health; the ballot
code: ballots). ``publish`` never blocks: every page that follows the feed has its own bounded queue,
and a page that cannot keep up loses its backlog and gets one ``resync`` event, after which it
reloads its numbers over the JSON API. The number of followers is capped so that live pages, each of
which holds a server thread, can never starve ordinary requests. :func:`stream` turns a subscription
into SSE text with a keep-alive comment whenever the feed is quiet, and ends when the bus closes.
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    """Event names on the live feed (the ``event:`` field of SSE): the one list every producer and the
    page's scripts (``static/app.js``, ``static/ballots.js``) use; a new kind is added here first."""

    CHECKIN = "checkin"
    ATTENDANCE = "attendance"
    DEVICE = "device"
    LANE = "lane"
    BALLOT = "ballot"
    ENROLLMENT = "enrollment"
    AUDIT = "audit"
    AGENDA = "agenda"
    ROLLCALL = "rollcall"
    DOCUMENTS = "documents"
    SITE = "site"
    NOTICE = "notice"  # the delegates' portal: to everyone, or to the delegate ids in data["to"]
    SPEAKERS = "speakers"  # the queue of requests to speak on an agenda item (the chair orders it)
    SYNTHESIS = "synthesis"
    CANDIDATES = "candidates"  # a candidate list changed: {"list": id, "change": what}; no name, no person
    RESYNC = "resync"
    BENCH = "bench"  # only ``congress controller bench-live`` publishes it


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict

    def sse(self) -> str:
        body = json.dumps(self.data, separators=(",", ":"), default=str)
        return f"id: {self.id}\nevent: {self.kind}\ndata: {body}\n\n"


_CLOSED = Event(0, "", {})


class Subscription:
    """One page's queue; iterate :func:`stream` over it, then :meth:`close`."""

    def __init__(self, bus: LiveBus, size: int) -> None:
        self._bus = bus
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=size)
        self.dropped = 0
        #: Set by :meth:`LiveBus.subscribe` when the bus is full: :func:`stream` writes at once, so a
        #: page that went away without a word (its slot held until the next write fails) frees it.
        self.probe = threading.Event()

    def offer(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            # The page is too slow: forget its backlog and tell it to reload its numbers.
            self.dropped += 1
            with self._queue.mutex:
                self._queue.queue.clear()
            self._queue.put_nowait(Event(event.id, EventKind.RESYNC.value, {"reason": "backlog"}))

    def get(self, timeout: float) -> Event | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._bus._remove(self)


class LiveBus:
    """Fan-out of live events to at most ``max_clients`` subscribers with ``queue_size`` each."""

    def __init__(self, *, max_clients: int = 48, queue_size: int = 512, keepalive_s: float = 15.0) -> None:
        self.max_clients, self.queue_size, self.keepalive_s = max_clients, queue_size, keepalive_s
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.closed = threading.Event()

    def init_app(self, app) -> None:
        app.extensions["live"] = self

    def publish(self, kind: EventKind, data: dict) -> None:
        """Send ``data`` to every subscriber; never blocks, safe from any thread. A ``kind`` that is not
        an :class:`EventKind` raises ``ValueError`` (the page would never listen for it)."""
        kind = EventKind(kind)
        with self._lock:
            event = Event(next(self._ids), kind.value, data)
            subs = list(self._subs)
        for s in subs:
            s.offer(event)

    def subscribe(self, *, probe_wait_s: float = 5.0) -> Subscription | None:
        """A new subscription, or ``None`` when the bus is closed or stays full.

        A page that was closed or navigated away holds its slot until its stream next writes and the
        write fails (a keep-alive comes every ``keepalive_s``). So when the bus is full, every stream
        is asked to write at once (:attr:`Subscription.probe`), and for up to ``probe_wait_s`` the
        slots that frees are offered to this page before it is refused."""
        sub = self._try_subscribe()
        if sub is not None or self.closed.is_set():
            return sub
        with self._lock:
            subs = list(self._subs)
        for s in subs:
            s.probe.set()
        deadline = time.monotonic() + probe_wait_s
        while sub is None and not self.closed.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
            sub = self._try_subscribe()
        if sub is None:
            log.warning("live feed full: %d pages follow it ([web] max_live_clients)", self.clients)
        return sub

    def _try_subscribe(self) -> Subscription | None:
        with self._lock:
            if self.closed.is_set() or len(self._subs) >= self.max_clients:
                return None
            sub = Subscription(self, self.queue_size)
            self._subs.add(sub)
            return sub

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._subs)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def close(self) -> None:
        """End every stream (server shutdown)."""
        self.closed.set()
        with self._lock:
            subs = list(self._subs)
        for s in subs:
            s.offer(_CLOSED)


def stream(
    bus: LiveBus, sub: Subscription, *, poll_s: float = 1.0, still_allowed: Callable[[], bool] | None = None
) -> Iterator[str]:
    """SSE text for one subscription: a retry hint, events, keep-alive comments; ends on close.

    ``still_allowed`` is asked every ``keepalive_s``; when it says no (the session was logged out or
    expired) the stream ends, so a long-lived connection cannot outlive its login.
    """
    try:
        yield f"retry: 3000\n: connected, {bus.clients} live clients\n\n"
        last_sent = last_check = time.monotonic()
        while not bus.closed.is_set():
            event = sub.get(timeout=poll_s)
            if event is _CLOSED:
                break
            now = time.monotonic()
            if still_allowed is not None and now - last_check >= bus.keepalive_s:
                last_check = now
                if not still_allowed():
                    break
            if event is not None:
                last_sent = now
                yield event.sse()
            elif sub.probe.is_set():
                # The bus is full: write twice, so that a page gone without a word is found out now
                # (the first write to a closed peer is taken; the peer's reset fails the second).
                sub.probe.clear()
                last_sent = now
                yield ": still there?\n\n"
                time.sleep(0.1)
                yield ": still there?\n\n"
            elif now - last_sent >= bus.keepalive_s:
                last_sent = now
                yield ": keep-alive\n\n"
    finally:
        sub.close()

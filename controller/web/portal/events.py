"""The delegate's live stream on the staff port: the live bus, filtered for one delegate.

The same contract as the tablet listener's native ``/p/events``: an event reaches a delegate unless
its ``data["to"]`` names other delegates only (absent or ``"all"``: everyone). Only the kinds the
portal's script handles are sent. ``still_allowed`` is asked every :data:`CHECK_S` seconds, so a
revoked or signed-out session loses its stream within seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from controller.live import EventKind, LiveBus, Subscription

KINDS = frozenset({EventKind.NOTICE.value, EventKind.AGENDA.value, EventKind.DOCUMENTS.value,
                   EventKind.BALLOT.value, EventKind.CANDIDATES.value, EventKind.RESYNC.value})
CHECK_S = 3.0


def for_delegate(data: dict, delegate_id: str) -> bool:
    to = data.get("to")
    return to is None or to == "all" or (isinstance(to, list | tuple) and delegate_id in to)


def _without_recipients(event) -> str:
    # A delegate is not told who else received a notice.
    data = {k: v for k, v in event.data.items() if k != "to"}
    if event.kind == EventKind.DOCUMENTS.value:  # as the tablet front: no reference a delegate may not read
        data = {"change": data.get("change", "changed")}
    elif event.kind == EventKind.CANDIDATES.value:  # which list and what changed, never who
        data = {"list": data.get("list"), "change": data.get("change", "changed")}
    body = json.dumps(data, separators=(",", ":"), default=str)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {body}\n\n"


def stream(bus: LiveBus, sub: Subscription, delegate_id: str, still_allowed: Callable[[], bool], *,
           poll_s: float = 1.0) -> Iterator[str]:
    try:
        yield "retry: 3000\n: connected\n\n"
        last_sent = last_check = time.monotonic()
        while not bus.closed.is_set():
            event = sub.get(timeout=poll_s)
            now = time.monotonic()
            if event is not None and event.kind == "":
                break  # the bus closed
            if now - last_check >= CHECK_S:
                last_check = now
                if not still_allowed():
                    yield "event: notice\ndata: {\"type\":\"session\"}\n\n"
                    break
            if event is not None and event.kind in KINDS and for_delegate(event.data, delegate_id):
                last_sent = now
                yield _without_recipients(event)
            elif now - last_sent >= bus.keepalive_s:
                last_sent = now
                yield ": keep-alive\n\n"
    finally:
        sub.close()

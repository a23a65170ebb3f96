"""Live bus: fan-out, bounded queues with resync, client cap, keep-alive, close; the SSE endpoint."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from controller.live import EventKind, LiveBus, stream

STATIC = Path(__file__).resolve().parents[2] / "controller" / "web" / "static"


def test_fan_out_to_every_subscriber():
    bus = LiveBus()
    a, b = bus.subscribe(), bus.subscribe()
    bus.publish(EventKind.CHECKIN, {"n": 1})
    for sub in (a, b):
        ev = sub.get(timeout=1)
        assert ev.kind == "checkin" and ev.data == {"n": 1}
    assert "event: checkin\n" in ev.sse() and 'data: {"n":1}' in ev.sse()


def test_slow_client_gets_resync_instead_of_unbounded_memory():
    bus = LiveBus(queue_size=4)
    slow = bus.subscribe()
    for i in range(10):
        bus.publish(EventKind.CHECKIN, {"i": i})
    kinds = []
    while (ev := slow.get(timeout=0.05)) is not None:
        kinds.append((ev.kind, ev.data))
    assert len(kinds) <= 4
    assert ("resync", {"reason": "backlog"}) in kinds
    assert slow.dropped > 0


def test_client_cap_and_release():
    bus = LiveBus(max_clients=2)
    a, b = bus.subscribe(), bus.subscribe()
    assert bus.subscribe() is None
    a.close()
    assert bus.subscribe() is not None
    assert b is not None


def test_stream_keeps_alive_then_ends_on_close():
    bus = LiveBus(keepalive_s=0.1)
    sub = bus.subscribe()
    chunks = []
    gen = stream(bus, sub, poll_s=0.05)
    t = threading.Thread(target=lambda: chunks.extend(gen), name="sse-reader")
    t.start()
    bus.publish(EventKind.DEVICE, {"unit_id": "door-1"})
    t.join(0.5)
    bus.close()
    t.join(2)
    assert not t.is_alive()
    text = "".join(chunks)
    assert text.startswith("retry: 3000")
    assert ": keep-alive" in text
    assert json.loads(text.split("event: device\ndata: ")[1].split("\n")[0]) == {"unit_id": "door-1"}
    assert bus.clients == 0


def test_events_endpoint_streams_published_events(app, client, login_as):
    login_as("observer")
    bus = app.extensions["live"]
    resp = client.get("/events", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    it = resp.response
    first = next(it)
    assert b"retry:" in first
    bus.publish(EventKind.CHECKIN, {"checkins": [{"delegate_id": "D1"}], "count": 1})
    body = next(it)
    assert b"event: checkin\n" in body and b"D1" in body
    bus.close()
    resp.close()


def test_events_endpoint_refuses_beyond_the_cap(app, client, login_as):
    login_as("observer")
    bus = app.extensions["live"]
    held = [bus.subscribe() for _ in range(bus.max_clients)]
    r = client.get("/events")
    assert r.status_code == 503 and r.headers["Retry-After"]
    for h in held:
        h.close()


def test_stream_ends_when_the_session_ends():
    bus = LiveBus(keepalive_s=0.05)
    allowed = [True]
    chunks = []
    gen = stream(bus, bus.subscribe(), poll_s=0.02, still_allowed=lambda: allowed[0])
    chunks.append(next(gen))
    allowed[0] = False
    chunks.extend(gen)  # ends by itself, without bus.close()
    assert chunks[0].startswith("retry:") and bus.clients == 0


def test_only_event_kinds_go_on_the_bus():
    bus = LiveBus()
    sub = bus.subscribe()
    bus.publish("enrollment", {"done": 1})  # a known name is taken as its kind
    assert sub.get(timeout=1).kind == EventKind.ENROLLMENT
    with pytest.raises(ValueError):
        bus.publish("checkins", {"n": 1})  # the page listens for no such event


def test_the_pages_listen_only_for_event_kinds_and_hear_every_producer():
    """Every ``Congress.live({...})`` handler in the page scripts is an EventKind, and every kind a
    producer publishes (all but the bench's) has a page listening for it."""
    listened = set()
    for js in STATIC.glob("*.js"):
        for block in re.findall(r"Congress\.live\(\{(.*?)\}\);", js.read_text(), re.S):
            listened |= set(re.findall(r"(?:^|[{,\s])([a-z]+):", block))
    # The delegates' portal listens on its own stream (/p/events) for the kinds its app lists.
    portal = (STATIC.parent / "portal" / "static" / "app.js").read_text()
    listened |= set(re.findall(r'"([a-z]+)"', re.search(r"LIVE_KINDS = \[(.*?)\]", portal).group(1)))
    assert listened <= {k.value for k in EventKind}
    produced = set()
    for py in (STATIC.parents[1]).rglob("*.py"):
        produced |= set(re.findall(r"EventKind\.([A-Z]+)\b", py.read_text()))
    produced -= {"BENCH", "RESYNC"}
    assert {EventKind[k].value for k in produced} <= listened

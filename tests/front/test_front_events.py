"""The delegates' live feed on the front: one bus subscription, audience filtering, slow clients."""

from __future__ import annotations

import threading

import pytest

from controller.front.audience import addressed, for_delegates
from controller.live import Event, EventKind


def _wait(predicate, what: str, tries: int = 400) -> None:
    """Wait until ``predicate()`` holds (each try sleeps on an event, so no wall-clock assert)."""
    pause = threading.Event()
    for _ in range(tries):
        if predicate():
            return
        pause.wait(0.05)
    raise AssertionError(f"never happened: {what}")


def _connected(front, n: int) -> None:
    _wait(lambda: len(front.server.front.hub.clients) == n, f"{n} live clients")


def test_audience_rules():
    assert addressed({}, "D-1") and addressed({"to": "all"}, "D-1")
    assert addressed({"to": ["D-1", "D-2"]}, "D-1") and not addressed({"to": ["D-2"]}, "D-1")
    assert not addressed({"to": []}, "D-1") and addressed({"to": "D-1"}, "D-1")
    assert for_delegates(Event(1, "checkin", {"delegate": "D-1"})) is None
    assert for_delegates(Event(1, "device", {})) is None and for_delegates(Event(1, "audit", {})) is None
    assert for_delegates(Event(1, "notice", {"to": ["D-1"], "title": "x"})) == {"title": "x"}
    documents = Event(1, "documents", {"ref": "SECRETREF", "change": "added"})
    assert for_delegates(documents) == {"change": "added"}


def test_one_subscription_for_all_and_each_event_to_its_audience(front):
    bus = front.server.bus
    before = bus.clients
    streams = {d: front.events(d) for d in ("D-0001", "D-0002", "D-0003")}
    try:
        _connected(front, 3)
        assert bus.clients == before  # the front holds one subscription, whatever the number of tablets
        bus.publish(EventKind.CHECKIN, {"delegate": "D-0002", "name": "Trần Thị Bình"})
        bus.publish(EventKind.NOTICE, {"to": ["D-0001", "D-0003"], "title": "Họp Đoàn Chủ tịch"})
        bus.publish(EventKind.DOCUMENTS, {"ref": "R" * 16, "change": "added"})
        bus.publish(EventKind.NOTICE, {"to": "all", "title": "Giải lao 15 phút"})
        got = {d: [s.next_event(), s.next_event()] for d, s in streams.items() if d != "D-0002"}
        got["D-0002"] = [streams["D-0002"].next_event(), streams["D-0002"].next_event()]
    finally:
        for s in streams.values():
            s.close()
    for d in ("D-0001", "D-0003"):
        assert got[d][0] == ("notice", {"title": "Họp Đoàn Chủ tịch"})
    # D-0002 never sees the check-in (staff only) nor the notice to others: documents, then the notice
    assert got["D-0002"] == [("documents", {"change": "added"}), ("notice", {"title": "Giải lao 15 phút"})]
    _connected(front, 0)


def test_the_feed_is_for_signed_in_delegates(front):
    assert front.get("/p/events")[0] == 401
    forged = front.tokens["D-0001"][:-4] + "AAAA"
    assert front.get("/p/events", headers={"Authorization": f"Badge {forged}"})[0] == 401


def test_the_stream_ends_when_the_controller_stops(tmp_path, venue_ca, password_hash):
    from tests.front.conftest import make_front

    f = make_front(tmp_path, venue_ca, password_hash)
    stream = f.events("D-0001")
    try:
        _connected(f, 1)
        f.server.stop()
        with pytest.raises((EOFError, ConnectionError)):
            while True:
                stream.next_event()
    finally:
        stream.close()


def test_a_tablet_that_stops_reading_holds_up_nobody(tmp_path, venue_ca, password_hash):
    import socket

    from tests.front.conftest import make_front

    f = make_front(tmp_path, venue_ca, password_hash, write_s=1.0)
    try:
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tablet whose window stays shut
        raw.settimeout(20)
        raw.connect(("127.0.0.1", f.port))
        stalled = f.context().wrap_socket(raw)
        stalled.sendall(
            f"GET /p/events HTTP/1.1\r\nHost: x\r\nAuthorization: Badge {f.tokens['D-0002']}\r\n\r\n".encode()
        )
        stalled.recv(100)  # the stream is open; from now on this tablet reads nothing
        reader = f.events("D-0001")
        _connected(f, 2)
        hub = f.server.front.hub
        slow = next(c for c in hub.clients if c.delegate_id == "D-0002")
        seen: list = []

        def read() -> None:
            while seen[-1:] != ["last"]:
                kind, data = reader.next_event()
                if kind == "notice":
                    seen.append(data["n"])

        t = threading.Thread(target=read, daemon=True)
        t.start()
        big, pause, n = "x" * 16_000, threading.Event(), 0
        while slow in hub.clients and n < 20_000:
            for _ in range(20):
                f.server.bus.publish(EventKind.NOTICE, {"n": n, "text": big})
                n += 1
            pause.wait(0.02)
        f.server.bus.publish(EventKind.NOTICE, {"n": "last"})
        t.join(60)
        # the reading tablet got every notice in order; the stalled one lost its backlog, then the line
        assert seen[-1] == "last" and seen[:-1] == sorted(seen[:-1])
        assert slow not in hub.clients and slow.dropped > 0
        reader.close()
        stalled.close()
    finally:
        f.server.stop()


def test_both_delegate_streams_send_the_same_kinds():
    """The front's /p/events and the staff port's (controller.web.portal.events) keep one contract."""
    from controller.front.audience import DELEGATE_KINDS
    from controller.web.portal import events

    assert DELEGATE_KINDS == events.KINDS
    for to in (None, "all", ["D-1"], ["D-2"], []):
        data = {} if to is None else {"to": to}
        assert addressed(data, "D-1") == events.for_delegate(data, "D-1")


def test_a_portal_session_reads_and_follows_until_it_is_revoked(front):
    """Signed in to the portal (its session cookie, no badge token): documents and the live feed on
    the front; revoked by staff, the stream ends and the next document request is refused."""
    auth = front.server.services.portal.auth
    token, _user = auth.sign_in(auth.code_for("D-0002"), "4821", new_pin=True)
    cookie = {"Cookie": f"congress_portal={token}"}
    path = f"/d/{front.refs['delegates']}/file"
    assert front.get(path, headers=cookie)[0] == 200
    conn = front.connection()
    conn.request("GET", "/p/events", headers=cookie)
    r = conn.getresponse()
    assert r.status == 200
    stream = EventStreamOn(r)
    try:
        _connected(front, 1)
        front.server.bus.publish(EventKind.NOTICE, {"title": "Họp tổ"})
        assert stream.next_event() == ("notice", {"title": "Họp tổ"})
        [session] = [x for x in auth.sessions() if x["delegate_id"] == "D-0002"]
        assert auth.revoke(session["public_id"], actor="user:admin")
        assert stream.next_event() == ("notice", {"type": "session"})
        with pytest.raises(EOFError):
            stream.next_event()
    finally:
        conn.close()
    assert front.get(path, headers=cookie)[0] == 404


class EventStreamOn:
    def __init__(self, response) -> None:
        self.response = response
        response.fp.readline()

    def next_event(self):
        from tests.front.conftest import EventStream

        return EventStream.next_event(self)

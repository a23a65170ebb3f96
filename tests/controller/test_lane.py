"""Attendant lane: pending requests, decisions (both backends), the page's routes, and the signed
``open_door`` answer reaching the door unit over the real broker."""

from __future__ import annotations

import datetime as dt
import queue
import threading

import pytest
from sqlalchemy import select

from congress import pki, wire
from congress.config.common import BrokerSection
from controller import audit
from controller.checkins import lane
from controller.checkins.attendance import Passing, apply_checkins
from controller.devices.commands import UnitCommander
from controller.link import ControllerLink
from controller.storage.tables import AuditEntry, CheckIn, CheckInMethod, Delegate, Passage, Presence


def add_request(db, seq=1, delegate="D1", method=CheckInMethod.ATTENDANT) -> int:
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        if s.get(Delegate, delegate) is None:
            s.add(Delegate(id=delegate, name=f"Name {delegate}", delegation="North", consent=True))
            s.flush()
        c = CheckIn(
            unit_id="door-1",
            boot_id="boot-1",
            seq=seq,
            delegate_id=delegate,
            passage=Passage.IN,
            method=method,
            score=0.52,
            event_at=now,
            received_at=now,
            digest="0" * 64,
        )
        s.add(c)
        s.flush()
        apply_checkins(s, [Passing(c.id, delegate, Passage.IN, now, "door-1")])
        return c.id


def test_pending_and_decisions(db):
    a = add_request(db, 1, "D1")
    b = add_request(db, 2, "D2")
    add_request(db, 3, "D3", method=CheckInMethod.FACE)
    with db.session() as s:
        assert [p["id"] for p in lane.pending(s)] == [a, b]
        assert lane.pending(s)[0]["name"] == "Name D1" and lane.pending(s)[0]["score"] == 0.52
    with db.session() as s:
        d = lane.decide(s, a, True, actor="tech")
        assert d == lane.Decided("door-1", "boot-1", "D1", True)
    with db.session() as s:
        lane.decide(s, b, False, actor="tech")
    with db.session() as s:
        assert lane.pending(s) == []
        assert s.get(Presence, "D1").inside is True
        assert s.get(Presence, "D2").inside is False, "a refused passage does not count"
        acts = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
        assert acts == ["lane.confirm", "lane.reject"]
        assert audit.verify(s).ok
    with pytest.raises(lane.LaneError, match="answered already"), db.session() as s:
        lane.decide(s, a, False, actor="tech")
    with pytest.raises(lane.LaneError, match="no such"), db.session() as s:
        lane.decide(s, 99999, True, actor="tech")


def test_lane_routes(app, client, login_as, sqlite_db):
    cid = add_request(sqlite_db)
    token = login_as("technician")
    assert [p["id"] for p in client.get("/api/lane").get_json()["pending"]] == [cid]
    assert b"Name D1" in client.get("/lane").data
    r = client.post(f"/lane/{cid}/reject", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.get_json() == {"ok": True, "accepted": False, "unit_told": False}
    assert client.post(f"/lane/{cid}/confirm", headers={"X-CSRF-Token": token}).status_code == 409
    assert client.get("/api/lane").get_json()["pending"] == []


def test_commander_answer_reaches_the_unit_signed(venue_ca, broker, mqtt_client):
    got: queue.Queue = queue.Queue()
    unit = mqtt_client("door-1")
    unit.on_message = lambda c, u, m: got.put(m.payload)
    subscribed = threading.Event()
    unit.on_subscribe = lambda *a: subscribed.set()
    unit.subscribe(wire.unit_topic(venue_ca.venue, "door-1", wire.Kind.CMD), qos=1)
    section = BrokerSection(
        host="localhost",
        port=broker.port,
        ca_file=venue_ca.ca_cert,
        cert_file=venue_ca.controller_cert,
        key_file=venue_ca.controller_key,
    )
    link = ControllerLink(
        venue_id=venue_ca.venue,
        broker=section,
        signing_key=pki.load_signing_key(venue_ca.controller_signing_key),
        client_id="controller-lane-test",
    ).start()
    cmd = UnitCommander(link)
    try:
        assert subscribed.wait(10)
        cmd.answer(lane.Decided("door-1", "boot-7", "D1", True))
        payload = got.get(timeout=10)
    finally:
        link.stop()
    msg = wire.verify(
        payload,
        topic=wire.unit_topic(venue_ca.venue, "door-1", wire.Kind.CMD),
        venue=venue_ca.venue,
        controller_key=pki.load_public_key(venue_ca.controller_signing_pub),
    )
    assert isinstance(msg, wire.UnitCommand)
    assert msg.command is wire.Command.OPEN_DOOR and msg.unit_boot == "boot-7"
    assert msg.boot == link.counter.boot  # numbered by the controller's one counter
    assert msg.args == {"delegate_id": "D1", "accept": True}


def test_check_in_and_out_by_hand(db):
    """Both backends: a manual record moves presence by the door's rule, is numbered per account,
    is audited, and an unknown delegate is refused with a message for the page."""
    from controller.checkins import manual

    add_request(db, 1, "D1")  # D1 came in through door-1 (attendant request, not answered)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    with db.session() as s:
        out = manual.record(s, "D1", Passage.OUT, actor="tech", now=later)
        assert (out.unit_id, out.boot_id, out.seq, out.method) == ("staff:tech", "manual", 1,
                                                                    CheckInMethod.MANUAL)
    with db.session() as s:
        again = manual.record(s, "D1", Passage.IN, actor="tech", now=later + dt.timedelta(seconds=1))
        other = manual.record(s, "D1", Passage.OUT, actor="chair", now=later - dt.timedelta(minutes=1))
        assert again.seq == 2 and other.seq == 1 and other.unit_id == "staff:chair"
    with db.session() as s:
        presence = s.get(Presence, "D1")
        assert presence.inside is True and presence.unit_id == "staff:tech", "the latest event wins"
        manual_rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "checkins.manual")).all()
        assert len(manual_rows) == 3 and audit.verify(s).ok
    with pytest.raises(manual.ManualError, match="no delegate with id D404") as refused, db.session() as s:
        manual.record(s, "D404", Passage.IN, actor="tech")
    assert refused.value.text.msgid == "no delegate with id %(id)s"


def test_by_hand_route(app, client, login_as, sqlite_db):
    add_request(sqlite_db, 1, "D1")
    token = login_as("technician")
    r = client.post("/lane/manual/out", data={"csrf_token": token, "delegate_id": "D1"})
    assert r.status_code == 302 and "done=out" in r.headers["Location"]
    assert "Name D1 (D1) checked out by hand." in client.get(r.headers["Location"]).get_data(as_text=True)
    sideways = client.post("/lane/manual/sideways", data={"csrf_token": token, "delegate_id": "D1"})
    assert sideways.status_code == 400
    assert client.post("/lane/manual/in", data={"delegate_id": "D1"}).status_code == 400  # no CSRF token
    with sqlite_db.session() as s:
        assert s.get(Presence, "D1").inside is False

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

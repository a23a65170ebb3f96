"""Hostile input from a door unit's own certificate and key (issue "hostile input", items 1 and 2),
against a real Mosquitto and the real ingest on SQLite and PostgreSQL: refusals quote no attacker data,
sizes are checked before parsing, audit rows and log lines stay small, a signed check-in with a time
out of range is refused alone (never its batch), implausible times do not order presence, and a
check-in left retained on the broker is ignored. docs/security.md has the figures."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import queue
import time

import pytest
from sqlalchemy import func, select

from congress import logs, pki, wire
from congress.errors import ProtocolError
from controller import audit
from controller.checkins.ingest import Ingest
from controller.checkins.store import Verified, store_batch
from controller.checkins.unit_registry import UnitRegistry
from controller.storage.tables import AuditEntry, CheckIn, Presence
from tests.controller.test_ingest import controller_link, wait_for

POISON_MS = 2**53 - 1


def checkin(venue_ca, unit: str, seq: int, delegate: str = "D100", *, boot: str = "h" * 32,
            direction: wire.Direction = wire.Direction.IN, wall_time_ms: int | None = None,
            synced: bool = True) -> wire.CheckIn:
    return wire.CheckIn(venue=venue_ca.venue, unit=unit, boot=boot, seq=seq, delegate_id=delegate,
                        direction=direction, method=wire.Method.BADGE, door="north", mono_ms=seq,
                        wall_time_ms=wall_time_ms, clock_synced=synced)


def signed(venue_ca, msg: wire.Message) -> bytes:
    return wire.encode(msg, pki.load_signing_key(venue_ca.unit(msg.unit).signing_key))


def publish(client, topic: str, payload: bytes, *, retain: bool = False) -> None:
    info = client.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(10)
    assert info.is_published()


def audit_rows(db, like: str = "ingest.rejected%") -> list[AuditEntry]:
    with db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like(like))).all()
        s.expunge_all()
        return list(rows)


def count(db, model=CheckIn) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


class Acks:
    """A unit's ack topic, read on the unit's own connection."""

    def __init__(self, client, venue_ca, unit: str) -> None:
        self.q: queue.Queue = queue.Queue()
        key = pki.load_public_key(venue_ca.unit(unit).controller_pub)
        client.on_message = lambda c, u, m: self.q.put(wire.verify(m.payload, topic=m.topic,
                                                                   controller_key=key))
        done: queue.Queue = queue.Queue()
        client.on_subscribe = lambda c, u, mid, rcs, props: done.put(rcs)
        client.subscribe(wire.unit_topic(venue_ca.venue, unit, wire.Kind.ACK), qos=1)
        assert not done.get(timeout=10)[0].is_failure
        self.events: dict[int, wire.AckedEvent] = {}

    def until(self, *seqs: int) -> dict[int, wire.AckedEvent]:
        deadline = time.monotonic() + 20
        while not set(seqs) <= set(self.events) and time.monotonic() < deadline:
            try:
                for e in self.q.get(timeout=0.2).events:
                    self.events[e.seq] = e
            except queue.Empty:
                pass
        assert set(seqs) <= set(self.events), f"acks for {seqs} never came; got {self.events}"
        return self.events


@pytest.fixture
def ingest(db, venue_ca, broker):
    link = controller_link(venue_ca, broker, "controller")
    ing = Ingest(db, UnitRegistry(venue_ca.dir, recheck_s=0.0), link=link)
    ing.start()
    link.start()
    yield ing
    ing.stop()
    link.stop()


# --- item 1: attacker text ------------------------------------------------------------------------------

def test_refusals_quote_only_a_short_escaped_excerpt():
    topic = wire.unit_topic("v1", "door-1", wire.Kind.CHECKIN)
    evil = "A\nFAKE LOG LINE " + "x" * 12_000
    for obj in ({"v": evil}, {"v": 1, "sig": "s", "type": evil, "venue": "v1", "unit": "door-1",
                              "boot": "b", "seq": 1, "body": {}}):
        payload = json.dumps(obj).encode()
        assert len(payload) < wire.MAX_MESSAGE_BYTES
        with pytest.raises(ProtocolError) as err:
            wire.verify(payload, topic=topic, venue="v1", unit_keys={})
        text = err.value.message
        assert len(text) < 200 and "\n" not in text and "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in text
        assert "cut, " in text
    with pytest.raises(ProtocolError) as err:
        wire.verify(b'{"v":' + b"9" * 4000 + b"}", topic=topic, unit_keys={})
    assert len(err.value.message) < 200


def test_the_size_limit_of_the_topic_applies_before_parsing(monkeypatch):
    topic = wire.unit_topic("v1", "door-1", wire.Kind.CHECKIN)
    parsed = []
    monkeypatch.setattr("congress.wire.codec.json.loads", lambda *a, **k: parsed.append(1))
    big = b'{"v":"' + b"a" * (wire.MAX_MESSAGE_BYTES + 10) + b'"}'
    with pytest.raises(ProtocolError) as err:
        wire.verify(big, topic=topic, unit_keys={})
    assert err.value.reason == "oversized" and parsed == []
    assert wire.size_limit(wire.unit_topic("v1", "door-1", wire.Kind.GALLERY)) == wire.MAX_GALLERY_BYTES
    assert wire.size_limit("congress/v1/unit/door-1/gallery/7") == wire.MAX_GALLERY_BYTES
    assert wire.size_limit("congress/v1/site/s1/unit/door-1/status") == wire.MAX_MESSAGE_BYTES


def test_audit_rows_have_a_bounded_size(db):
    with db.session() as s:
        audit.record(s, "ingest", "test.big", {"text": "é\n" * 3_000_000})
        audit.record(s, "ingest", "test.small", {"text": "ok"})
    rows = {r.action: r.detail for r in audit_rows(db, "test.%")}
    assert len(rows["test.big"]) <= audit.MAX_DETAIL_CHARS
    cut = json.loads(rows["test.big"])
    assert cut["cut"] is True and cut["chars"] > 6_000_000 and cut["start"].startswith('{"text": "')
    assert json.loads(rows["test.small"]) == {"text": "ok"}
    with db.session() as s:
        assert audit.verify(s).ok


def test_log_lines_have_a_bounded_size_and_cannot_be_forged():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.BoundedFormatter())
    log = logging.getLogger("test.bounded")
    log.addHandler(handler)
    try:
        log.warning("refused: %s", "A\n2026-01-01 ERROR forged line\r" + "x" * 5_000_000)
    finally:
        log.removeHandler(handler)
    line = out.getvalue()
    assert line.count("\n") == 1 and len(line) <= logs.MAX_MESSAGE_CHARS + 200
    assert "\\x0a2026-01-01" in line and "characters cut]" in line


def test_flood_of_large_messages_from_one_unit_adds_little_to_audit_and_log(db, ingest, mqtt_client,
                                                                             venue_ca):
    unit = mqtt_client("door-1")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.BoundedFormatter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    n, size = 40, 60 * 1024  # two fields: about 120 KiB a message, under the broker packet limit
    try:
        topic = wire.unit_topic(venue_ca.venue, "door-1", wire.Kind.CHECKIN)
        for i in range(n):
            text = (f"attacker text {i} " * (size // 16))[:size]
            publish(unit, topic, json.dumps({"v": text, "type": text}).encode())
        wait_for(lambda: sum(ingest.stats.rejected.values()) == n, what="every message refused")
        wait_for(lambda: not ingest.rejects.pending, what="audit rows written")
    finally:
        root.removeHandler(handler)
    rows = audit_rows(db)
    assert {json.loads(r.detail)["reason"] for r in rows} == {"oversized"}
    assert len(rows) == ingest.rejects.burst
    added = sum(len(r.detail) for r in rows)
    assert added < 600 * len(rows), added  # no row quotes the attacker's text
    assert "attacker text" not in "".join(r.detail for r in rows)
    assert len(out.getvalue()) < 4000 and "attacker text" not in out.getvalue()


# --- item 2: poison check-ins -----------------------------------------------------------------------

def test_a_signed_checkin_with_a_time_out_of_range_is_refused_alone(db, ingest, mqtt_client, venue_ca):
    unit = mqtt_client("door-2")
    acks = Acks(unit, venue_ca, "door-2")
    poison = checkin(venue_ca, "door-2", 1, "D101", wall_time_ms=POISON_MS)
    good = [checkin(venue_ca, "door-2", seq, f"D10{seq}") for seq in (2, 3)]
    for msg in (good[0], poison, good[1]):  # in one batch as far as the ingest can tell
        unit.publish(msg.topic, signed(venue_ca, msg), qos=1)
    got = acks.until(1, 2, 3)
    assert got[1].outcome is wire.AckOutcome.REJECTED and got[1].reason == "malformed"
    assert got[2].outcome is got[3].outcome is wire.AckOutcome.STORED
    with db.session() as s:
        assert sorted(s.scalars(select(CheckIn.delegate_id))) == ["D102", "D103"]
    rows = [json.loads(r.detail) for r in audit_rows(db)]
    assert [(r["unit"], r["reason"]) for r in rows] == [("door-2", "malformed")]
    assert "wall_time_ms" in rows[0]["message"]
    assert ingest.stats.db_errors == 0


def test_times_after_the_arrival_do_not_order_presence(db, venue_ca):
    arrived = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    in_2100 = checkin(venue_ca, "door-1", 1, "D110", wall_time_ms=4_102_444_800_000)  # 2100-01-01
    out_later = checkin(venue_ca, "door-1", 2, "D110", direction=wire.Direction.OUT,
                        wall_time_ms=int(arrived.timestamp() * 1000) + 60_000)
    arrived_ms = int(arrived.timestamp() * 1000)
    weeks_old = checkin(venue_ca, "door-1", 3, "D111", wall_time_ms=arrived_ms - 30 * 86_400_000)
    items = [Verified(in_2100, "a" * 64, arrived),
             Verified(out_later, "b" * 64, arrived + dt.timedelta(minutes=1)),
             Verified(weeks_old, "c" * 64, arrived)]
    assert items[0].event_at == arrived and not items[0].time_trusted
    assert items[1].time_trusted and items[2].event_at == arrived
    with db.session() as s:
        store_batch(s, items[:1], stored_at=arrived)
    with db.session() as s:
        store_batch(s, items[1:], stored_at=arrived)
    with db.session() as s:
        assert not s.get(Presence, "D110").inside  # the real, later "out" wins


def test_a_retained_checkin_is_ignored_after_every_restart(db, venue_ca, broker, mqtt_client):
    unit = mqtt_client("door-1")
    msg = checkin(venue_ca, "door-1", 1, "D120", boot="r" * 32)
    publish(unit, msg.topic, signed(venue_ca, msg), retain=True)  # Mosquitto cannot refuse it per topic
    for _restart in range(2):
        link = controller_link(venue_ca, broker, "controller")
        ing = Ingest(db, UnitRegistry(venue_ca.dir, recheck_s=0.0), link=link)
        ing.start()
        link.start()
        try:
            wait_for(lambda ing=ing: ing.stats.rejected["retained"] == 1, what="retained check-in refused")
            wait_for(lambda ing=ing: not ing.rejects.pending, what="audit row")
        finally:
            ing.stop()
            link.stop()
    assert count(db) == 0
    assert {json.loads(r.detail)["reason"] for r in audit_rows(db)} == {"retained"}

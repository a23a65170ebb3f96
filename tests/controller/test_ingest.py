"""Check-in ingest against a real Mosquitto (TLS, client certificates, ACL) on SQLite and PostgreSQL:
good check-ins stored once and acknowledged after the commit; duplicates acknowledged again; forged,
replayed, unknown-unit, revoked-unit and conflicting messages refused, audited and not stored."""

from __future__ import annotations

import json
import secrets
import shutil
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from congress import pki, wire
from controller.bench.sim_door import SimDoor
from controller.checkins.ingest import Ingest
from controller.checkins.unit_registry import UnitRegistry
from controller.checkins.verify_pool import Refused
from controller.link import BrokerTarget, ControllerLink
from controller.live import EventKind
from controller.storage.tables import AuditEntry, CheckIn, Presence


def wait_for(cond, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def controller_link(venue_ca, broker, client_id: str, identity: str = "controller") -> ControllerLink:
    cert, key = venue_ca.client(identity)
    return ControllerLink(
        venue_id=venue_ca.venue,
        broker=BrokerTarget("localhost", broker.port, str(venue_ca.ca_cert), str(cert), str(key)),
        signing_key=pki.load_signing_key(venue_ca.controller_signing_key),
        client_id=client_id,
    )


@pytest.fixture
def ingest(db, venue_ca, broker):
    link = controller_link(venue_ca, broker, "controller-test")
    ing = Ingest(
        db,
        UnitRegistry(venue_ca.dir, recheck_s=0.0),
        link=link,
        on_status=lambda msg, received: ing.seen_status.append((msg, received)),
        on_live=lambda kind, data: ing.seen_live.append((kind, data)),
    )
    ing.seen_status, ing.seen_live = [], []
    ing.start()
    link.start()
    yield ing
    ing.stop()
    link.stop()


@pytest.fixture
def door(venue_ca, broker):
    made = []

    def make(unit_id: str) -> SimDoor:
        d = SimDoor(venue_ca.unit(unit_id), venue_id=venue_ca.venue, host="localhost", port=broker.port,
                    resend_s=60.0)
        made.append(d.start())
        return d

    yield make
    for d in made:
        d.stop()


def count(db, model=CheckIn) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def rejections(db) -> list[dict]:
    with db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("ingest.rejected%"))).all()
        return [json.loads(r.detail) | {"action": r.action} for r in rows]


def test_checkin_stored_once_and_acked_after_commit(db, ingest, door):
    d = door("door-1")
    seq = d.checkin("D001")
    wait_for(lambda: d.unacked == 0, what="ack")
    assert d.acked[seq][0] is wire.AckOutcome.STORED
    with db.session() as s:
        row = s.scalars(select(CheckIn)).one()
        assert (row.unit_id, row.boot_id, row.seq, row.delegate_id) == ("door-1", d.boot, seq, "D001")
        assert s.get(Presence, "D001").inside
    assert ingest.stats.stored == 1 and ingest.stats.acks_sent == 1
    wait_for(lambda: ingest.seen_live, what="live event")
    kind, data = ingest.seen_live[0]
    assert kind is EventKind.CHECKIN and data["checkins"][0]["delegate_id"] == "D001"


def test_status_goes_to_the_devices_sink_and_is_not_stored(db, ingest, door, venue_ca):
    d = door("door-2")
    key = pki.load_signing_key(venue_ca.unit("door-2").signing_key)
    st = wire.UnitStatus(venue=venue_ca.venue, unit="door-2", boot="s" * 32, seq=1,
                         state=wire.UnitState.READY, uptime_s=12, outbox=3, gallery_version=4, software="t")
    d.publish_raw(st.topic, wire.encode(st, key))
    wait_for(lambda: ingest.seen_status, what="status handed over")
    msg, received = ingest.seen_status[0]
    assert (msg.unit, msg.outbox, msg.gallery_version) == ("door-2", 3, 4) and received.tzinfo is not None
    assert count(db) == 0 and ingest.stats.statuses == 1


def test_duplicate_delivery_stored_once_and_acked_again(db, ingest, door, venue_ca):
    d = door("door-1")
    key = pki.load_signing_key(venue_ca.unit("door-1").signing_key)
    msg = wire.CheckIn(venue=venue_ca.venue, unit="door-1", boot="b" * 32, seq=7, delegate_id="D002",
                       direction=wire.Direction.IN, method=wire.Method.BADGE, door="north", mono_ms=5,
                       clock_synced=False)
    payload = wire.encode(msg, key)
    for _ in range(3):
        d.publish_raw(msg.topic, payload)

    def acked() -> list[wire.AckedEvent]:  # the door's publisher verified these acks
        return [e for e in d.ack_log if e.boot == msg.boot]

    wait_for(lambda: len(acked()) == 3, what="three acks")
    outcomes = sorted(e.outcome.value for e in acked())
    assert outcomes == ["duplicate", "duplicate", "stored"]
    assert count(db) == 1
    assert ingest.stats.duplicates == 2 and ingest.stats.stored == 1


def test_forged_signature_refused_and_audited(db, ingest, door, venue_ca):
    d = door("door-1")
    msg = wire.CheckIn(venue=venue_ca.venue, unit="door-1", boot="f" * 32, seq=1, delegate_id="D003",
                       direction=wire.Direction.IN, method=wire.Method.FACE, door="north", score=0.9)
    forged = wire.encode(msg, Ed25519PrivateKey.generate())
    d.publish_raw(msg.topic, forged)
    wait_for(lambda: ingest.stats.rejected["bad_signature"] == 1, what="rejection")
    time.sleep(0.3)
    assert count(db) == 0
    rows = rejections(db)
    assert [(r["unit"], r["reason"]) for r in rows] == [("door-1", "bad_signature")]
    assert d.ack_log == [] and ingest.stats.acks_sent == 0  # a forgery gets no ack


def test_replay_of_another_units_message_refused(db, ingest, door, venue_ca):
    d1, d2 = door("door-1"), door("door-2")
    key = pki.load_signing_key(venue_ca.unit("door-1").signing_key)
    genuine = wire.CheckIn(venue=venue_ca.venue, unit="door-1", boot="c" * 32, seq=1, delegate_id="D004",
                           direction=wire.Direction.IN, method=wire.Method.FACE, door="north", score=0.8)
    payload = wire.encode(genuine, key)
    # door-2 captured door-1's message and replays it on its own topic (the ACL allows only that).
    d2.publish_raw(wire.unit_topic(venue_ca.venue, "door-2", wire.Kind.CHECKIN), payload)
    wait_for(lambda: ingest.stats.rejected["topic_mismatch"] == 1, what="replay rejection")
    assert count(db) == 0
    assert [(r["unit"], r["reason"]) for r in rejections(db)] == [("door-2", "topic_mismatch")]
    d1.publish_raw(genuine.topic, payload)  # the genuine one is still accepted
    wait_for(lambda: count(db) == 1, what="genuine stored")


def test_conflicting_event_id_refused(db, ingest, door, venue_ca):
    d = door("door-1")
    key = pki.load_signing_key(venue_ca.unit("door-1").signing_key)
    base = dict(venue=venue_ca.venue, unit="door-1", boot="d" * 32, seq=3, direction=wire.Direction.IN,
                method=wire.Method.FACE, door="north", score=0.8)
    d.publish_raw(wire.unit_topic(venue_ca.venue, "door-1", "checkin"),
                  wire.encode(wire.CheckIn(**base, delegate_id="D005"), key))
    wait_for(lambda: count(db) == 1, what="first stored")
    d.publish_raw(wire.unit_topic(venue_ca.venue, "door-1", "checkin"),
                  wire.encode(wire.CheckIn(**base, delegate_id="D006"), key))
    wait_for(lambda: ingest.stats.rejected["conflict"] == 1, what="conflict")
    with db.session() as s:
        assert s.scalars(select(CheckIn.delegate_id)).all() == ["D005"]
    assert [r["reason"] for r in rejections(db)] == ["conflict"]


def test_unknown_and_revoked_units_refused(db, venue_ca, broker, door, tmp_path):
    # The controller's copy of the CA predates unit door-new: the broker accepts it, the controller not.
    snapshot = tmp_path / "ca-copy"
    shutil.copytree(venue_ca.dir, snapshot, ignore=shutil.ignore_patterns("ca.key", ".lock"))
    new_id, rv_id = f"door-new-{secrets.token_hex(3)}", f"door-rv-{secrets.token_hex(3)}"
    venue_ca.unit(new_id)
    venue_ca.unit(rv_id)
    links = [controller_link(venue_ca, broker, "controller"),
             controller_link(venue_ca, broker, "controller-2", identity="controller-2")]
    ing = Ingest(db, UnitRegistry(venue_ca.dir, recheck_s=0.0), link=links[0])
    unknown = Ingest(db, UnitRegistry(snapshot, recheck_s=0.0), link=links[1])
    ing.start()
    unknown.start()
    for link in links:
        link.start()
    try:
        new, rv = door(new_id), door(rv_id)
        pki.revoke(venue_ca.dir, rv_id)  # the broker keeps the open connection; the controller refuses
        rv.checkin("D007")
        new.checkin("D008")
        wait_for(lambda: unknown.stats.rejected["unknown_unit"] >= 1, what="unknown unit")
        wait_for(lambda: ing.stats.rejected["revoked_unit"] == 1, what="revoked unit")
        with db.session() as s:
            stored = s.scalars(select(CheckIn.delegate_id)).all()
        assert "D007" not in stored
        # the counters move when a refusal is noted, its audit row commits with the ingest's batch
        wanted = {(new_id, "unknown_unit"), (rv_id, "revoked_unit")}
        wait_for(lambda: wanted <= {(r["unit"], r["reason"]) for r in rejections(db)}, what="audit rows")
    finally:
        ing.stop()
        unknown.stop()
        for link in links:
            link.stop()


def test_flood_of_forgeries_fills_no_disk(db, ingest, door, venue_ca):
    d = door("door-2")
    msg = wire.CheckIn(venue=venue_ca.venue, unit="door-2", boot="e" * 32, seq=1, delegate_id="D009",
                       direction=wire.Direction.IN, method=wire.Method.FACE, door="north", score=0.9)
    forger = Ed25519PrivateKey.generate()
    for i in range(300):
        fake = wire.CheckIn(**{**msg.__dict__, "seq": i + 1})
        d.publish_raw(msg.topic, wire.encode(fake, forger), wait=False)
    wait_for(lambda: ingest.stats.rejected["bad_signature"] == 300, what="300 rejections")
    assert count(db) == 0
    assert len(rejections(db)) == ingest.rejects.burst == 5


def test_reject_audit_summarises_what_it_held_back(db):
    from controller.checkins.reject_audit import RejectAudit

    now = [0.0]
    ra = RejectAudit(burst=2, window_s=60, clock=lambda: now[0])
    written = [ra.note("door-9", "bad_signature", {"message": f"forged {i}"}) for i in range(50)]
    assert written.count(True) == 2
    with db.session() as s:
        assert ra.flush(s) == 2
    assert not ra.due()
    now[0] = 61.0
    assert ra.due()
    with db.session() as s:
        assert ra.flush(s) == 1
    assert not ra.due()
    rows = rejections(db)
    assert [r["action"] for r in rows] == ["ingest.rejected"] * 2 + ["ingest.rejected.suppressed"]
    assert rows[-1]["count"] == 48 and rows[-1]["last"] == "forged 49"


def test_verify_pool_gives_the_same_verdicts_as_the_ingest_thread(venue_ca):
    from controller.checkins.verify_pool import VerifyPool, verify_all

    key = pki.load_signing_key(venue_ca.unit("door-1").signing_key)
    items = []
    for i in range(100):
        m = wire.CheckIn(venue=venue_ca.venue, unit="door-1", boot="p" * 32, seq=i + 1, delegate_id=f"D{i}",
                         direction=wire.Direction.IN, method=wire.Method.FACE, door="north", score=0.7)
        signer = key if i % 10 else Ed25519PrivateKey.generate()  # every tenth one forged
        items.append((m.topic, wire.encode(m, signer)))
    items.append((wire.unit_topic(venue_ca.venue, "door-2", "checkin"), items[1][1]))  # replayed
    registry = UnitRegistry(venue_ca.dir)
    pool = VerifyPool(venue_ca.dir, venue_ca.venue, 2)
    try:
        pooled = pool.verify(items, venue_ca.venue, registry)
    finally:
        pool.close()
    local = verify_all(items, venue_ca.venue, registry)

    def verdict(r):
        return r.reason if isinstance(r, Refused) else (r.unit, r.seq, r.delegate_id)

    assert [verdict(r) for r in pooled] == [verdict(r) for r in local]
    assert [verdict(r) for r in pooled].count("bad_signature") == 10
    assert verdict(pooled[-1]) == "topic_mismatch"


def test_store_batch_dispositions_within_and_across_batches(db, venue_ca):
    import datetime as dt
    import hashlib

    from controller.checkins.store import Disposition, Verified, store_batch

    key = pki.load_signing_key(venue_ca.unit("door-1").signing_key)
    now = dt.datetime.now(dt.UTC)

    def item(seq: int, who: str) -> Verified:
        m = wire.CheckIn(venue=venue_ca.venue, unit="door-1", boot="q" * 32, seq=seq, delegate_id=who,
                         direction=wire.Direction.IN, method=wire.Method.BADGE, door="n")
        return Verified(m, hashlib.sha256(wire.encode(m, key)).hexdigest(), now)

    a, b, b_other = item(1, "A"), item(2, "B"), item(2, "B-forged")
    with db.session() as s:
        first = store_batch(s, [a, a, b, b_other], stored_at=now)
    assert [r.disposition for r in first] == [Disposition.STORED, Disposition.DUPLICATE,
                                              Disposition.STORED, Disposition.CONFLICT]
    with db.session() as s:
        second = store_batch(s, [item(1, "A"), item(3, "C"), b_other], stored_at=now)
    assert [r.disposition for r in second] == [Disposition.DUPLICATE, Disposition.STORED,
                                               Disposition.CONFLICT]
    with db.session() as s:
        assert sorted(s.scalars(select(CheckIn.delegate_id))) == ["A", "B", "C"]
        assert {p.delegate_id for p in s.scalars(select(Presence))} == {"A", "B", "C"}


def test_verify_pool_survives_a_killed_worker(venue_ca, monkeypatch):
    import os
    import signal

    from controller.checkins import verify_pool

    key = pki.load_signing_key(venue_ca.unit("door-1").signing_key)
    items = []
    for i in range(80):
        m = wire.CheckIn(venue=venue_ca.venue, unit="door-1", boot="k" * 32, seq=i + 1, delegate_id="D",
                         direction=wire.Direction.IN, method=wire.Method.BADGE, door="n")
        items.append((m.topic, wire.encode(m, key)))
    registry = UnitRegistry(venue_ca.dir)
    pool = verify_pool.VerifyPool(venue_ca.dir, venue_ca.venue, 2)
    try:
        victim = next(iter(pool._ex._processes))
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.5)
        got = pool.verify(items, venue_ca.venue, registry)  # falls back to the calling thread
        assert [m.seq for m in got] == list(range(1, 81))
        monkeypatch.setattr(verify_pool, "RESTART_AFTER_S", 0.0)
        got = pool.verify(items, venue_ca.venue, registry)  # new workers
        assert pool.restarts == 1 and len(got) == 80 and pool._ex is not None
    finally:
        pool.close()


def test_bench_doors_run_the_door_units_own_outbox_and_publisher(door):
    import edge.main
    from congress.link.outbox import Outbox
    from congress.link.publisher import Publisher

    d = door("door-1")
    assert type(d.publisher) is Publisher is edge.main.Publisher
    assert type(d.outbox) is Outbox is edge.main.Outbox
    assert d.publisher.outbox is d.outbox and d.publisher.heartbeat_s is None  # check-ins only
    seq = d.checkin("D010")  # no ingest runs here: nobody acknowledges it
    wait_for(lambda: seq in d.sent_at, what="the publisher sent it")
    assert [e.seq for e in d.outbox.pending()] == [seq]  # kept in the outbox until an ack names it

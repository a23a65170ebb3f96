"""Simulator -> real pty -> reader -> ballots: counting, acks, replay after restart, unplug/replug."""

from __future__ import annotations

from sqlalchemy import func, select

from congress.keypads import protocol as p
from congress.keypads.simulator import seeded_plan
from controller.voting.keypad_reader import KeypadReader
from controller.voting.keypad_store import KeypadStore
from controller.voting.tables import BallotKind, BallotParticipation

from .conftest import wait_for


def participants(db, bid):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(BallotParticipation)
                        .where(BallotParticipation.ballot_id == bid))


def test_votes_are_counted_and_acknowledged_with_receipts(sim, reader, ballots, kdb):
    bid = ballots.create("Motion 1", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    assert sim.wait_host_frames(2)  # hello request, then the ballot announcement
    ann = [f for f in sim.host_frames if isinstance(f, p.BallotAnnounce)]
    assert ann == [p.BallotAnnounce(bid, p.BallotState.OPEN, 1, 1, 3)]
    plan = seeded_plan(5, range(1, 21), n_options=3)
    sim.run_plan(bid, plan)
    assert sim.wait_acks(20)
    by_kid = {kid: a.status for (kid, _), a in sim.acks.items()}
    assert all(by_kid[k] == p.AckStatus.ACCEPTED for k in range(1, 19))
    assert by_kid[19] == by_kid[20] == p.AckStatus.NOT_ELIGIBLE  # not checked in
    assert all(0 <= a.receipt <= 9999 for a in sim.acks.values())
    r = ballots.close(bid, actor="chair")
    expected = [sum(1 for k in range(1, 19) if plan[k] == {o}) for o in (1, 2, 3)]
    assert [r.counts[n] for n in ("Yes", "No", "Abstain")] == expected


def test_status_frames_update_keypad_health(sim, reader, kdb):
    sim.status(3, battery=12, rssi=-81)
    assert sim.wait_acks(1)
    wait_for(lambda: any(h["keypad_id"] == 3 and h["battery_pct"] == 12 for h in KeypadStore(kdb).health()))
    row = next(h for h in KeypadStore(kdb).health() if h["keypad_id"] == 3)
    assert row["rssi_dbm"] == -81 and row["alarm"] == "battery low" and row["delegate_id"] == "d0003"


def test_replay_is_rejected_even_after_a_restart(sim, reader, ballots, kdb, keys, caplog):
    bid = ballots.create("Replay", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    ctr = sim.next_counter(4)
    frame = p.encode_vote(keys.sealer(4), 4, ctr, bid, {1})
    sim.write(frame)
    assert sim.wait_acks(1)
    assert KeypadStore(kdb).counter(4) == ctr  # on disk before the ack went out
    with reader.db.engine.connect() as c:  # the reader's own engine commits with fsync
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert reader.db.engine.hide_parameters
    reader.stop()
    fresh = KeypadReader(sim.port, keys, kdb, ballots, retry_s=0.05).start()
    try:
        assert fresh.connected.wait(10)
        sim.write(frame)  # a recorded frame, played again after the restart
        old = p.encode_vote(keys.sealer(5), 5, 0, bid, {2})  # counter 0 was never valid
        sim.write(old)
        wait_for(lambda: fresh.stats["rejected.replay"] == 2, what="replay rejections")
        assert participants(kdb, bid) == 1 and len(sim.acks) == 1
        assert "keypad frame rejected (replay): keypad 4: counter 1 <= 1" in caplog.text
        sim.vote(5, bid, {2})  # the next counter is fine
        assert sim.wait_acks(2)
        assert participants(kdb, bid) == 2
    finally:
        fresh.stop()


def test_reconnects_after_the_base_station_is_unplugged(sim, reader, ballots, kdb, caplog):
    bid = ballots.create("Unplug", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    sim.vote(1, bid, {1})
    assert sim.wait_acks(1)
    old_tty = sim.slave_path
    sim.unplug()
    wait_for(lambda: not reader.connected.is_set(), what="reader noticing the unplug")
    sim.replug()
    wait_for(lambda: reader.stats["connects"] == 2, what="reconnect")
    assert reader.connected.wait(5)
    sim.vote(2, bid, {2})
    assert sim.wait_acks(2)
    assert participants(kdb, bid) == 2
    assert "lost" in caplog.text and reader.stats["disconnects"] == 1
    assert old_tty  # the new pty may have another name; the reader followed the link


def test_repoll_reaches_the_keypads_not_heard(sim, reader, ballots, kdb):
    bid = ballots.create("Repoll", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    for kid in (1, 2, 3):
        sim.vote(kid, bid, {1})
    assert sim.wait_acks(3)
    missing = ballots.progress(bid)["not_heard"]
    assert missing == list(range(4, 19))
    reader.repoll(bid, missing)
    wait_for(lambda: any(isinstance(f, p.Repoll) for f in sim.host_frames), what="re-poll frame")
    assert next(f for f in sim.host_frames if isinstance(f, p.Repoll)).keypad_ids == tuple(missing)
    assert sim.wait_acks(3 + len(missing))  # each keypad answered (status: it has not voted)

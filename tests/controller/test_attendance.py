"""Attendance and quorum on both storage backends: latest check-in by event order wins, quorum rules,
roll call by delegation, the attendance-over-time series."""

from __future__ import annotations

import datetime as dt

import pytest

from congress.errors import ConfigError
from controller.checkins.attendance import (
    Passing,
    QuorumPolicy,
    QuorumRule,
    apply_checkins,
    present_ids,
    quorum,
    roll_call,
    timeline,
)
from controller.storage.tables import CheckIn, CheckInMethod, Delegate, Passage

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def add_delegates(db, n: int, *, unsummoned: int = 0) -> None:
    with db.session() as s:
        for i in range(n):
            s.add(
                Delegate(
                    id=f"D{i:03d}",
                    name=f"Delegate {i}",
                    delegation="ABC"[i % 3],
                    seat=f"S{i}",
                    summoned=i >= unsummoned,
                )
            )


def checkin(db, unit: str, seq: int, who: str, passage: Passage, minutes: float) -> None:
    """Store one check-in row and apply it to presence, as the ingest does, in one transaction."""
    at = T0 + dt.timedelta(minutes=minutes)
    with db.session() as s:
        row = CheckIn(
            unit_id=unit,
            boot_id="b1",
            seq=seq,
            delegate_id=who,
            passage=passage,
            method=CheckInMethod.FACE,
            score=0.9,
            event_at=at,
            received_at=at,
            digest="0" * 64,
        )
        s.add(row)
        s.flush()
        apply_checkins(s, [Passing(row.id, who, passage, at, unit)])


def test_policy_parse_and_required_counts():
    assert QuorumPolicy.parse("two-thirds").required(300) == 200
    assert QuorumPolicy.parse("two-thirds").required(301) == 201
    assert QuorumPolicy.parse("majority").required(300) == 151
    assert QuorumPolicy.parse("majority").required(301) == 151
    p = QuorumPolicy.parse("fixed:120")
    assert p.rule is QuorumRule.FIXED and p.required(10) == 120 and str(p) == "fixed:120"
    for bad in ("most", "fixed:0", "fixed:x"):
        with pytest.raises(ConfigError):
            QuorumPolicy.parse(bad)


def test_latest_event_wins_even_when_delivered_late(db):
    add_delegates(db, 3)
    checkin(db, "north", 1, "D000", Passage.IN, 0)
    checkin(db, "south", 1, "D000", Passage.IN, 30)
    # The north door's "out" happened at minute 10 but arrives after the minute-30 "in".
    checkin(db, "north", 2, "D000", Passage.OUT, 10)
    checkin(db, "north", 3, "D001", Passage.IN, 5)
    checkin(db, "north", 4, "D001", Passage.OUT, 20)
    with db.session() as s:
        assert present_ids(s) == {"D000"}


def test_quorum_rules_count_summoned_delegates(db):
    add_delegates(db, 9, unsummoned=3)  # D000..D002 not summoned; six summoned
    for i in range(3, 7):  # four summoned delegates in
        checkin(db, "north", i, f"D{i:03d}", Passage.IN, i)
    checkin(db, "north", 20, "D000", Passage.IN, 8)  # present but not summoned: does not count
    checkin(db, "north", 21, "NOT-ON-ROSTER", Passage.IN, 8)
    with db.session() as s:
        two_thirds = quorum(s, QuorumPolicy())
        assert (two_thirds.summoned, two_thirds.present, two_thirds.present_summoned) == (6, 5, 4)
        assert two_thirds.required == 4 and two_thirds.reached
        assert not quorum(s, QuorumPolicy.parse("fixed:5")).reached
        assert quorum(s, QuorumPolicy.parse("majority")).reached
    checkin(db, "north", 30, "D006", Passage.OUT, 9)
    with db.session() as s:
        assert not quorum(s, QuorumPolicy()).reached
        assert quorum(s, QuorumPolicy.parse("majority")).required == 4


def test_empty_roster_has_no_quorum(db):
    with db.session() as s:
        st = quorum(s, QuorumPolicy())
        assert st.summoned == 0 and not st.reached


def test_roll_call_groups_by_delegation(db):
    add_delegates(db, 6)
    checkin(db, "north", 1, "D000", Passage.IN, 1)
    checkin(db, "north", 2, "D003", Passage.IN, 1)
    checkin(db, "north", 3, "D001", Passage.IN, 1)
    with db.session() as s:
        groups = {g["delegation"]: g for g in roll_call(s)}
    assert sorted(groups) == ["A", "B", "C"]
    assert groups["A"]["present"] == 2 and groups["A"]["summoned"] == 2
    assert groups["B"]["present"] == 1 and groups["C"]["present"] == 0
    assert {m["id"]: m["present"] for m in groups["B"]["members"]} == {"D001": True, "D004": False}


def test_timeline_replays_in_event_order(db):
    add_delegates(db, 3)
    checkin(db, "north", 1, "D000", Passage.IN, 1)
    checkin(db, "north", 2, "D001", Passage.IN, 2)
    checkin(db, "north", 3, "D002", Passage.IN, 7)
    checkin(db, "north", 4, "D000", Passage.OUT, 12)
    checkin(db, "north", 5, "D000", Passage.IN, 4)  # duplicate "in" earlier: no double count
    checkin(db, "south", 6, "D000", Passage.IN, 14)
    with db.session() as s:
        series = timeline(s, bucket_s=300, until=T0 + dt.timedelta(minutes=16))
    # starts at the first bucket's start with nobody, ends at `until` itself, never in the future
    assert [p["t"][11:16] for p in series] == ["09:00", "09:05", "09:10", "09:15", "09:16"]
    assert [p["present"] for p in series] == [0, 2, 3, 3, 3]
    assert [p["arrivals"] for p in series] == [0, 2, 1, 1, 0]
    assert series[3]["by_door"] == {"south": 1} and series[1]["by_door"] == {"north": 2}


def test_automatic_interval_keeps_a_short_roll_call_readable(db):
    from controller.checkins.attendance import auto_bucket

    add_delegates(db, 2)
    with db.session() as s:
        assert auto_bucket(s) == 10  # nobody yet
    checkin(db, "north", 1, "D000", Passage.IN, 1)
    with db.session() as s:
        assert auto_bucket(s, now=T0 + dt.timedelta(minutes=4)) == 10  # 3 min: 18 points of 10 s
        assert auto_bucket(s, now=T0 + dt.timedelta(minutes=31)) == 30
        assert auto_bucket(s, now=T0 + dt.timedelta(hours=3)) == 300
        assert auto_bucket(s, now=T0 + dt.timedelta(days=9)) == 3600

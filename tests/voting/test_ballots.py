"""Ballots on both backends: eligibility, once only, vote change, quorum, lost keypads, progress."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from congress.keypads.protocol import AckStatus, BallotState, VoteFrame
from controller import audit
from controller.checkins.attendance import QuorumPolicy
from controller.storage.tables import AuditEntry, Passage
from controller.voting.assignment import AssignmentError, Assignments, BallotOpenError
from controller.voting.ballots import BallotError, Ballots
from controller.voting.rebinds import Rebinds
from controller.voting.tables import BallotKind, BallotParticipation, MajorityRule, NamedVote

_ctr = iter(range(1, 10**9))


def vote(ballots, db, kid, ballot, *choices):
    with db.session() as s:
        return ballots.record_vote(s, VoteFrame(kid, next(_ctr), ballot, frozenset(choices)))


@pytest.fixture
def hall(db, roster):
    """10 delegates, keypads 101..110 by seat, 8 checked in."""
    ids = roster.add(10)
    Assignments(db).assign_by_seat({f"S{i:04d}": 100 + i for i in range(1, 11)}, actor="tech")
    roster.check_in(ids[:8])
    return ids


def test_only_checked_in_delegates_with_a_keypad_vote_once(db, roster, hall):
    announced = []
    ballots = Ballots(db, QuorumPolicy.parse("majority"), announce=announced.append)
    bid = ballots.create("Adopt the agenda", BallotKind.MOTION, actor="chair")
    assert vote(ballots, db, 101, bid, 1) == AckStatus.NO_BALLOT  # not open yet
    info = ballots.open(bid, actor="chair")
    assert info["eligible"] == 8 and announced[-1].state == BallotState.OPEN
    assert vote(ballots, db, 101, bid, 1) == AckStatus.ACCEPTED
    assert vote(ballots, db, 109, bid, 1) == AckStatus.NOT_ELIGIBLE  # not checked in
    assert vote(ballots, db, 999, bid, 1) == AckStatus.NOT_ELIGIBLE  # keypad of nobody
    assert vote(ballots, db, 102, bid, 7) == AckStatus.BAD_CHOICE
    assert vote(ballots, db, 102, bid, 2) == AckStatus.ACCEPTED
    assert vote(ballots, db, 102, bid, 1) == AckStatus.CHANGED  # named ballot, change allowed
    assert vote(ballots, db, 102, bid, 1) == AckStatus.ACCEPTED  # same again: no change
    assert vote(ballots, db, 103, bid, 1, 2) == AckStatus.INVALID_COUNTED
    roster.check_in(["d0004"], Passage.OUT)
    assert vote(ballots, db, 104, bid, 1) == AckStatus.NOT_ELIGIBLE  # left the hall
    p = ballots.progress(bid)
    assert (p["received"], p["eligible"]) == (3, 7)
    assert p["not_heard"] == [105, 106, 107, 108]
    r = ballots.close(bid, actor="chair")
    assert r.counts == {"Yes": 2, "No": 0, "Abstain": 0} and r.invalid == 1 and r.passed
    assert vote(ballots, db, 105, bid, 1) == AckStatus.NO_BALLOT
    with db.session() as s:
        actions = s.scalars(select(AuditEntry.action)).all()
        assert audit.verify(s).ok
    assert {"ballot.create", "ballot.open", "ballot.close"} <= set(actions)


def test_no_change_when_not_allowed_and_never_in_secret(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    named = ballots.create("Named, final", BallotKind.MOTION, allow_change=False, actor="chair")
    ballots.open(named, actor="chair")
    assert vote(ballots, db, 101, named, 1) == AckStatus.ACCEPTED
    assert vote(ballots, db, 101, named, 2) == AckStatus.ALREADY_VOTED
    ballots.close(named, actor="chair")
    secret = ballots.create("Secret", BallotKind.MOTION, secret=True, allow_change=True, actor="chair")
    assert ballots.get(secret).allow_change is False
    ballots.open(secret, actor="chair")
    assert vote(ballots, db, 101, secret, 1) == AckStatus.ACCEPTED
    assert vote(ballots, db, 101, secret, 2) == AckStatus.ALREADY_VOTED
    assert ballots.close(secret, actor="chair").counts["Yes"] == 1


def test_quorum_is_checked_when_a_ballot_opens(db, roster, hall):
    ballots = Ballots(db, QuorumPolicy.parse("fixed:9"))
    bid = ballots.create("Needs nine", BallotKind.MOTION, actor="chair")
    with pytest.raises(BallotError, match="no quorum: 8 present of 9 required"):
        ballots.open(bid, actor="chair")
    info = ballots.open(bid, actor="chair", allow_without_quorum=True)
    assert info["quorum"]["reached"] is False
    other = ballots.create("Second", BallotKind.MOTION, actor="chair")
    with pytest.raises(BallotError, match="another ballot is open"):
        ballots.open(other, actor="chair", allow_without_quorum=True)


def test_lost_keypad_and_rebind_cannot_vote_twice(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    assign = Assignments(db)
    bid = ballots.create("Lost keypad", BallotKind.MOTION, allow_change=False, actor="chair")
    ballots.open(bid, actor="chair")
    assert vote(ballots, db, 101, bid, 1) == AckStatus.ACCEPTED
    assign.report_lost(101, actor="tech")
    assert vote(ballots, db, 101, bid, 2) == AckStatus.NOT_ELIGIBLE
    # A spare keypad for the same delegate: while the ballot is open the chair confirms it.
    with pytest.raises(BallotOpenError):
        assign.bind(201, "d0001", actor="tech")
    rebinds = Rebinds(db)
    out = rebinds.confirm(rebinds.request(201, "d0001", actor="tech")["pending"], actor="chair")
    assert out["released"] == 101 and assign.holder(101) is None
    assert vote(ballots, db, 201, bid, 2) == AckStatus.ALREADY_VOTED
    with pytest.raises(AssignmentError, match="cannot be swapped"):
        assign.swap(102, 103, actor="tech")
    ballots.close(bid, actor="chair")
    assign.swap(102, 103, actor="tech")
    assert (assign.holder(102), assign.holder(103)) == ("d0003", "d0002")
    with pytest.raises(AssignmentError, match="held by delegate"):
        assign.bind(102, "d0005", actor="tech")
    with pytest.raises(AssignmentError, match="not checked in"):
        assign.bind_at_checkin(301, "d0010", actor="door")
    assert assign.bind_at_checkin(301, "d0005", actor="door")["mode"] == "door"
    with db.session() as s:
        actions = s.scalars(select(AuditEntry.action)).all()
    assert {"keypad.lost", "keypad.bind", "keypad.swap", "keypad.rebind.request",
            "keypad.rebind.confirm"} <= set(actions)


def test_election_extend_close_and_named_rows(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    bid = ballots.create("Board", BallotKind.ELECTION, options=["A", "B", "C", "D"], seats=2,
                         rule=MajorityRule.SIMPLE, actor="chair")
    with pytest.raises(BallotError, match="positive"):
        ballots.open(bid, actor="chair", duration_s=-5)
    ballots.open(bid, actor="chair", duration_s=60)
    with pytest.raises(BallotError, match="positive"):
        ballots.extend(bid, -30, actor="chair")
    before = ballots.progress(bid)["closes_at"]
    ballots.extend(bid, 120, actor="chair")
    assert ballots.progress(bid)["closes_at"] > before
    for kid, ch in [(101, (1, 2)), (102, (1,)), (103, (1, 2, 3)), (104, ()), (105, (2, 4))]:
        vote(ballots, db, kid, bid, *ch)
    r = ballots.close(bid, actor="chair")
    assert r.counts == {"A": 2, "B": 2, "C": 0, "D": 1}
    assert (r.valid, r.invalid, r.blank) == (4, 1, 1) and r.elected == ["A", "B"]
    with db.session() as s:
        assert s.scalar(select(NamedVote.invalid).where(NamedVote.delegate_id == "d0003")) is True
        assert len(s.scalars(select(BallotParticipation)).all()) == 5
    assert ballots.get(bid).result["elected"] == ["A", "B"]
    assert ballots.recount(bid) == {1: 2, 2: 2, 4: 1, 0: 4, -1: 1, -2: 1}  # counters == individual votes


@pytest.mark.parametrize(("title", "options", "seats", "match"), [
    ("", None, 1, "title"),
    ("x" * 301, None, 1, "title"),
    ("Board", ["A", "A"], 1, "distinct"),
    ("Board", ["A", "B"], 3, "seats"),
    ("Board", [], 1, "candidates"),
])
def test_bad_ballots_are_refused(db, title, options, seats, match):
    kind = BallotKind.MOTION if options is None else BallotKind.ELECTION
    with pytest.raises(BallotError, match=match):
        Ballots(db).create(title, kind, options=options, seats=seats, actor="chair")


def test_expired_ballot_refuses_votes_and_closes(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    bid = ballots.create("Short", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair", duration_s=1)
    with db.session() as s:
        from controller.storage.database import utcnow
        from controller.voting.tables import Ballot
        s.get(Ballot, bid).closes_at = utcnow()
    assert vote(ballots, db, 101, bid, 1) == AckStatus.NO_BALLOT
    assert ballots.expire_due() == [bid]
    assert ballots.get(bid).status.value == "closed"


def test_full_32_bit_keypad_ids_and_counters(db, hall):
    from congress.keypads import protocol as p
    from congress.keypads.keystore import KeyStore
    from controller.voting.keypad_reader import KeypadReader
    from controller.voting.keypad_store import KeypadStore

    big = 2**32 - 1
    keys = KeyStore.generate([big])
    Assignments(db).bind(big, "d0001", actor="tech")
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    bid = ballots.create("Big ids", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    reader = KeypadReader("/dev/null", keys, db, ballots)
    try:
        reader.ingest(p.encode_vote(keys.sealer(big), big, big - 1, bid, {1}))
    finally:
        reader.db.dispose()
    assert KeypadStore(db).counter(big) == big - 1
    assert ballots.progress(bid)["received"] == 1 and reader.stats["vote.accepted"] == 1

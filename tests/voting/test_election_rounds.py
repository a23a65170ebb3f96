"""Elections over rounds on both backends: a tie at the last seat and an unfilled seat lead to a further
round drafted for the chair (remaining seats, eligible candidates), every round kept in the record;
the strike-out form counted from keypads; choices between options; the page prepares the round."""

from __future__ import annotations

import pytest

from congress.keypads.protocol import AckStatus, VoteFrame
from controller.checkins.attendance import QuorumPolicy
from controller.voting.assignment import Assignments
from controller.voting.ballots import BallotError, Ballots
from controller.voting.elections import Elections
from controller.voting.tables import BallotForm, BallotKind, MajorityBase, MajorityRule

_ctr = iter(range(1, 10**9))


def vote(ballots, db, kid, ballot, *choices):
    with db.session() as s:
        return ballots.record_vote(s, VoteFrame(kid, next(_ctr), ballot, frozenset(choices)))


@pytest.fixture
def hall(db, roster):
    """10 delegates, all checked in, keypads 101..110 by seat."""
    ids = roster.add(10)
    Assignments(db).assign_by_seat({f"S{i:04d}": 100 + i for i in range(1, 11)}, actor="tech")
    roster.check_in(ids)
    return ids


def test_a_tie_and_an_unfilled_seat_are_settled_in_round_two(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    elections = Elections(ballots)
    bid = ballots.create("Ban Kiểm tra", BallotKind.ELECTION, options=["An", "Bình", "Châu", "Dũng"], seats=3,
                         secret=True, rule=MajorityRule.ABSOLUTE, base=MajorityBase.VALID, actor="chair")
    ballots.open(bid, actor="chair")
    # An 8 (elected), Bình 5 and Châu 5 (tied, more than half of 10 valid: 6 needed, so neither passes);
    # Dũng 1: two seats unfilled, every candidate not elected may stand again.
    plan = {101: (1, 2), 102: (1, 2), 103: (1, 2), 104: (1, 2), 105: (1, 2), 106: (1, 3), 107: (1, 3),
            108: (1, 3), 109: (3, 4), 110: (3,)}
    for kid, choices in plan.items():
        assert vote(ballots, db, kid, bid, *choices) == AckStatus.ACCEPTED
    r = ballots.close(bid, actor="chair")
    assert r.elected == ["An"] and r.required == 6 and r.unfilled == 2
    assert r.next_round == {"seats": 2, "candidates": ["Bình", "Châu", "Dũng"]}
    with pytest.raises(BallotError, match="already prepared"):
        r2 = elections.prepare_round(bid, actor="chair", candidates=["Bình", "Châu"])
        elections.prepare_round(bid, actor="chair")
    b2 = ballots.get(r2)
    assert (b2.round_no, b2.election_id, b2.seats, b2.options) == (2, bid, 2, ["Bình", "Châu"])
    assert b2.secret and b2.rule == MajorityRule.ABSOLUTE and b2.base == MajorityBase.VALID
    ballots.open(r2, actor="chair")
    for kid in range(101, 111):
        vote(ballots, db, kid, r2, 1, 2) if kid < 108 else vote(ballots, db, kid, r2, 2)
    second = ballots.close(r2, actor="chair")
    assert second.elected == ["Châu", "Bình"] and second.next_round is None  # by rank: 10, 7
    record = elections.record(r2)
    assert [x["round"] for x in record["rounds"]] == [1, 2] and record["settled"]
    assert [(e["name"], e["round"]) for e in record["elected"]] == [("An", 1), ("Châu", 2), ("Bình", 2)]
    assert record["rounds"][0]["result"]["counts"] == {"An": 8, "Bình": 5, "Châu": 5, "Dũng": 1}
    with pytest.raises(BallotError, match="needs no further round"):
        elections.prepare_round(r2, actor="chair")


def test_seats_and_candidates_of_a_round_are_checked(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    bid = ballots.create("Thư ký", BallotKind.ELECTION, options=["An", "Bình", "Châu"], seats=1,
                         actor="chair")
    with pytest.raises(BallotError, match="closed election round"):
        Elections(ballots).prepare_round(bid, actor="chair")
    ballots.open(bid, actor="chair")
    for kid, c in zip(range(101, 111), [1, 1, 1, 2, 2, 2, 3, 3, 3, 3], strict=True):
        vote(ballots, db, kid, bid, c)
    assert ballots.close(bid, actor="chair").elected == ["Châu"]  # simple rule: the most votes
    bid = ballots.create("Phó thư ký", BallotKind.ELECTION, options=["An", "Bình"], seats=1, actor="chair")
    ballots.open(bid, actor="chair")
    for kid, c in zip(range(101, 111), [1] * 5 + [2] * 5, strict=True):
        vote(ballots, db, kid, bid, c)
    assert ballots.close(bid, actor="chair").tied == ["An", "Bình"]
    with pytest.raises(BallotError, match="1 to 1 seats"):
        Elections(ballots).prepare_round(bid, actor="chair", seats=2)
    with pytest.raises(BallotError, match="at least one eligible"):
        Elections(ballots).prepare_round(bid, actor="chair", candidates=["Somebody else"])


def test_strike_out_ballots_from_keypads(db, hall):
    announced = []
    ballots = Ballots(db, QuorumPolicy.parse("majority"), announce=announced.append)
    bid = ballots.create("Ủy ban", BallotKind.ELECTION, options=["An", "Bình", "Châu", "Dũng"], seats=2,
                         form=BallotForm.STRIKE, secret=True, actor="chair")
    ballots.open(bid, actor="chair")
    assert announced[-1].max_choices == 4  # a strike ballot may strike every name
    assert vote(ballots, db, 101, bid, 3, 4) == AckStatus.ACCEPTED  # keeps An, Bình
    assert vote(ballots, db, 102, bid, 2, 4) == AckStatus.ACCEPTED  # keeps An, Châu
    assert vote(ballots, db, 103, bid, 4) == AckStatus.INVALID_COUNTED  # keeps three
    assert vote(ballots, db, 104, bid, 1, 2, 3, 4) == AckStatus.ACCEPTED  # strikes all: blank
    assert vote(ballots, db, 105, bid, 5) == AckStatus.BAD_CHOICE
    r = ballots.close(bid, actor="chair")
    assert r.counts == {"An": 2, "Bình": 1, "Châu": 1, "Dũng": 0}
    assert (r.valid, r.invalid, r.blank) == (3, 1, 1)


def test_a_choice_between_drafts(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    with pytest.raises(BallotError, match="2 to 64 options"):
        ballots.create("Dự thảo", BallotKind.CHOICE, options=["Only one"], actor="chair")
    with pytest.raises(BallotError, match="takes no candidates"):
        ballots.create("Dự thảo", BallotKind.MOTION, options=["A", "B"], actor="chair")
    bid = ballots.create("Chọn dự thảo nghị quyết", BallotKind.CHOICE, options=["Dự thảo 1", "Dự thảo 2"],
                         rule=MajorityRule.SHARE, share=(1, 2), base=MajorityBase.PRESENT, actor="chair")
    ballots.open(bid, actor="chair")
    for kid, c in zip(range(101, 111), [1] * 6 + [2] * 4, strict=True):
        vote(ballots, db, kid, bid, c)
    r = ballots.close(bid, actor="chair")
    assert r.passed and r.elected == ["Dự thảo 1"] and r.base_value == 10 and r.required == 6
    with pytest.raises(BallotError, match="a share is a fraction"):
        ballots.create("x", BallotKind.MOTION, rule=MajorityRule.SHARE, share=(3, 2), actor="chair")

"""Paper ballots beside keypads on both backends: issuing refuses a delegate who voted by keypad (and
the keypad refuses a delegate issued a paper ballot), the double entry must match before it counts,
the channels combine once, and the result stays provisional until the committee head confirms it."""

from __future__ import annotations

import pytest

from congress.keypads.protocol import AckStatus, VoteFrame
from controller.checkins.attendance import QuorumPolicy
from controller.voting.assignment import Assignments
from controller.voting.ballots import BallotError, Ballots
from controller.voting.committee import Committee
from controller.voting.paper import PaperBallots
from controller.voting.tables import BallotKind, MajorityBase, MajorityRule

_ctr = iter(range(1, 10**9))


def vote(ballots, db, kid, ballot, *choices):
    with db.session() as s:
        return ballots.record_vote(s, VoteFrame(kid, next(_ctr), ballot, frozenset(choices)))


@pytest.fixture
def hall(db, roster):
    """10 delegates checked in; keypads 101..107 for the first seven, the last three vote on paper; the
    committee's accounts."""
    from controller.storage.tables import Role, User

    with db.session() as s:
        s.add_all([User(name=n, role=Role.OBSERVER, password_hash="x")
                   for n in ("lan", "hung", "huong", "a")])
    ids = roster.add(10)
    Assignments(db).assign_by_seat({f"S{i:04d}": 100 + i for i in range(1, 8)}, actor="tech")
    roster.check_in(ids)
    return ids


def test_mixed_keypad_and_paper_election_confirmed_by_the_head(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    paper, committee = PaperBallots(ballots), Committee(db)
    motion = ballots.create("Bầu Ban kiểm phiếu", BallotKind.MOTION, actor="chair")
    ballots.open(motion, actor="chair")
    for kid in range(101, 108):
        vote(ballots, db, kid, motion, 1)
    ballots.close(motion, actor="chair")
    committee.appoint([("lan", "Bùi Thị Lan"), ("hung", "Đỗ Mạnh Hùng"), ("huong", "Hồ Xuân Hương")], "lan",
                      actor="chair", motion_id=motion)
    assert committee.head().display_name == "Bùi Thị Lan"

    bid = ballots.create("Ban Chấp hành", BallotKind.ELECTION, options=["An", "Bình", "Châu"], seats=2,
                         secret=True, rule=MajorityRule.ABSOLUTE, base=MajorityBase.COLLECTED, actor="chair")
    ballots.open(bid, actor="chair")
    # Keypads: An+Bình x4, An+Châu x2; delegate 1's keypad voted, so no paper ballot for them.
    for kid in range(101, 107):
        vote(ballots, db, kid, bid, 1, 2 if kid < 105 else 3)
    with pytest.raises(BallotError, match="already voted"):
        paper.issue(bid, "d0001", actor="counter")
    paper.issue(bid, "d0007", actor="counter")  # keypad 107 failed: paper instead
    assert vote(ballots, db, 107, bid, 1) == AckStatus.ALREADY_VOTED  # and now its keypad is refused
    for did in ("d0008", "d0009", "d0010"):
        paper.issue(bid, did, actor="counter")
    with pytest.raises(BallotError, match="already voted"):
        paper.issue(bid, "d0008", actor="counter")
    with pytest.raises(BallotError, match="after the ballot closes"):
        paper.enter(bid, "hung", collected=4, invalid=0, blank=0, votes=[4, 1, 1])
    keypad = ballots.close(bid, actor="chair")
    assert keypad.counts == {"An": 6, "Bình": 4, "Châu": 2} and keypad.cast == 6

    # Double entry: four paper ballots, one invalid: An 3, Bình 1, Châu 2 (valid 3).
    with pytest.raises(BallotError, match="only 4 issued"):
        paper.enter(bid, "hung", collected=5, invalid=0, blank=0, votes=[5, 0, 0])
    with pytest.raises(BallotError, match="do not fit"):
        paper.enter(bid, "hung", collected=4, invalid=1, blank=0, votes=[4, 1, 1])
    st = paper.enter(bid, "hung", collected=4, invalid=1, blank=0, votes=[3, 1, 2])
    assert st.agreed is None and st.differences == []  # one entry is not a double entry
    with pytest.raises(BallotError, match="do not match"):
        paper.combine(bid, actor="counter")
    st = paper.enter(bid, "huong", collected=4, invalid=1, blank=0, votes=[3, 2, 1])
    assert st.agreed is None and st.differences == ["Bình", "Châu"]
    with pytest.raises(BallotError, match="count the paper tally in first"):
        committee.confirm(bid, "lan")
    st = paper.enter(bid, "huong", collected=4, invalid=1, blank=0, votes=[3, 1, 2])  # counted again
    assert st.differences == [] and st.agreed is not None
    combined = paper.combine(bid, actor="counter")
    assert combined["counts"] == {"An": 9, "Bình": 5, "Châu": 4}
    assert (combined["valid"], combined["invalid"], combined["cast"]) == (9, 1, 10)
    assert combined["required"] == 6 and combined["elected"] == ["An"]  # more than half of 10 collected
    assert combined["keypad"]["counts"] == {"An": 6, "Bình": 4, "Châu": 2}
    assert combined["paper"]["issued"] == 4 and combined["paper"]["counts"]["Châu"] == 2
    with pytest.raises(BallotError, match="already counted in"):
        paper.combine(bid, actor="counter")
    assert "confirmed" not in ballots.get(bid).result  # provisional

    with pytest.raises(BallotError, match="only the head"):
        committee.confirm(bid, "hung")
    with pytest.raises(BallotError, match="only the head"):
        committee.confirm(bid, "chair")
    confirmed = committee.confirm(bid, "lan")
    assert confirmed["confirmed"]["by"] == "lan" and len(confirmed["confirmed"]["audit_head"]["hash"]) == 64
    assert ballots.get(bid).result["confirmed"]["name"] == "Bùi Thị Lan"
    with pytest.raises(BallotError, match="already confirmed"):
        committee.confirm(bid, "lan")
    with pytest.raises(BallotError, match="no longer change"):
        paper.enter(bid, "hung", collected=4, invalid=0, blank=0, votes=[4, 0, 0])


def test_committee_needs_an_adopted_motion_and_a_head(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    committee = Committee(db)
    with pytest.raises(BallotError, match="one of them its head"):
        committee.appoint([("a", "A")], "b", actor="chair")
    motion = ballots.create("Ban kiểm phiếu", BallotKind.MOTION, actor="chair")
    ballots.open(motion, actor="chair")
    vote(ballots, db, 101, motion, 2)
    ballots.close(motion, actor="chair")
    with pytest.raises(BallotError, match="not an adopted motion"):
        committee.appoint([("a", "A")], "a", actor="chair", motion_id=motion)


def test_close_keeps_the_audit_head(db, hall):
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    bid = ballots.create("Thông qua", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    ballots.close(bid, actor="chair")
    head = ballots.get(bid).result["audit_head"]
    from sqlalchemy import select

    from controller.storage.tables import AuditEntry

    with db.session() as s:
        row = s.scalar(select(AuditEntry).where(AuditEntry.seq == head["seq"]))
    assert row.action == "ballot.close" and row.row_hash == head["hash"]

"""Candidate lists on both backends: nominate, accept or decline, withdraw before the vote, the list
numbered in Vietnamese order of given names, put to the congress as a motion, then elected."""

from __future__ import annotations

import pytest

from congress.keypads.protocol import VoteFrame
from controller.checkins.attendance import QuorumPolicy
from controller.voting.assignment import Assignments
from controller.voting.ballots import BallotError, Ballots
from controller.voting.candidates import CandidateLists
from controller.voting.tables import BallotKind, CandidateStatus


def test_a_candidate_list_from_nomination_to_election(db, roster):
    ids = roster.add(4)
    roster.check_in(ids)
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, 5)}, actor="tech")
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    lists = CandidateLists(db)
    body = "Ban Chấp hành"
    made = {n: lists.nominate(body, n, actor="presidium", biography="Sinh năm 1975.")
            for n in ("Trần Văn Bình", "Nguyễn Thị Ánh", "Lê Văn An", "Phạm Thu Hà")}
    with pytest.raises(BallotError, match="already on the list"):
        lists.nominate(body, "Trần Văn Bình", actor="presidium")
    for n in ("Trần Văn Bình", "Nguyễn Thị Ánh", "Lê Văn An"):
        lists.accept(made[n], actor="candidate")
    lists.decline(made["Phạm Thu Hà"], actor="candidate")
    with pytest.raises(BallotError, match="cannot become"):
        lists.accept(made["Phạm Thu Hà"], actor="candidate")  # declined stays declined
    lists.withdraw(made["Trần Văn Bình"], actor="candidate")
    assert {c.name: c.status for c in lists.candidates(body)}["Trần Văn Bình"] == CandidateStatus.WITHDRAWN
    assert lists.ballot_options(body) == ["Lê Văn An", "Nguyễn Thị Ánh"]  # An before Ánh (given names)
    motion = lists.approval_motion(ballots, body, "Thông qua danh sách bầu cử", actor="chair")
    with pytest.raises(BallotError, match="not an adopted motion"):
        lists.election(ballots, body, seats=1, approved_by=motion, actor="chair")
    ballots.open(motion, actor="chair")
    with db.session() as s:
        ballots.record_votes(s, [VoteFrame(k, 1, motion, frozenset({1})) for k in range(1, 5)])
    ballots.close(motion, actor="chair")
    bid = lists.election(ballots, body, seats=1, approved_by=motion, actor="chair")
    b = ballots.get(bid)
    assert b.kind == BallotKind.ELECTION and b.options == ["Lê Văn An", "Nguyễn Thị Ánh"] and b.title == body


def _vote(db, ballots, bid, choice, n=4):
    ballots.open(bid, actor="chair")
    with db.session() as s:
        ballots.record_votes(s, [VoteFrame(k, 1, bid, frozenset({choice})) for k in range(1, n + 1)])
    ballots.close(bid, actor="chair")


def test_the_list_is_fixed_once_put_to_the_congress_and_opens_again_if_rejected(db, roster):
    from controller.voting.tables import ListOrder

    roster.check_in(roster.add(4))
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, 5)}, actor="tech")
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    lists = CandidateLists(db)
    lid = lists.create_list("Ban Kiểm tra", actor="chair", numbering=ListOrder.NOMINATION)
    body = lists.get_list(lid).name
    first, second = (lists.nominate(body, n, actor="user:chair") for n in ("Trần Văn Bình", "Lê Văn An"))
    lists.accept(first, actor="c")
    lists.accept(second, actor="c")
    assert lists.ballot_options(body) == ["Trần Văn Bình", "Lê Văn An"]  # nomination order, as configured
    late = lists.nominate(body, "Ngô Bảo Châu", actor="delegate:d0002", delegate_id="d0002", from_portal=True)
    with pytest.raises(BallotError, match="already on the list"):  # the same delegate under another name
        lists.nominate(body, "Ngô B. Châu", actor="user:chair", delegate_id="d0002")
    lists.configure(lid, actor="chair", nominations_open=False)
    with pytest.raises(BallotError, match=r"nominations to the list .* are closed"):
        lists.nominate(body, "Phạm Thu Hà", actor="delegate:d0003", from_portal=True)
    lists.nominate(body, "Phạm Thu Hà", actor="user:chair")  # the presidium still may, until the motion
    motion = lists.approval_motion(ballots, body, "Thông qua danh sách", actor="chair")
    assert lists.get_list(lid).motion_id == motion
    for refused in (lambda: lists.nominate(body, "Đỗ Mạnh", actor="user:chair"),
                    lambda: lists.accept(late, actor="c"),
                    lambda: lists.configure(lid, actor="chair", numbering=ListOrder.VIETNAMESE),
                    lambda: lists.approval_motion(ballots, body, "again", actor="chair")):
        with pytest.raises(BallotError, match="put to the congress"):
            refused()
    _vote(db, ballots, motion, 2)  # the congress says no: the list opens again
    with pytest.raises(BallotError, match="not an adopted motion"):
        lists.election(ballots, body, seats=1, actor="chair")
    lists.accept(late, actor="c")
    lists.configure(lid, actor="chair", numbering=ListOrder.VIETNAMESE)
    assert lists.ballot_options(body) == ["Lê Văn An", "Trần Văn Bình", "Ngô Bảo Châu"]  # An, Bình, Châu
    again = lists.approval_motion(ballots, body, "Thông qua danh sách (lần 2)", actor="chair")
    _vote(db, ballots, again, 1)
    bid = lists.election(ballots, body, seats=2, actor="chair")  # by default on the list's own motion
    with pytest.raises(BallotError, match="exists already"):
        lists.election(ballots, body, seats=2, actor="chair")
    # A withdrawal while the election is a draft takes the name off its ballot, renumbering the rest.
    lists.withdraw(late, actor="c")
    assert ballots.get(bid).options == ["Lê Văn An", "Trần Văn Bình"]
    assert [(n.number, n.candidate.name) for n in lists.numbered(lists.get_list(lid))][:2] == [
        (1, "Lê Văn An"), (2, "Trần Văn Bình")]
    with pytest.raises(BallotError, match="fewer candidates than seats"):
        lists.withdraw(second, actor="c")
    assert lists.for_ballot(ballots.get(bid)).id == lid
    ballots.open(bid, actor="chair")
    with pytest.raises(BallotError, match="can no longer withdraw"):
        lists.withdraw(first, actor="c")
    assert {c.id: c.status for c in lists.candidates(body)}[first] == CandidateStatus.ACCEPTED

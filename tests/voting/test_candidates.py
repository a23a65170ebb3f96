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

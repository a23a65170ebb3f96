"""Keypad rebinding while a ballot is open (issue 11, item 11), over the real serial line.

A technician who binds a spare keypad to a present delegate during a secret ballot must not be able
to vote for them: the binding waits for the chair, the spare is refused meanwhile and the delegate's
own keypad still votes; the chair cannot confirm while the delegate's own keypad works (it has to be
reported lost first), nor confirm a request made by their own account; everything is listed with the
ballot as an exception.
"""

from __future__ import annotations

import pytest

from congress.keypads import protocol as p
from controller.voting.assignment import AssignmentError, Assignments, BallotOpenError
from controller.voting.rebinds import RebindError, Rebinds
from controller.voting.tables import BallotKind, KeypadEvent

SPARE = 20
TECH, CHAIR = "user:technician", "user:chair"


def vote(sim, kid, bid, choices) -> p.AckStatus:
    n = len(sim.acks)
    ctr = sim.vote(kid, bid, choices)
    assert sim.wait_acks(n + 1), f"no ack for keypad {kid}"
    return sim.acks[(kid, ctr)].status


@pytest.fixture
def spare(kdb):
    Assignments(kdb).unbind(SPARE, actor="tech")  # keypad 20 becomes a spare (its delegate is absent)
    return SPARE


def test_a_spare_keypad_cannot_take_a_present_delegates_secret_vote(sim, reader, kdb, ballots, spare):
    rebinds = Rebinds(kdb)
    bid = ballots.create("Secret motion", BallotKind.MOTION, secret=True, actor="chair")
    ballots.open(bid, actor="chair")

    # The technician binds the spare to delegate 1 (present, keypad 1): only a request.
    with pytest.raises(BallotOpenError):
        Assignments(kdb).bind(spare, "d0001", actor=TECH)
    req = rebinds.request(spare, "d0001", actor=TECH)
    assert "pending" in req and Assignments(kdb).holder(spare) is None
    assert vote(sim, spare, bid, {1}) == p.AckStatus.NOT_ELIGIBLE  # the spare casts nothing
    assert vote(sim, 1, bid, {2}) == p.AckStatus.ACCEPTED  # the delegate's own keypad still votes

    # The chair cannot confirm while keypad 1 works; the technician cannot confirm their own request.
    with pytest.raises(RebindError, match="report it lost first"):
        rebinds.confirm(req["pending"], actor=CHAIR)
    with pytest.raises(RebindError, match="cannot confirm it"):
        rebinds.confirm(req["pending"], actor=TECH)
    rebinds.reject(req["pending"], actor=CHAIR)

    # A real replacement: delegate 2's keypad is reported lost, then the chair confirms the spare.
    req2 = rebinds.request(spare, "d0002", actor=TECH)
    with pytest.raises(RebindError, match="report it lost first"):
        rebinds.confirm(req2["pending"], actor=CHAIR)
    Assignments(kdb).report_lost(2, actor=TECH)
    assert vote(sim, 2, bid, {1}) == p.AckStatus.NOT_ELIGIBLE
    rebinds.confirm(req2["pending"], actor=CHAIR)
    assert Assignments(kdb).holder(spare) == "d0002"
    assert vote(sim, spare, bid, {1}) == p.AckStatus.ACCEPTED
    assert vote(sim, spare, bid, {2}) == p.AckStatus.ALREADY_VOTED  # once per delegate

    # Swaps wait for the close; nothing is pending any more.
    with pytest.raises(AssignmentError, match="cannot be swapped"):
        Assignments(kdb).swap(3, 4, actor=TECH)
    assert rebinds.pending() == []

    events = [(e.event, e.keypad_id, e.delegate_id, e.actor) for e in rebinds.exceptions(bid)]
    assert events == [
        (KeypadEvent.REBIND_REQUESTED, spare, "d0001", TECH),
        (KeypadEvent.REBIND_REJECTED, spare, "d0001", CHAIR),
        (KeypadEvent.REBIND_REQUESTED, spare, "d0002", TECH),
        (KeypadEvent.LOST, 2, "d0002", TECH),
        (KeypadEvent.REBIND_CONFIRMED, spare, "d0002", CHAIR),
    ]
    r = ballots.close(bid, actor="chair")
    assert r.counts == {"Yes": 1, "No": 1, "Abstain": 0}


def test_a_vote_already_cast_in_a_named_ballot_does_not_move_to_a_new_keypad(sim, reader, kdb, ballots,
                                                                                spare):
    """Named ballots may allow changing a vote: a new keypad could change the delegate's vote, so
    the old keypad must be reported lost first (visible to all), and the change then happens only
    from the keypad the chair confirmed."""
    rebinds = Rebinds(kdb)
    bid = ballots.create("Named", BallotKind.MOTION, secret=False, allow_change=True, actor="chair")
    ballots.open(bid, actor="chair")
    assert vote(sim, 5, bid, {1}) == p.AckStatus.ACCEPTED
    req = rebinds.request(spare, "d0005", actor=TECH)
    assert vote(sim, spare, bid, {2}) == p.AckStatus.NOT_ELIGIBLE
    with pytest.raises(RebindError):
        rebinds.confirm(req["pending"], actor=CHAIR)
    counts = ballots.recount(bid)
    assert counts.get(1) == 1 and counts.get(2) is None  # still the vote the delegate cast


def test_without_an_open_ballot_binding_is_immediate(kdb, spare):
    out = Rebinds(kdb).request(spare, "d0019", actor=TECH)
    assert out["bound"]["delegate"] == "d0019"

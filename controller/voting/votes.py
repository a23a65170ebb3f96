"""Recording keypad votes: eligibility, once-only, vote change, and the split secret-ballot storage.

Called by :meth:`controller.voting.ballots.Ballots.record_votes` inside the keypad reader's transaction.
Lookups are made once per batch and the counters get one ``UPDATE`` per ballot per batch, so the
reader keeps up with a full-speed base station. What is written where:

* always: ``ballot_participation`` (who voted);
* secret ballots: the sealed counter vector of ``secret_tallies`` (``controller.voting.secret_tally``),
  so no commit ever holds a delegate next to a readable count;
* named ballots: the aggregate ``ballot_counts`` and ``named_votes`` (delegate and choice, public by the
  rules of a named ballot).
"""

from __future__ import annotations

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from congress.keypads.protocol import AckStatus, VoteFrame
from controller.storage.database import utcnow
from controller.storage.tables import Delegate, Presence
from controller.voting import forms
from controller.voting.secret_tally import SecretTallies
from controller.voting.tables import (
    Ballot,
    BallotCount,
    BallotKind,
    BallotParticipation,
    BallotStatus,
    KeypadAssignment,
    NamedVote,
)
from controller.voting.tally import Special


def _count_keys(choices: list[int], invalid: bool) -> list[int]:
    """The counter rows one ballot paper adds to (see ``controller.voting.tally.Special``)."""
    return [Special.INVALID] if invalid else [Special.VALID, *(choices or [Special.BLANK])]


def max_choices(b: Ballot) -> int:
    """How many votes a valid ballot gives at most (one, or the seats of an election)."""
    return b.seats if b.kind == BallotKind.ELECTION else 1


def record_votes(s: Session, votes: list[VoteFrame], tallies: SecretTallies) -> list[AckStatus]:
    """Record a batch of keypad votes in the caller's transaction; one status per vote, in order.

    Lookups are made once per batch and the counters get one UPDATE per ballot per batch, so the
    reader keeps up with a full-speed base station. ``tallies`` opens and reseals the counters of
    secret ballots (a secret ballot opened before sealed tallies existed has none and falls back to
    ``ballot_counts``)."""
    kids = {v.keypad_id for v in votes}
    holders = {k: (d, lost) for k, d, lost in s.execute(
        select(KeypadAssignment.keypad_id, KeypadAssignment.delegate_id, KeypadAssignment.lost)
        .where(KeypadAssignment.keypad_id.in_(kids)))}
    dids = {d for d, _ in holders.values() if d}
    present = set(s.scalars(
        select(Presence.delegate_id).join(Delegate, Delegate.id == Presence.delegate_id)
        .where(Presence.delegate_id.in_(dids), Presence.inside.is_(True))))
    open_ballots: dict[int, Ballot | None] = {}
    voted: dict[int, set[str]] = {}
    deltas: dict[int, dict[int, int]] = {}
    out = []
    for v in votes:
        if v.ballot_no not in open_ballots:
            b = s.get(Ballot, v.ballot_no)
            ok = (b is not None and b.status == BallotStatus.OPEN
                  and not (b.closes_at and b.closes_at <= utcnow()))
            open_ballots[v.ballot_no] = b if ok else None
            if ok:
                voted[b.id] = set(s.scalars(select(BallotParticipation.delegate_id).where(
                    BallotParticipation.ballot_id == b.id, BallotParticipation.delegate_id.in_(dids))))
        b = open_ballots[v.ballot_no]
        did, lost = holders.get(v.keypad_id, (None, True))
        status = _one(s, b, did, lost, did in present, v, voted, deltas)
        out.append(status)
    for bid, delta in deltas.items():
        if not any(delta.values()):
            continue
        b = open_ballots[bid]
        row = tallies.sealed(s, b) if b.secret else None
        if row is not None:
            tallies.add(s, b, row, delta)
        else:
            _bump(s, bid, delta)
    return out


def _one(s, b, did, lost, here, v, voted, deltas) -> AckStatus:
    """One vote of the batch; ``voted``/``deltas`` carry the batch's state between votes."""
    if b is None:
        return AckStatus.NO_BALLOT
    if did is None or lost or not here:
        return AckStatus.NOT_ELIGIBLE
    if any(c > len(b.options) for c in v.choices) or (b.kind != BallotKind.ELECTION and not v.choices):
        return AckStatus.BAD_CHOICE
    counted = forms.paper(b.kind, b.form, b.seats, len(b.options), v.choices, empty_invalid=b.empty_invalid)
    choices, invalid = list(counted.votes), counted.invalid
    delta = deltas.setdefault(b.id, {})
    if did in voted[b.id]:
        if not b.allow_change:
            return AckStatus.ALREADY_VOTED
        nv = s.get(NamedVote, (b.id, did))  # named ballot, change allowed
        if nv is None:  # issued a paper ballot: voted on paper, so never by keypad
            return AckStatus.ALREADY_VOTED
        if nv.choices == choices and nv.invalid == invalid:
            return AckStatus.ACCEPTED
        for k in _count_keys(nv.choices, nv.invalid):
            delta[k] = delta.get(k, 0) - 1
        for k in _count_keys(choices, invalid):
            delta[k] = delta.get(k, 0) + 1
        nv.choices, nv.invalid, nv.changes, nv.at = choices, invalid, nv.changes + 1, utcnow()
        return AckStatus.CHANGED
    voted[b.id].add(did)
    s.add(BallotParticipation(ballot_id=b.id, delegate_id=did))
    for k in _count_keys(choices, invalid):
        delta[k] = delta.get(k, 0) + 1
    if not b.secret:
        s.add(NamedVote(ballot_id=b.id, delegate_id=did, choices=choices, invalid=invalid))
    return AckStatus.INVALID_COUNTED if invalid else AckStatus.ACCEPTED


def _bump(s: Session, ballot_id: int, delta: dict[int, int]) -> None:
    """Add ``delta`` (option -> change) to the ballot's counters. Every counter row of the ballot
    is rewritten (+0 for the others), so the rows' physical order (what a PostgreSQL dump shows)
    never tells which options the latest votes chose."""
    change = {k: n for k, n in delta.items() if n}
    if not change:
        return
    expr = case(change, value=BallotCount.option, else_=0)
    s.execute(update(BallotCount).where(BallotCount.ballot_id == ballot_id)
              .values(count=BallotCount.count + expr))

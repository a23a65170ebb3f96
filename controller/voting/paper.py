"""Paper ballots alongside keypads: issue, double entry by two counters, and the combined count.

Delegates without a keypad (or whose keypad failed) vote on paper. The counting committee hands a
paper ballot to a delegate with :meth:`PaperBallots.issue`: that records the delegate in
``ballot_participation`` (who has voted, never what), so their keypad is then refused for this ballot
(ALREADY_VOTED), and a delegate whose keypad vote was counted cannot be issued a paper ballot. Each
delegate therefore counts once, on one channel.

After the ballot closes the committee counts the paper ballots and two counters enter the tally with
their own accounts (:meth:`PaperBallots.enter`): ballots collected, invalid, blank and the votes per
option. The paper tally counts only when both entries match (:meth:`PaperBallots.state`); until then
the page shows where they differ. The agreed tally is added to the keypads' counters and the ballot's
result is counted again (:meth:`PaperBallots.combine`), still provisional until the committee head
confirms it (``controller.voting.committee``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from congress.i18n import M_
from controller import audit
from controller.storage.tables import Delegate, Presence
from controller.voting.ballots import BallotError, Ballots
from controller.voting.tables import (
    Ballot,
    BallotCount,
    BallotKind,
    BallotParticipation,
    BallotStatus,
    PaperIssue,
    PaperTally,
)
from controller.voting.tally import Special
from controller.voting.votes import max_choices


@dataclass(frozen=True)
class PaperState:
    issued: int
    entries: dict[str, dict]  # counter -> counts (string keys, as stored)
    agreed: dict[int, int] | None  # the tally both counters entered, once they match
    differences: list[str]  # the rows where two entries differ ("valid", "invalid", "blank", option names)


def _as_counts(stored: dict) -> dict[int, int]:
    return {int(k): int(v) for k, v in stored.items()}


class PaperBallots:
    """Paper ballots of the app's :class:`Ballots` (stateless: build one where needed)."""

    def __init__(self, ballots: Ballots) -> None:
        self.ballots = ballots
        self.db = ballots.db

    def issue(self, ballot_id: int, delegate_id: str, *, actor: str) -> None:
        """Hand a paper ballot to a present delegate who has not voted in this ballot."""
        with self.db.session() as s:
            b = self._ballot(s, ballot_id)
            if b.status == BallotStatus.CLOSED:
                raise BallotError(M_("ballot %(id)s is closed: no more paper ballots", id=ballot_id))
            if s.get(Delegate, delegate_id) is None:
                raise BallotError(M_("there is no delegate %(id)s", id=delegate_id))
            if not s.scalar(select(Presence.inside).where(Presence.delegate_id == delegate_id)):
                raise BallotError(M_("delegate %(id)s is not checked in", id=delegate_id))
            if s.get(BallotParticipation, (ballot_id, delegate_id)) is not None:
                raise BallotError(
                    M_("delegate %(id)s has already voted in this ballot (keypad or paper)", id=delegate_id)
                )
            s.add(BallotParticipation(ballot_id=ballot_id, delegate_id=delegate_id))
            s.add(PaperIssue(ballot_id=ballot_id, delegate_id=delegate_id))
            audit.record(s, actor, "ballot.paper_issued", {"ballot": ballot_id, "delegate": delegate_id})

    def enter(
        self,
        ballot_id: int,
        counter: str,
        *,
        collected: int,
        invalid: int,
        blank: int,
        votes: list[int],
        actor: str | None = None,
    ) -> PaperState:
        """One counter's entry of the paper tally of a closed ballot (replaces their earlier entry)."""
        with self.db.session() as s:
            b = self._ballot(s, ballot_id)
            if b.status != BallotStatus.CLOSED:
                raise BallotError(M_("paper ballots are counted after the ballot closes"))
            if b.result and b.result.get("confirmed"):
                raise BallotError(M_("the result is confirmed: the paper tally can no longer change"))
            issued = self._issued(s, ballot_id)
            counts = self._check(b, issued, collected, invalid, blank, votes)
            row = s.get(PaperTally, (ballot_id, counter))
            if row is None:
                s.add(
                    PaperTally(
                        ballot_id=ballot_id, counter=counter, counts={str(k): v for k, v in counts.items()}
                    )
                )
            else:
                row.counts = {str(k): v for k, v in counts.items()}
            audit.record(
                s, actor or counter, "ballot.paper_entered", {"ballot": ballot_id, "counter": counter}
            )
        return self.state(ballot_id)

    @staticmethod
    def _check(b: Ballot, issued: int, collected: int, invalid: int, blank: int, votes: list[int]) -> dict:
        if len(votes) != len(b.options) or min([collected, invalid, blank, *votes]) < 0:
            raise BallotError(M_("enter a number, 0 or more, for every option and every row"))
        if collected > issued:
            raise BallotError(
                M_(
                    "%(collected)s ballots collected but only %(issued)s issued",
                    collected=collected,
                    issued=issued,
                )
            )
        valid = collected - invalid
        if valid < 0 or blank > valid:
            raise BallotError(M_("invalid and blank ballots cannot be more than the ballots collected"))
        filled = valid - blank
        if (
            any(v > filled for v in votes)
            or sum(votes) > filled * max_choices(b)
            or (b.kind != BallotKind.ELECTION and sum(votes) != filled)
        ):
            raise BallotError(
                M_(
                    "the votes do not fit the ballots: %(filled)s ballots that are valid and not "
                    "blank give at most %(most)s votes",
                    filled=filled,
                    most=filled * max_choices(b),
                )
            )
        counts = {i + 1: v for i, v in enumerate(votes)}
        counts |= {Special.VALID: valid, Special.INVALID: invalid, Special.BLANK: blank}
        return counts

    def state(self, ballot_id: int) -> PaperState:
        with self.db.session() as s:
            b = self._ballot(s, ballot_id)
            issued = self._issued(s, ballot_id)
            entries = {
                t.counter: dict(t.counts)
                for t in s.scalars(
                    select(PaperTally).where(PaperTally.ballot_id == ballot_id).order_by(PaperTally.counter)
                )
            }
        differences: list[str] = []
        agreed = None
        if len(entries) >= 2:
            first, second = (_as_counts(e) for e in list(entries.values())[:2])
            names = {Special.VALID: "valid", Special.INVALID: "invalid", Special.BLANK: "blank"}
            for key in sorted(first.keys() | second.keys(), key=lambda k: (k <= 0, k)):
                if first.get(key, 0) != second.get(key, 0):
                    differences.append(names.get(key) or b.options[key - 1])
            agreed = None if differences else first
        return PaperState(issued, entries, agreed, differences)

    def combine(self, ballot_id: int, *, actor: str) -> dict:
        """Add the agreed paper tally to the keypads' counters and count the ballot again (once)."""
        st = self.state(ballot_id)
        if st.issued and st.agreed is None:
            raise BallotError(M_("the two counters' paper tallies are missing or do not match"))
        with self.db.session() as s:
            b = self._ballot(s, ballot_id, lock=True)
            if b.result and b.result.get("paper_combined"):
                raise BallotError(M_("the paper tally is already counted in"))
            for option, n in (st.agreed or {}).items():
                row = s.get(BallotCount, (ballot_id, option))
                if row is None:
                    s.add(BallotCount(ballot_id=ballot_id, option=option, count=n))
                else:
                    row.count += n
            s.flush()
            result = self.ballots._tally(s, b).as_dict()
            keypad = (b.result or {}).get("keypad") or {
                k: (b.result or {}).get(k) for k in ("counts", "valid", "invalid", "blank")
            }
            paper = {
                "issued": st.issued,
                "counts": {b.options[k - 1]: v for k, v in (st.agreed or {}).items() if k > 0},
                "valid": (st.agreed or {}).get(Special.VALID, 0),
                "invalid": (st.agreed or {}).get(Special.INVALID, 0),
                "blank": (st.agreed or {}).get(Special.BLANK, 0),
            }
            result |= {
                "keypad": keypad,
                "paper": paper,
                "paper_combined": True,
                "audit_head": (b.result or {}).get("audit_head"),
            }
            b.result = result
            audit.record(s, actor, "ballot.paper_combined", {"ballot": ballot_id, "paper": paper})
        return result

    @staticmethod
    def _issued(s: Session, ballot_id: int) -> int:
        return len(s.scalars(select(PaperIssue.delegate_id).where(PaperIssue.ballot_id == ballot_id)).all())

    @staticmethod
    def _ballot(s: Session, ballot_id: int, *, lock: bool = False) -> Ballot:
        q = select(Ballot).where(Ballot.id == ballot_id)
        b = s.scalar(q.with_for_update() if lock else q)
        if b is None:
            raise BallotError(M_("there is no ballot %(id)s", id=ballot_id))
        return b

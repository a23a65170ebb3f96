"""Paper ballots alongside keypads: issue, double entry by two counters, and the combined count.

Delegates without a keypad (or whose keypad failed) vote on paper. The counting committee hands a
paper ballot to a delegate with :meth:`PaperBallots.issue`: that records the delegate in
``ballot_participation`` (who has voted, never what), so their keypad is then refused for this ballot
(ALREADY_VOTED), and a delegate whose keypad vote was counted cannot be issued a paper ballot. Each
delegate therefore counts once, on one channel.

After the ballot closes the committee counts the paper ballots and two counters enter them with their
own accounts. A **secret** ballot's paper is entered as a tally (:meth:`PaperBallots.enter`): ballots
collected, invalid, blank and the votes per option; nothing links a paper ballot to its delegate. A
**named** ballot's votes are public, so its paper is read delegate by delegate
(:meth:`PaperBallots.enter_named`): for every delegate issued a paper ballot, the marks on it (as
:func:`controller.voting.forms.paper` reads them), spoilt, or not handed in; the tally follows from
the readings. Either way the paper counts only when both entries match (:meth:`PaperBallots.state`:
the rows, and for a named ballot the delegates, where they differ). The agreed tally is added to the
keypads' counters and the ballot's result is counted again (:meth:`PaperBallots.combine`); a named
ballot's agreed readings become the paper voters' ``named_votes`` rows, so the roll call
(``controller.voting.named_roll``) names their votes as it names the keypads'. The result stays
provisional until the committee head confirms it (``controller.voting.committee``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from congress.i18n import M_, N_
from controller import audit
from controller.storage.tables import Delegate, Presence
from controller.voting import forms
from controller.voting.ballots import BallotError, Ballots
from controller.voting.tables import (
    Ballot,
    BallotCount,
    BallotKind,
    BallotParticipation,
    BallotStatus,
    NamedVote,
    PaperIssue,
    PaperNamedEntry,
    PaperTally,
)
from controller.voting.tally import Special
from controller.voting.votes import max_choices

#: How the page names the special rows of a tally where two entries differ.
ROW_NAMES = {Special.VALID: N_("valid ballots"), Special.INVALID: N_("invalid ballots"),
             Special.BLANK: N_("blank ballots")}


@dataclass(frozen=True)
class PaperReading:
    """One named paper ballot as a counter read it: the numbers marked, spoilt, or never handed in."""

    marks: tuple[int, ...] = ()
    spoilt: bool = False
    handed_in: bool = True

    def counted(self, b: Ballot) -> forms.Paper | None:
        """What the paper counts for (None: not handed in); a motion or choice marked nowhere is invalid."""
        if not self.handed_in:
            return None
        if self.spoilt or (b.kind != BallotKind.ELECTION and not self.marks):
            return forms.Paper((), invalid=True)
        return forms.paper(b.kind, b.form, b.seats, len(b.options), self.marks, empty_invalid=b.empty_invalid)


@dataclass(frozen=True)
class PaperState:
    issued: int
    entries: dict[str, dict]  # counter -> counts (string keys, as stored)
    agreed: dict[int, int] | None  # the tally both counters entered, once they match
    #: Where two entries differ: the rows (option names, or the marked names of the special rows) and,
    #: for a named ballot, the delegates read differently ("Name (id)").
    differences: list[str]
    #: The delegates issued a paper ballot (id, name), by name: on a secret ballot too, as who received
    #: one is not secret (it is what refuses a second vote); how they voted is.
    delegates: list[tuple[str, str]] = field(default_factory=list)
    #: Named ballots: each counter's readings.
    readings: dict[str, dict[str, PaperReading]] = field(default_factory=dict)
    agreed_readings: dict[str, PaperReading] | None = None  # named ballots: the readings both agree on


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
        # The delegate has voted: the live pages follow (the event carries counts, never the delegate).
        self.ballots.votes_committed({ballot_id})

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
            b = self._closed_for_entry(s, ballot_id)
            if not b.secret:
                raise BallotError(M_("a named ballot's paper ballots are entered delegate by delegate: "
                                     "what each paper ballot says"))
            issued = self._issued(s, ballot_id)
            counts = self._check(b, issued, collected, invalid, blank, votes)
            self._store_tally(s, ballot_id, counter, counts)
            audit.record(
                s, actor or counter, "ballot.paper_entered", {"ballot": ballot_id, "counter": counter}
            )
        return self.state(ballot_id)

    def enter_named(self, ballot_id: int, counter: str, readings: dict[str, PaperReading], *,
                    actor: str | None = None) -> PaperState:
        """One counter's reading of a named ballot's paper ballots, one per delegate issued one
        (replaces their earlier entry); the counter's tally follows from it."""
        with self.db.session() as s:
            b = self._closed_for_entry(s, ballot_id)
            if b.secret:
                raise BallotError(M_("a secret ballot's paper ballots are entered as a tally; nothing "
                                     "links a paper ballot to its delegate"))
            issued = set(self._issued_to(s, ballot_id))
            if set(readings) != issued:
                raise BallotError(M_("enter every paper ballot issued in this ballot, one per delegate "
                                     "(missing: %(missing)s; not issued: %(extra)s)",
                                     missing=", ".join(sorted(issued - set(readings))) or "—",
                                     extra=", ".join(sorted(set(readings) - issued)) or "—"))
            counts = {o: 0 for o in range(1, len(b.options) + 1)}
            counts |= {Special.VALID: 0, Special.INVALID: 0, Special.BLANK: 0}
            for r in readings.values():
                if any(not 1 <= m <= len(b.options) for m in r.marks):
                    raise BallotError(M_("a mark names no option of this ballot"))
                paper = r.counted(b)
                if paper is None:
                    continue
                if paper.invalid:
                    counts[Special.INVALID] += 1
                    continue
                counts[Special.VALID] += 1
                counts[Special.BLANK] += paper.blank
                for o in paper.votes:
                    counts[o] += 1
            self._store_tally(s, ballot_id, counter, counts)
            s.execute(delete(PaperNamedEntry).where(PaperNamedEntry.ballot_id == ballot_id,
                                                    PaperNamedEntry.counter == counter))
            s.add_all([PaperNamedEntry(ballot_id=ballot_id, counter=counter, delegate_id=d,
                                       marks=sorted(set(r.marks)), spoilt=r.spoilt, handed_in=r.handed_in)
                       for d, r in readings.items()])
            audit.record(s, actor or counter, "ballot.paper_entered",
                         {"ballot": ballot_id, "counter": counter, "delegates": len(readings)})
        return self.state(ballot_id)

    def _closed_for_entry(self, s: Session, ballot_id: int) -> Ballot:
        b = self._ballot(s, ballot_id)
        if b.status != BallotStatus.CLOSED:
            raise BallotError(M_("paper ballots are counted after the ballot closes"))
        if b.result and b.result.get("confirmed"):
            raise BallotError(M_("the result is confirmed: the paper tally can no longer change"))
        if b.result and b.result.get("paper_combined"):
            raise BallotError(M_("the paper tally is already counted in"))
        return b

    @staticmethod
    def _store_tally(s: Session, ballot_id: int, counter: str, counts: dict[int, int]) -> None:
        stored = {str(k): v for k, v in counts.items()}
        row = s.get(PaperTally, (ballot_id, counter))
        if row is None:
            s.add(PaperTally(ballot_id=ballot_id, counter=counter, counts=stored))
        else:
            row.counts = stored

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
            readings: dict[str, dict[str, PaperReading]] = {}
            ids = self._issued_to(s, ballot_id)
            names = dict(s.execute(select(Delegate.id, Delegate.name).where(Delegate.id.in_(ids))).all())
            delegates = sorted(((d, names.get(d, d)) for d in ids), key=lambda t: (t[1], t[0]))
            if not b.secret:
                for e in s.scalars(select(PaperNamedEntry).where(PaperNamedEntry.ballot_id == ballot_id)):
                    readings.setdefault(e.counter, {})[e.delegate_id] = PaperReading(
                        tuple(e.marks), e.spoilt, e.handed_in)
        differences: list[str] = []
        agreed = None
        c1 = ""
        if len(entries) >= 2:
            (c1, first), (c2, second) = ((c, _as_counts(e)) for c, e in list(entries.items())[:2])
            for key in sorted(first.keys() | second.keys(), key=lambda k: (k <= 0, k)):
                if first.get(key, 0) != second.get(key, 0):
                    differences.append(ROW_NAMES.get(key) or b.options[key - 1])
            if not b.secret:
                one, two = readings.get(c1, {}), readings.get(c2, {})
                differences += [f"{name} ({d})" for d, name in delegates if one.get(d) != two.get(d)]
            agreed = None if differences else first
        agreed_readings = readings.get(c1, {}) if agreed is not None and not b.secret else None
        return PaperState(issued, entries, agreed, differences, delegates, readings, agreed_readings)

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
            if st.agreed_readings:  # a named ballot's agreed readings: the paper voters' named votes
                for d, reading in st.agreed_readings.items():
                    paper = reading.counted(b)
                    if paper is not None:
                        s.add(NamedVote(ballot_id=ballot_id, delegate_id=d, choices=list(paper.votes),
                                        invalid=paper.invalid))
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
    def _issued_to(s: Session, ballot_id: int) -> list[str]:
        return list(s.scalars(select(PaperIssue.delegate_id).where(PaperIssue.ballot_id == ballot_id)))

    @staticmethod
    def _ballot(s: Session, ballot_id: int, *, lock: bool = False) -> Ballot:
        q = select(Ballot).where(Ballot.id == ballot_id)
        b = s.scalar(q.with_for_update() if lock else q)
        if b is None:
            raise BallotError(M_("there is no ballot %(id)s", id=ballot_id))
        return b

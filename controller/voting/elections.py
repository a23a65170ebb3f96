"""Elections over several rounds: the further round a tie or an unfilled seat calls for, and the record.

An election is its first ballot and every further round (``Ballot.election_id`` is the first round's
id, ``round_no`` counts from 1). When a round closes with ``next_round`` in its result (a tie at the
last seat, or seats left unfilled because too few met the rule; see ``controller.voting.tally``),
:meth:`Elections.prepare_round` drafts the next one — the seats still to fill, the eligible candidates,
the same rule, base, form and secrecy — and the chair opens it like any ballot. The chair may narrow
the candidates or the seats (the congress decides, not the machine). Every round stays in the record:
:meth:`Elections.record` lists them with who was elected in which round.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from congress.i18n import M_
from controller.voting.ballots import BallotError, Ballots
from controller.voting.tables import Ballot, BallotKind, BallotStatus


class Elections:
    """Rounds of elections, on the app's :class:`Ballots` (stateless: build one where needed)."""

    def __init__(self, ballots: Ballots) -> None:
        self.ballots = ballots

    def rounds(self, ballot_id: int) -> list[Ballot]:
        """Every round of the election ``ballot_id`` belongs to, first round first."""
        with self.ballots.db.session() as s:
            b = s.get(Ballot, ballot_id)
            if b is None:
                raise BallotError(M_("there is no ballot %(id)s", id=ballot_id))
            root = b.election_id or b.id
            return list(s.scalars(select(Ballot).where(or_(Ballot.id == root, Ballot.election_id == root))
                                  .order_by(Ballot.round_no, Ballot.id)))

    def prepare_round(self, ballot_id: int, *, actor: str, seats: int | None = None,
                      candidates: list[str] | None = None) -> int:
        """Draft the round after the closed round ``ballot_id``; returns the new ballot's id."""
        rounds = self.rounds(ballot_id)
        last = rounds[-1]
        if last.id != ballot_id:
            raise BallotError(M_("round %(round)s is already prepared (ballot %(id)s)",
                                 round=last.round_no, id=last.id))
        if last.kind != BallotKind.ELECTION or last.status != BallotStatus.CLOSED:
            raise BallotError(M_("a further round follows a closed election round"))
        nxt = (last.result or {}).get("next_round")
        if not nxt:
            raise BallotError(M_("every seat is filled: the election needs no further round"))
        seats = nxt["seats"] if seats is None else seats
        names = list(nxt["candidates"]) if candidates is None else [c for c in candidates
                                                                    if c in nxt["candidates"]]
        if not names or not 1 <= seats <= min(nxt["seats"], len(names)):
            raise BallotError(M_("choose at least one eligible candidate and 1 to %(seats)s seats "
                                 "(no more seats than candidates)", seats=nxt["seats"]))
        first = rounds[0]
        title = first.title
        return self.ballots.create(
            title, BallotKind.ELECTION, options=names, seats=seats, secret=last.secret,
            allow_change=last.allow_change, rule=last.rule, base=last.base, form=last.form,
            share=(last.share_num, last.share_den) if last.share_num else None,
            empty_invalid=last.empty_invalid, election_id=first.id, round_no=last.round_no + 1, actor=actor)

    def record(self, ballot_id: int) -> dict:
        """The whole election: seats, every round with its result, who was elected in which round."""
        rounds = self.rounds(ballot_id)
        first = rounds[0]
        elected: list[dict] = []
        out = []
        for b in rounds:
            r = b.result or {}
            for name in r.get("elected", []):
                elected.append({"name": name, "round": b.round_no, "votes": r["counts"].get(name)})
            out.append({"ballot": b.id, "round": b.round_no, "status": b.status.value, "seats": b.seats,
                        "candidates": list(b.options), "elected": r.get("elected", []),
                        "tied": r.get("tied", []), "unfilled": r.get("unfilled", 0),
                        "next_round": r.get("next_round"), "result": b.result})
        last = rounds[-1]
        settled = last.status == BallotStatus.CLOSED and not (last.result or {}).get("next_round")
        return {"election": first.id, "title": first.title, "seats": first.seats, "rounds": out,
                "elected": elected, "settled": settled,
                "unfilled": first.seats - len(elected)}

"""Candidate lists: nominate, accept or decline, withdraw, and the list put to the congress.

A list is named after the body to elect (``"Ban Chấp hành"``). The presidium (or, later, delegates through
the portal) nominates; the candidate accepts or declines; an accepted candidate may withdraw until the
list is voted on. :meth:`CandidateLists.ballot_options` is the list as the ballot numbers it: the accepted
candidates in Vietnamese alphabetical order of their given names (``congress.vietnamese``), or in
nomination order. :meth:`CandidateLists.approval_motion` drafts the motion that puts the list to the
congress; :meth:`CandidateLists.election` drafts the election on an approved list. Every step is audited.
"""

from __future__ import annotations

from sqlalchemy import select

from congress.i18n import M_
from congress.vietnamese import nfc, sorted_names
from controller import audit
from controller.storage.database import Database
from controller.voting.ballots import BallotError, Ballots
from controller.voting.tables import Ballot, BallotKind, BallotStatus, Candidate, CandidateStatus

_ANSWERS = {
    CandidateStatus.NOMINATED: {CandidateStatus.ACCEPTED, CandidateStatus.DECLINED},
    CandidateStatus.ACCEPTED: {CandidateStatus.WITHDRAWN},
}


class CandidateLists:
    def __init__(self, db: Database) -> None:
        self.db = db

    def nominate(
        self,
        list_name: str,
        name: str,
        *,
        actor: str,
        delegate_id: str | None = None,
        biography: str = "",
        photo: str | None = None,
    ) -> int:
        name, list_name = nfc(name), nfc(list_name)
        if not name or len(name) > 200 or not list_name or len(biography) > 2000:
            raise BallotError(
                M_(
                    "a nomination needs a list, a name of at most 200 characters and a biography "
                    "of at most 2,000"
                )
            )
        with self.db.session() as s:
            taken = s.scalar(
                select(Candidate.id).where(
                    Candidate.list_name == list_name,
                    Candidate.name == name,
                    Candidate.status.in_((CandidateStatus.NOMINATED, CandidateStatus.ACCEPTED)),
                )
            )
            if taken:
                raise BallotError(M_("%(name)s is already on the list %(list)s", name=name, list=list_name))
            c = Candidate(
                list_name=list_name,
                name=name,
                delegate_id=delegate_id,
                biography=biography.strip(),
                photo=photo,
                nominated_by=actor,
            )
            s.add(c)
            s.flush()
            audit.record(s, actor, "candidate.nominate", {"list": list_name, "candidate": c.id, "name": name})
            return c.id

    def _answer(self, candidate_id: int, status: CandidateStatus, actor: str) -> None:
        with self.db.session() as s:
            c = s.get(Candidate, candidate_id)
            if c is None:
                raise BallotError(M_("there is no candidate %(id)s", id=candidate_id))
            if status not in _ANSWERS.get(c.status, set()):
                raise BallotError(
                    M_("a %(now)s candidate cannot become %(then)s", now=c.status.value, then=status.value)
                )
            c.status = status
            audit.record(s, actor, f"candidate.{status.value}", {"list": c.list_name, "candidate": c.id})

    def accept(self, candidate_id: int, *, actor: str) -> None:
        self._answer(candidate_id, CandidateStatus.ACCEPTED, actor)

    def decline(self, candidate_id: int, *, actor: str) -> None:
        self._answer(candidate_id, CandidateStatus.DECLINED, actor)

    def withdraw(self, candidate_id: int, *, actor: str) -> None:
        self._answer(candidate_id, CandidateStatus.WITHDRAWN, actor)

    def candidates(self, list_name: str) -> list[Candidate]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(Candidate).where(Candidate.list_name == nfc(list_name)).order_by(Candidate.id)
                )
            )

    def ballot_options(self, list_name: str, *, vietnamese_order: bool = True) -> list[str]:
        """The accepted candidates as the ballot numbers them (1, 2, ... in this order)."""
        names = [c.name for c in self.candidates(list_name) if c.status == CandidateStatus.ACCEPTED]
        return sorted_names(names, given_first=True) if vietnamese_order else names

    def approval_motion(self, ballots: Ballots, list_name: str, title: str, *, actor: str) -> int:
        """A draft motion putting the list (as numbered) to the congress."""
        if not self.ballot_options(list_name):
            raise BallotError(M_("the list %(list)s has no accepted candidate", list=list_name))
        return ballots.create(title, BallotKind.MOTION, actor=actor)

    def election(
        self, ballots: Ballots, list_name: str, *, seats: int, approved_by: int, actor: str, **rules
    ) -> int:
        """A draft election on the list, once the congress adopted the list (motion ``approved_by``)."""
        with self.db.session() as s:
            m = s.get(Ballot, approved_by)
            if (
                m is None
                or m.kind != BallotKind.MOTION
                or m.status != BallotStatus.CLOSED
                or not (m.result or {}).get("passed")
            ):
                raise BallotError(M_("ballot %(id)s is not an adopted motion", id=approved_by))
        return ballots.create(
            list_name,
            BallotKind.ELECTION,
            options=self.ballot_options(list_name),
            seats=seats,
            actor=actor,
            **rules,
        )

"""Candidate lists: nominate, accept or decline, withdraw, and the list put to the congress.

A list is named after the body to elect (``"Ban Chấp hành"``) and has a row of its own
(:class:`controller.voting.tables.CandidateList`, made on first use): how it is numbered
(:class:`ListOrder`: Vietnamese alphabetical order of the given names, ``congress.vietnamese``, or
nomination order), whether delegates may still nominate through the portal, the motion that put it to
the congress and the election made from it.

The presidium (staff) or a delegate (the portal, while nominations are open) nominates; the candidate
accepts or declines; an accepted candidate may withdraw until the election on the list opens.
:meth:`CandidateLists.ballot_options` is the list as the ballot numbers it (1, 2, ... in that order).
:meth:`CandidateLists.approval_motion` drafts the motion that puts the list to the congress: from then on
the list is *fixed* (no nomination, no acceptance, no renumbering) unless the congress rejects it, which
opens it again. :meth:`CandidateLists.election` drafts the election on the adopted list. A withdrawal while
that election is still a draft takes the name off its ballot; once it is open or closed, a withdrawal is
refused. Every step is audited, and announced on the live bus once written (``candidates``:
``{"list": id, "change": ...}``, naming nobody, as it reaches the delegates' tablets too), so the staff
list page and the delegates' app draw the list again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from congress.i18n import M_
from congress.vietnamese import nfc, sorted_names
from controller import audit
from controller.live import EventKind
from controller.storage.database import Database
from controller.voting.ballots import BallotError, Ballots
from controller.voting.candidate_photos import CandidatePhotos
from controller.voting.tables import (
    Ballot,
    BallotKind,
    BallotStatus,
    Candidate,
    CandidateList,
    CandidateStatus,
    ListOrder,
)

_ANSWERS = {
    CandidateStatus.NOMINATED: {CandidateStatus.ACCEPTED, CandidateStatus.DECLINED},
    CandidateStatus.ACCEPTED: {CandidateStatus.WITHDRAWN},
}
#: Statuses that hold a place on a list (a name nominated twice is refused).
_STANDING = (CandidateStatus.NOMINATED, CandidateStatus.ACCEPTED)
MAX_BIOGRAPHY = 2000


class UnknownCandidate(BallotError):
    """No such list or candidate (a page answers 404)."""


@dataclass(frozen=True)
class Numbered:
    """A candidate as a list page shows it: the keypad number (accepted ones only) and the row."""

    number: int | None
    candidate: Candidate


def motion_state(m: Ballot | None) -> str:
    """``none``, ``draft``, ``open``, ``adopted`` or ``rejected``."""
    if m is None:
        return "none"
    if m.status != BallotStatus.CLOSED:
        return m.status.value
    return "adopted" if (m.result or {}).get("passed") else "rejected"


class CandidateLists:
    def __init__(self, db: Database, photos: CandidatePhotos | None = None,
                 publish: Callable[[EventKind, dict], None] | None = None) -> None:
        self.db = db
        self.photos = photos
        self._publish = publish

    def _changed(self, list_id: int | None, change: str) -> None:
        """Tell the live pages that the list changed (after the change is committed)."""
        if self._publish is not None and list_id is not None:
            self._publish(EventKind.CANDIDATES, {"list": list_id, "change": change})

    # -- lists ------------------------------------------------------------------------------------
    def _ensure(self, s: Session, name: str, actor: str) -> CandidateList:
        cl = s.scalar(select(CandidateList).where(CandidateList.name == name))
        if cl is None:
            cl = CandidateList(name=name, created_by=actor, numbering=ListOrder.VIETNAMESE,
                               nominations_open=True)
            s.add(cl)
            s.flush()
            audit.record(s, actor, "candidate_list.create", {"list": cl.id, "name": name})
        return cl

    def create_list(self, name: str, *, actor: str, numbering: ListOrder = ListOrder.VIETNAMESE) -> int:
        name = nfc(name)
        if not name or len(name) > 200:
            raise BallotError(M_("a candidate list needs the name of the body to elect, at most 200 "
                                 "characters"))
        with self.db.session() as s:
            if s.scalar(select(CandidateList.id).where(CandidateList.name == name)):
                raise BallotError(M_("there is already a list %(list)s", list=name))
            cl = self._ensure(s, name, actor)
            cl.numbering = numbering
            lid = cl.id
        self._changed(lid, "create")
        return lid

    def lists(self) -> list[CandidateList]:
        """Every list, oldest first (a list known only from its nominations gets its row here)."""
        with self.db.session() as s:
            named = set(s.scalars(select(Candidate.list_name).distinct()))
            known = set(s.scalars(select(CandidateList.name)))
            for name in sorted(named - known):
                self._ensure(s, name, "system")
            return list(s.scalars(select(CandidateList).order_by(CandidateList.id)))

    def get_list(self, list_id: int) -> CandidateList:
        with self.db.session() as s:
            cl = s.get(CandidateList, list_id)
            if cl is None:
                raise UnknownCandidate(M_("there is no candidate list %(id)s", id=list_id))
            return cl

    def list_named(self, name: str) -> CandidateList | None:
        with self.db.session() as s:
            return s.scalar(select(CandidateList).where(CandidateList.name == nfc(name)))

    def motion(self, cl: CandidateList) -> Ballot | None:
        if cl.motion_id is None:
            return None
        with self.db.session() as s:
            return s.get(Ballot, cl.motion_id)

    def election_of(self, cl: CandidateList) -> Ballot | None:
        if cl.election_id is None:
            return None
        with self.db.session() as s:
            return s.get(Ballot, cl.election_id)

    @staticmethod
    def _fixed(s: Session, cl: CandidateList) -> bool:
        """The list was put to the congress and the congress has not rejected it."""
        return cl.motion_id is not None and motion_state(s.get(Ballot, cl.motion_id)) != "rejected"

    def is_fixed(self, cl: CandidateList) -> bool:
        with self.db.session() as s:
            return self._fixed(s, cl)

    @staticmethod
    def _election_started(s: Session, cl: CandidateList) -> bool:
        if cl.election_id is None:
            return False
        rounds = s.scalars(select(Ballot.status).where(
            or_(Ballot.id == cl.election_id, Ballot.election_id == cl.election_id)))
        return any(st != BallotStatus.DRAFT for st in rounds)

    def voting_started(self, cl: CandidateList) -> bool:
        """Whether a round of the election on the list is open or closed."""
        with self.db.session() as s:
            return self._election_started(s, cl)

    def configure(self, list_id: int, *, actor: str, numbering: ListOrder | None = None,
                  nominations_open: bool | None = None) -> None:
        with self.db.session() as s:
            cl = s.get(CandidateList, list_id)
            if cl is None:
                raise UnknownCandidate(M_("there is no candidate list %(id)s", id=list_id))
            if numbering is not None and numbering != cl.numbering:
                if self._fixed(s, cl):
                    raise BallotError(M_("the list %(list)s was put to the congress; its numbering is fixed",
                                         list=cl.name))
                cl.numbering = numbering
            if nominations_open is not None:
                cl.nominations_open = nominations_open
            audit.record(s, actor, "candidate_list.configure",
                         {"list": cl.id, "numbering": cl.numbering.value,
                          "nominations_open": cl.nominations_open})
        self._changed(list_id, "configure")

    # -- nominations --------------------------------------------------------------------------------
    def nominate(
        self,
        list_name: str,
        name: str,
        *,
        actor: str,
        delegate_id: str | None = None,
        biography: str = "",
        photo: str | None = None,
        from_portal: bool = False,
    ) -> int:
        """Nominate ``name`` (a delegate when ``delegate_id`` is given) on the list; ``from_portal``: a
        delegate's nomination, refused once the list is closed for nominations."""
        name, list_name = nfc(name), nfc(list_name)
        biography = (biography or "").replace("\r\n", "\n").strip()
        if (not name or len(name) > 200 or not list_name or len(list_name) > 200
                or len(biography) > MAX_BIOGRAPHY):
            raise BallotError(
                M_(
                    "a nomination needs a list, a name of at most 200 characters and a biography "
                    "of at most 2,000"
                )
            )
        with self.db.session() as s:
            cl = self._ensure(s, list_name, actor)
            if self._fixed(s, cl):
                raise BallotError(M_("the list %(list)s was put to the congress; nominations are closed",
                                     list=list_name))
            if from_portal and not cl.nominations_open:
                raise BallotError(M_("nominations to the list %(list)s are closed", list=list_name))
            standing = (Candidate.name == name) if delegate_id is None else or_(
                Candidate.name == name, Candidate.delegate_id == delegate_id)
            taken = s.scalar(
                select(Candidate.id).where(Candidate.list_name == list_name, standing,
                                           Candidate.status.in_(_STANDING))
            )
            if taken:
                raise BallotError(M_("%(name)s is already on the list %(list)s", name=name, list=list_name))
            c = Candidate(
                list_name=list_name,
                name=name,
                delegate_id=delegate_id,
                biography=biography,
                photo=photo,
                nominated_by=actor,
            )
            s.add(c)
            s.flush()
            audit.record(s, actor, "candidate.nominate", {"list": list_name, "candidate": c.id, "name": name,
                                                          "delegate": delegate_id})
            cid, lid = c.id, cl.id
        self._changed(lid, "nominate")
        return cid

    def get(self, candidate_id: int) -> Candidate:
        with self.db.session() as s:
            c = s.get(Candidate, candidate_id)
            if c is None:
                raise UnknownCandidate(M_("there is no candidate %(id)s", id=candidate_id))
            return c

    def _answer(self, candidate_id: int, status: CandidateStatus, actor: str) -> None:
        with self.db.session() as s:
            c = s.get(Candidate, candidate_id)
            if c is None:
                raise UnknownCandidate(M_("there is no candidate %(id)s", id=candidate_id))
            if status not in _ANSWERS.get(c.status, set()):
                raise BallotError(
                    M_("a %(now)s candidate cannot become %(then)s", now=c.status.value, then=status.value)
                )
            cl = self._ensure(s, c.list_name, actor)
            if status == CandidateStatus.ACCEPTED and self._fixed(s, cl):
                raise BallotError(M_("the list %(list)s was put to the congress; it takes no new candidate",
                                     list=cl.name))
            if status == CandidateStatus.WITHDRAWN:
                self._withdraw_from_election(s, cl, c)
            c.status = status
            audit.record(s, actor, f"candidate.{status.value}", {"list": c.list_name, "candidate": c.id})
            lid = cl.id
        self._changed(lid, status.value)

    def _withdraw_from_election(self, s: Session, cl: CandidateList, c: Candidate) -> None:
        if self._election_started(s, cl):
            raise BallotError(M_("voting on the list %(list)s has begun: %(name)s can no longer withdraw",
                                 list=cl.name, name=c.name))
        election = s.get(Ballot, cl.election_id) if cl.election_id is not None else None
        if election is None or c.name not in election.options:
            return
        left = [o for o in election.options if o != c.name]
        if len(left) < election.seats:
            raise BallotError(M_("the draft election %(id)s would have fewer candidates than seats; "
                                 "change its seats first", id=election.id))
        election.options = left
        audit.record(s, "system", "ballot.options", {"ballot": election.id, "options": left,
                                                      "withdrawn": c.name})

    def accept(self, candidate_id: int, *, actor: str) -> None:
        self._answer(candidate_id, CandidateStatus.ACCEPTED, actor)

    def decline(self, candidate_id: int, *, actor: str) -> None:
        self._answer(candidate_id, CandidateStatus.DECLINED, actor)

    def withdraw(self, candidate_id: int, *, actor: str) -> None:
        self._answer(candidate_id, CandidateStatus.WITHDRAWN, actor)

    def set_biography(self, candidate_id: int, biography: str, *, actor: str) -> None:
        """Replace the candidate's biography (until voting on the list begins)."""
        biography = (biography or "").replace("\r\n", "\n").strip()
        if len(biography) > MAX_BIOGRAPHY:
            raise BallotError(M_("a biography has at most 2,000 characters"))
        with self.db.session() as s:
            c = s.get(Candidate, candidate_id)
            if c is None:
                raise UnknownCandidate(M_("there is no candidate %(id)s", id=candidate_id))
            cl = self._ensure(s, c.list_name, actor)
            if self._election_started(s, cl):
                raise BallotError(M_("voting on the list %(list)s has begun: the biographies stay as they "
                                     "were", list=c.list_name))
            c.biography = biography
            audit.record(s, actor, "candidate.biography", {"list": c.list_name, "candidate": c.id})
            lid = cl.id
        self._changed(lid, "biography")

    def set_photo(self, candidate_id: int, data: bytes, source: str, *, actor: str) -> None:
        """Check ``data`` by its content and keep it (sealed) as the candidate's photo."""
        if self.photos is None:
            raise BallotError(M_("this controller keeps no candidate photos"))
        jpeg = self.photos.prepare(data, source)
        c = self.get(candidate_id)
        name = self.photos.save(candidate_id, jpeg)
        with self.db.session() as s:
            row = s.get(Candidate, candidate_id)
            old, row.photo = row.photo, name
            audit.record(s, actor, "candidate.photo", {"list": c.list_name, "candidate": candidate_id})
            lid = self._ensure(s, c.list_name, actor).id
        self.photos.delete(old)
        self._changed(lid, "photo")

    def photo(self, candidate_id: int) -> bytes | None:
        c = self.get(candidate_id)
        return self.photos.read(candidate_id, c.photo) if self.photos else None

    def candidates(self, list_name: str) -> list[Candidate]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(Candidate).where(Candidate.list_name == nfc(list_name)).order_by(Candidate.id)
                )
            )

    def of_delegate(self, delegate_id: str) -> list[Candidate]:
        """Nominations naming the delegate, or made by them (the portal)."""
        with self.db.session() as s:
            return list(s.scalars(select(Candidate).where(or_(
                Candidate.delegate_id == delegate_id, Candidate.nominated_by == f"delegate:{delegate_id}"))
                .order_by(Candidate.id)))

    # -- the ballot ---------------------------------------------------------------------------------
    def ballot_options(self, list_name: str, *, vietnamese_order: bool | None = None) -> list[str]:
        """The accepted candidates as the ballot numbers them (1, 2, ... in this order); the order is
        the list's own numbering unless ``vietnamese_order`` says otherwise."""
        if vietnamese_order is None:
            cl = self.list_named(list_name)
            vietnamese_order = cl is None or cl.numbering == ListOrder.VIETNAMESE
        names = [c.name for c in self.candidates(list_name) if c.status == CandidateStatus.ACCEPTED]
        return sorted_names(names, given_first=True) if vietnamese_order else names

    def numbered(self, cl: CandidateList) -> list[Numbered]:
        """Every nomination of the list in ballot order: the accepted ones numbered 1, 2, ... (as the
        election on the list numbers them, once there is one), then the others unnumbered."""
        rows = self.candidates(cl.name)
        election = self.election_of(cl)
        order = list(election.options) if election is not None else self.ballot_options(cl.name)
        by_name = {c.name: c for c in rows if c.status == CandidateStatus.ACCEPTED}
        out = [Numbered(i, by_name[n]) for i, n in enumerate(order, 1) if n in by_name]
        shown = {n.candidate.id for n in out}
        out += [Numbered(None, c) for c in rows if c.id not in shown]
        return out

    def for_ballot(self, ballot: Ballot) -> CandidateList | None:
        """The list an election (or a further round of it) was made from, or the list a motion puts to
        the congress."""
        with self.db.session() as s:
            if ballot.kind == BallotKind.MOTION:
                return s.scalar(select(CandidateList).where(CandidateList.motion_id == ballot.id))
            if ballot.kind != BallotKind.ELECTION:
                return None
            first = ballot.election_id or ballot.id
            return s.scalar(select(CandidateList).where(CandidateList.election_id == first))

    def approval_motion(self, ballots: Ballots, list_name: str, title: str, *, actor: str) -> int:
        """A draft motion putting the list (as numbered) to the congress; the list is fixed from now on."""
        list_name = nfc(list_name)
        if not self.ballot_options(list_name):
            raise BallotError(M_("the list %(list)s has no accepted candidate", list=list_name))
        with self.db.session() as s:
            cl = self._ensure(s, list_name, actor)
            if self._fixed(s, cl):
                raise BallotError(M_("the list %(list)s was already put to the congress (ballot %(id)s)",
                                     list=list_name, id=cl.motion_id))
        mid = ballots.create(title, BallotKind.MOTION, actor=actor)
        with self.db.session() as s:
            cl = self._ensure(s, list_name, actor)
            cl.motion_id = mid
            audit.record(s, actor, "candidate_list.motion", {"list": cl.id, "motion": mid,
                                                             "options": self.ballot_options(list_name)})
            lid = cl.id
        self._changed(lid, "motion")
        return mid

    def election(
        self, ballots: Ballots, list_name: str, *, seats: int, approved_by: int | None = None, actor: str,
        **rules,
    ) -> int:
        """A draft election on the list, once the congress adopted the list (motion ``approved_by``,
        by default the list's own approval motion)."""
        list_name = nfc(list_name)
        cl = self.list_named(list_name)
        if approved_by is None:
            approved_by = cl.motion_id if cl is not None else None
        if cl is not None and cl.election_id is not None:
            raise BallotError(M_("the election on the list %(list)s exists already (ballot %(id)s)",
                                 list=list_name, id=cl.election_id))
        with self.db.session() as s:
            m = s.get(Ballot, approved_by) if approved_by is not None else None
            if m is None or m.kind != BallotKind.MOTION or motion_state(m) != "adopted":
                raise BallotError(M_("ballot %(id)s is not an adopted motion", id=approved_by or "-"))
        bid = ballots.create(
            list_name,
            BallotKind.ELECTION,
            options=self.ballot_options(list_name),
            seats=seats,
            actor=actor,
            **rules,
        )
        with self.db.session() as s:
            row = self._ensure(s, list_name, actor)
            row.election_id = bid
            audit.record(s, actor, "candidate_list.election", {"list": row.id, "election": bid})
            lid = row.id
        self._changed(lid, "election")
        return bid

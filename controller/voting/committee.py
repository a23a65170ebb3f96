"""The counting committee (Ban kiểm phiếu): who counts paper ballots and who confirms results.

The congress elects the committee by a motion; :meth:`Committee.appoint` records its members (controller
accounts, with the names printed on the vote-count record) and its head, and refuses a motion that
was not adopted. A closed ballot's result stays provisional until the head confirms it with their own
account (:meth:`Committee.confirm`): the paper tally, if paper ballots were issued, must be counted in
first. The confirmation keeps the result as confirmed and the audit chain's head hash at that moment.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from congress.i18n import M_
from controller import audit
from controller.storage.database import Database, utcnow
from controller.storage.tables import User
from controller.voting.ballots import BallotError
from controller.voting.tables import (
    Ballot,
    BallotConfirmation,
    BallotKind,
    BallotStatus,
    CommitteeMember,
    PaperIssue,
)


class Committee:
    def __init__(self, db: Database) -> None:
        self.db = db

    def appoint(
        self, members: list[tuple[str, str]], head: str, *, actor: str, motion_id: int | None = None
    ) -> None:
        """``members``: (account, name as printed); ``head`` is one of the accounts."""
        accounts = [a for a, _ in members]
        if not members or head not in accounts or len(set(accounts)) != len(accounts):
            raise BallotError(M_("a counting committee needs distinct members, one of them its head"))
        with self.db.session() as s:
            known = set(s.scalars(select(User.name).where(User.name.in_(accounts))))
            if missing := [a for a in accounts if a not in known]:
                raise BallotError(M_("every member needs an account of their own; no account %(names)s",
                                     names=", ".join(missing)))
            if motion_id is not None:
                m = s.get(Ballot, motion_id)
                if (
                    m is None
                    or m.kind != BallotKind.MOTION
                    or m.status != BallotStatus.CLOSED
                    or not (m.result or {}).get("passed")
                ):
                    raise BallotError(M_("ballot %(id)s is not an adopted motion", id=motion_id))
            s.execute(delete(CommitteeMember))
            s.add_all(
                [
                    CommitteeMember(account=a, display_name=n, head=a == head, motion_id=motion_id)
                    for a, n in members
                ]
            )
            audit.record(
                s, actor, "committee.appoint", {"members": accounts, "head": head, "motion": motion_id}
            )

    def members(self) -> list[CommitteeMember]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(CommitteeMember).order_by(CommitteeMember.head.desc(), CommitteeMember.account)
                )
            )

    def is_member(self, account: str) -> bool:
        with self.db.session() as s:
            return s.get(CommitteeMember, account) is not None

    def head(self) -> CommitteeMember | None:
        with self.db.session() as s:
            return s.scalar(select(CommitteeMember).where(CommitteeMember.head.is_(True)))

    def confirm(self, ballot_id: int, account: str) -> dict:
        """The head confirms a closed ballot's result (with the paper tally counted in, if any)."""
        with self.db.session() as s:
            member = s.get(CommitteeMember, account)
            if member is None or not member.head:
                raise BallotError(
                    M_("only the head of the counting committee confirms a result, with their own account")
                )
            b = s.scalar(select(Ballot).where(Ballot.id == ballot_id).with_for_update())
            if b is None or b.status != BallotStatus.CLOSED:
                raise BallotError(M_("ballot %(id)s is not closed", id=ballot_id))
            if s.get(BallotConfirmation, ballot_id) is not None:
                raise BallotError(M_("ballot %(id)s is already confirmed", id=ballot_id))
            paper = s.scalar(select(PaperIssue.delegate_id).where(PaperIssue.ballot_id == ballot_id).limit(1))
            if paper is not None and not (b.result or {}).get("paper_combined"):
                raise BallotError(M_("paper ballots were issued: count the paper tally in first"))
            audit.record(s, f"user:{account}", "ballot.confirm", {"ballot": ballot_id})
            h = audit.head(s)
            head_hash = h.row_hash
            confirmed = {
                "by": account,
                "name": member.display_name,
                "at": utcnow().isoformat(),
                "audit_head": {"seq": h.seq, "hash": h.row_hash, "fingerprint": h.fingerprint},
            }
            b.result = dict(b.result or {}) | {"confirmed": confirmed}
            s.add(
                BallotConfirmation(
                    ballot_id=ballot_id, account=account, result=b.result, audit_head=head_hash
                )
            )
            return b.result

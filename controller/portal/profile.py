"""A delegate's own data in the app: what the roster holds about them, face data and consent, the
withdrawal of consent (badge only from then on), requests to correct their data; and their results.

:class:`Profiles` (``Services.portal.profiles``) reads only the delegate's own rows. Withdrawing
consent sets the roster's ``consent`` to no and deletes every face record and kept photo at once
(:meth:`controller.delegates.enrollment.Enroller.forget`, which bumps the gallery revision so the door
units receive a gallery without them); it is audited and noted in ``portal_consent_withdrawals``.
A roster import that says ``consent=yes`` again would restore consent: the staff page lists the
withdrawals so the roster can be corrected.

Results (:meth:`Profiles.results`): closed ballots with their stored result; for a *named* ballot the
delegate's own recorded choice (by the rules of a named ballot, choices are public); for a *secret*
ballot only whether they took part, which is all that is stored next to their id.
"""

from __future__ import annotations

from sqlalchemy import select

from congress.errors import CongressError
from congress.i18n import M_, Message
from controller import audit
from controller.delegates.enrollment import Enroller
from controller.portal.tables import ConsentWithdrawal, CorrectionRequest, RequestStatus
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, EnrollStatus, FacePhoto
from controller.voting.tables import Ballot, BallotParticipation, BallotStatus, KeypadAssignment, NamedVote

MAX_TEXT = 2000


class ProfileError(CongressError):
    def __init__(self, text: Message) -> None:
        super().__init__(str(text))
        self.text = text


class Profiles:
    def __init__(self, db: Database, enroller: Enroller) -> None:
        self.db, self.enroller = db, enroller

    def of(self, delegate_id: str) -> dict:
        with self.db.session() as s:
            d = s.get(Delegate, delegate_id)
            photos = s.scalar(select(FacePhoto.id).where(FacePhoto.delegate_id == delegate_id,
                                                          FacePhoto.status == EnrollStatus.ENROLLED).limit(1))
            keypad = s.scalar(select(KeypadAssignment.keypad_id).where(
                KeypadAssignment.delegate_id == delegate_id, KeypadAssignment.lost.is_(False)))
            requests = s.scalars(select(CorrectionRequest).where(CorrectionRequest.delegate_id == delegate_id)
                                 .order_by(CorrectionRequest.created_at.desc())).all()
            return {
                "id": d.id, "name": d.name, "delegation": d.delegation, "seat": d.seat,
                "keypad": keypad, "consent": d.consent, "face_enrolled": photos is not None,
                "site": d.site,
                "corrections": [{"id": r.id, "text": r.text, "status": r.status.value,
                                 "created_at": r.created_at.isoformat()} for r in requests],
            }

    def withdraw_consent(self, delegate_id: str) -> int:
        """Badge only from now on: consent off and every face record deleted; photos deleted."""
        with self.db.session() as s:
            d = s.get(Delegate, delegate_id, with_for_update=True)
            deleted = self.enroller.forget(s, delegate_id)
            d.consent, d.updated_at = False, utcnow()
            s.add(ConsentWithdrawal(delegate_id=delegate_id, photos_deleted=deleted))
            audit.record(s, f"delegate:{delegate_id}", "portal.consent_withdrawn",
                         {"delegate": delegate_id, "photos_deleted": deleted})
            return deleted

    def request_correction(self, delegate_id: str, text: str) -> int:
        text = (text or "").strip()
        if not text:
            raise ProfileError(M_("say what should be corrected"))
        if len(text) > MAX_TEXT:
            raise ProfileError(M_("the text is too long (at most %(num)d characters)", num=MAX_TEXT))
        with self.db.session() as s:
            r = CorrectionRequest(delegate_id=delegate_id, text=text)
            s.add(r)
            s.flush()
            audit.record(s, f"delegate:{delegate_id}", "portal.correction_requested",
                         {"delegate": delegate_id, "request": r.id})
            return r.id

    def corrections(self, *, open_only: bool = False) -> list[dict]:
        with self.db.session() as s:
            q = (select(CorrectionRequest, Delegate.name)
                 .join(Delegate, Delegate.id == CorrectionRequest.delegate_id)
                 .order_by(CorrectionRequest.created_at.desc()))
            if open_only:
                q = q.where(CorrectionRequest.status == RequestStatus.OPEN)
            return [{"id": r.id, "delegate_id": r.delegate_id, "name": name, "text": r.text,
                     "status": r.status.value, "created_at": r.created_at, "handled_by": r.handled_by}
                    for r, name in s.execute(q)]

    def handle_correction(self, request_id: int, status: RequestStatus, *, actor: str) -> bool:
        with self.db.session() as s:
            r = s.get(CorrectionRequest, request_id)
            if r is None:
                return False
            r.status, r.handled_by, r.handled_at = status, actor[:64], utcnow()
            audit.record(s, actor, "portal.correction_handled",
                         {"request": request_id, "status": status.value})
            return True

    def withdrawals(self) -> list[dict]:
        with self.db.session() as s:
            q = (select(ConsentWithdrawal, Delegate.name, Delegate.consent)
                 .join(Delegate, Delegate.id == ConsentWithdrawal.delegate_id)
                 .order_by(ConsentWithdrawal.at.desc()))
            return [{"delegate_id": w.delegate_id, "name": name, "at": w.at,
                     "photos_deleted": w.photos_deleted, "consent_again": consent}
                    for w, name, consent in s.execute(q)]

    def results(self, delegate_id: str) -> list[dict]:
        """Closed ballots, newest first, with the result and this delegate's own part in them."""
        with self.db.session() as s:
            ballots = s.scalars(select(Ballot).where(Ballot.status == BallotStatus.CLOSED)
                                .order_by(Ballot.closed_at.desc(), Ballot.id.desc())).all()
            took_part = set(s.scalars(select(BallotParticipation.ballot_id).where(
                BallotParticipation.delegate_id == delegate_id)))
            votes = s.scalars(select(NamedVote).where(NamedVote.delegate_id == delegate_id))
            named = {v.ballot_id: v for v in votes}
            out = []
            for b in ballots:
                mine = None
                if not b.secret and b.id in named:
                    v = named[b.id]
                    mine = {"choices": [b.options[i - 1] for i in v.choices if 1 <= i <= len(b.options)],
                            "invalid": v.invalid}
                out.append({"id": b.id, "title": b.title, "kind": b.kind.value, "secret": b.secret,
                            "closed_at": b.closed_at.isoformat() if b.closed_at else None,
                            "result": b.result, "voted": b.id in took_part or b.id in named, "mine": mine})
            return out

"""Ballots: create, open (quorum check), extend, close, and record keypad votes.

:class:`Ballots` is constructed once (``create_app`` or a command) with the :class:`Database`, the
quorum policy and two optional hooks: ``announce(BallotAnnounce)`` tells the keypad reader to
broadcast a ballot opening/closing to the keypads, ``publish(event, data)`` feeds the live page.
The reader calls :meth:`Ballots.record_vote` inside its own transaction, together with the keypad
counter update, so a vote, its counter and its acknowledgement stand or fall together.

Eligible to vote: a delegate checked in (``controller.checkins.attendance.present_ids``) who holds a keypad
that is not reported lost. Each delegate votes once; a named ballot may allow changing the vote
until it closes. Every ballot keeps one aggregate counter per option (``ballot_counts``, which the
tally reads: a few rows whatever the size of the hall); named ballots also keep each delegate's
vote (``named_votes``, see :meth:`Ballots.recount`). Secret ballots never allow a change: the choice
only went into the counters, with no trace of who added it, so there is nothing to take back — see
``docs/keypad-protocol.md`` ("Secret ballots"). While a secret ballot is open its counters exist only
sealed under a ballot key (``controller.voting.secret_tally``, keys from ``keys``: a folder beside a
SQLite file unless ``create_app`` passes ``<data_dir>/ballot-keys``); the close writes the final counts,
shreds the key and, on SQLite, checkpoints and truncates the write-ahead log, retrying while a reader
holds it (:meth:`controller.storage.database.Database.truncate_wal`). Votes are never written to the
audit log or the application log; opening, extending and closing are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from congress.errors import CongressError
from congress.i18n import M_, Message
from congress.keypads.protocol import AckStatus, BallotAnnounce, BallotState, VoteFrame
from controller import audit
from controller.checkins.attendance import QuorumPolicy, quorum
from controller.live import EventKind
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, Presence
from controller.voting import forms
from controller.voting import votes as ballot_votes
from controller.voting.secret_tally import BallotKeys, SecretTallies
from controller.voting.tables import (
    Ballot,
    BallotCount,
    BallotForm,
    BallotKind,
    BallotParticipation,
    BallotStatus,
    KeypadAssignment,
    MajorityBase,
    MajorityRule,
    NamedVote,
)
from controller.voting.tally import MOTION_OPTIONS, Result, Special, counts_from_choices, tally

log = logging.getLogger(__name__)

KIND_CODE = {BallotKind.MOTION: 1, BallotKind.ELECTION: 2, BallotKind.CHOICE: 2}


class BallotError(CongressError):
    """A ballot operation is not possible in the ballot's current state.

    ``text`` is the message for a page (a :class:`congress.i18n.Message`, translated there with
    ``|t``); ``str(exc)`` is the English text for the command line."""

    def __init__(self, message: Message | str, *, hint: str | None = None) -> None:
        super().__init__(str(message), hint=hint)
        self.text = message


def eligible_keypads(session: Session) -> dict[int, str]:
    """keypad id -> delegate id for every checked-in delegate holding a working keypad."""
    q = (
        select(KeypadAssignment.keypad_id, KeypadAssignment.delegate_id)
        .join(Presence, Presence.delegate_id == KeypadAssignment.delegate_id)
        .join(Delegate, Delegate.id == KeypadAssignment.delegate_id)
        .where(Presence.inside.is_(True), KeypadAssignment.lost.is_(False))
    )
    return dict(session.execute(q).all())


_max_choices = ballot_votes.max_choices


class Ballots:
    """See the module docstring."""

    def __init__(self, db: Database, policy: QuorumPolicy | None = None, *,
                 announce: Callable[[BallotAnnounce], None] | None = None,
                 publish: Callable[[str, dict], None] | None = None, keys: BallotKeys | None = None,
                 scrub_timeout_s: float = 300.0) -> None:
        self.db = db
        self.tallies = SecretTallies(keys or BallotKeys.beside(db))
        self.scrub_timeout_s = scrub_timeout_s
        self.policy = policy or QuorumPolicy()
        self.announce = announce
        self.publish = publish
        self._last_progress: dict[int, float] = {}
        self._pending: set[int] = set()
        self._progress_lock = threading.Lock()
        #: The last state announced (keypads and live page) per ballot, so that each opening and each
        #: closing goes out once, whichever process made it (:meth:`announce_changes`).
        self._announced: dict[int, BallotState] = {}
        self._announce_lock = threading.Lock()

    # -- chair actions ------------------------------------------------------------------------------
    def create(self, title: str, kind: BallotKind, *, options: list[str] | None = None, seats: int = 1,
               secret: bool = False, allow_change: bool = True, rule: MajorityRule = MajorityRule.SIMPLE,
               base: MajorityBase = MajorityBase.CAST, form: BallotForm = BallotForm.CHOOSE,
               share: tuple[int, int] | None = None, empty_invalid: bool = False,
               election_id: int | None = None, round_no: int = 1, actor: str = "system") -> int:
        """A draft ballot. Motions take no options (yes / no / abstain); elections take 1-64 candidates and
        1 to that many seats; choices take 2-64 options. ``share`` is the (num, den) of
        ``MajorityRule.SHARE``; ``election_id``/``round_no`` make it a further round of an election."""
        if kind == BallotKind.MOTION:
            if options:
                raise BallotError(M_("a motion is voted yes, no or abstain and takes no candidates: "
                                     "leave the candidates empty, or make the ballot an election or a "
                                     "choice between options"))
            options, seats = list(MOTION_OPTIONS), 1
        elif kind == BallotKind.CHOICE:
            if not options or not 2 <= len(options) <= 64:
                raise BallotError(M_("a choice needs 2 to 64 options, one per line"))
            seats = 1
        elif not options or len(options) > 64 or not 1 <= seats <= len(options):
            raise BallotError(
                M_("an election needs 1 to 64 candidates and 1 to (number of candidates) seats"))
        if not title.strip() or len(title.strip()) > 300:
            raise BallotError(M_("a ballot needs a title of at most 300 characters"))
        if len(set(options)) != len(options) or any(not o.strip() or len(o) > 200 for o in options):
            raise BallotError(M_("candidate names must be distinct, not empty, at most 200 characters"))
        if rule == MajorityRule.SHARE:
            if not share or not 0 < share[0] < share[1] <= 100:
                raise BallotError(M_("a share is a fraction such as 1/2 or 3/5: more than 0, less than 1"))
        else:
            share = None
        if kind != BallotKind.ELECTION:
            form, empty_invalid = BallotForm.CHOOSE, False
        with self.db.session() as s:
            b = Ballot(title=title.strip(), kind=kind, options=list(options), seats=seats, secret=secret,
                       allow_change=allow_change and not secret, rule=rule, base=base, form=form,
                       share_num=share[0] if share else None, share_den=share[1] if share else None,
                       empty_invalid=empty_invalid, election_id=election_id, round_no=round_no)
            s.add(b)
            s.flush()
            audit.record(s, actor, "ballot.create", {"ballot": b.id, "title": b.title, "kind": kind.value,
                                                      "secret": secret, "options": list(options),
                                                      "seats": seats, "rule": rule.value, "base": base.value,
                                                      "form": form.value,
                                                      "share": list(share) if share else None,
                                                      "election": election_id, "round": round_no})
            bid = b.id
        if self.publish:
            self.publish(EventKind.BALLOT, {"ballot": bid, "status": BallotStatus.DRAFT.value})
        return bid

    def open(self, ballot_id: int, *, actor: str, duration_s: int | None = None,
             allow_without_quorum: bool = False) -> dict:
        """Open a draft ballot; refuses without quorum unless the chair overrides (audited)."""
        if duration_s is not None and not 0 < duration_s <= 7 * 86400:
            raise BallotError(M_("the voting time must be positive (and under a week)"))
        with self.db.session() as s:
            b = self._get(s, ballot_id, lock=True)
            if b.status != BallotStatus.DRAFT:
                raise BallotError(
                    M_("ballot %(id)s is not a draft; only a draft can be opened", id=ballot_id))
            if s.scalar(select(func.count()).select_from(Ballot).where(Ballot.status == BallotStatus.OPEN)):
                raise BallotError(M_("another ballot is open; close it first"))
            q = quorum(s, self.policy)
            if not q.reached and not allow_without_quorum:
                raise BallotError(M_("no quorum: %(present)s present of %(required)s required",
                                     present=q.present_summoned, required=q.required),
                                  hint="wait for more check-ins, or open anyway (recorded in the audit log)")
            now = utcnow()
            b.status, b.opened_at = BallotStatus.OPEN, now
            b.closes_at = now + dt.timedelta(seconds=duration_s) if duration_s else None
            b.present_at_open, b.summoned_at_open = q.present, q.summoned
            b.quorum_required = q.required
            b.eligible_at_open = len(eligible_keypads(s))
            s.add_all([BallotCount(ballot_id=b.id, option=o, count=0) for o in self._count_rows(b)])
            if b.secret:
                self.tallies.start(s, b)  # the key is on disk before the ballot is open
            audit.record(s, actor, "ballot.open", {"ballot": b.id, "quorum": q.as_dict(),
                                                    "without_quorum": not q.reached,
                                                    "eligible": b.eligible_at_open})
            info = {"ballot": b.id, "quorum": q.as_dict(), "eligible": b.eligible_at_open}
        self._notify(b, BallotState.OPEN)
        return info

    def extend(self, ballot_id: int, seconds: int, *, actor: str) -> dt.datetime:
        if not 0 < seconds <= 86400:
            raise BallotError(M_("extend by a positive time of at most a day"))
        with self.db.session() as s:
            b = self._get(s, ballot_id, lock=True)
            if b.status != BallotStatus.OPEN:
                raise BallotError(M_("ballot %(id)s is not open", id=ballot_id))
            b.closes_at = max(b.closes_at or utcnow(), utcnow()) + dt.timedelta(seconds=seconds)
            audit.record(s, actor, "ballot.extend", {"ballot": b.id, "seconds": seconds})
            closes = b.closes_at
        if self.publish:
            self.publish(EventKind.BALLOT, {"ballot": ballot_id, "closes_at": closes.isoformat()})
        return closes

    def close(self, ballot_id: int, *, actor: str) -> Result:
        with self.db.session() as s:
            b = self._get(s, ballot_id, lock=True)
            if b.status != BallotStatus.OPEN:
                raise BallotError(M_("ballot %(id)s is not open", id=ballot_id))
            b.status, b.closed_at = BallotStatus.CLOSED, utcnow()
            final = self.tallies.finish(s, b) if b.secret else None
            if final is not None:
                for row in s.scalars(select(BallotCount).where(BallotCount.ballot_id == b.id)):
                    row.count = final.get(row.option, 0)
            result = self._tally(s, b)
            counted = result.as_dict()
            audit.record(s, actor, "ballot.close", {"ballot": b.id, "result": counted})
            # The chain's head right after the close, for the minutes and the projector (anchors the chain:
            # ``congress audit verify --expect SEQ:FINGERPRINT`` checks it later).
            h = audit.head(s)
            anchor = {"seq": h.seq, "hash": h.row_hash, "fingerprint": h.fingerprint}
            b.result = counted | {"audit_head": anchor}
        if b.secret:
            self._scrub(b.id)
        self._notify(b, BallotState.CLOSED)
        return result

    def _scrub(self, ballot_id: int) -> None:
        """After a secret ballot's close committed: shred its key (and any left by a close cut short),
        then on SQLite fold the write-ahead log into the database file and truncate it — retried while
        a long reader (a backup, an audit check) holds it, so the close returns only once it is empty."""
        self.tallies.keys.destroy(ballot_id)
        self.sweep_keys()
        if not self.db.truncate_wal(timeout_s=self.scrub_timeout_s):
            log.warning("ballot %d closed, but the write-ahead log could not be truncated within %.0f s "
                        "(a reader holds it); it holds only sealed tallies whose key is destroyed",
                        ballot_id, self.scrub_timeout_s)

    def sweep_keys(self) -> list[int]:
        """Shred tally keys of ballots no longer open (run at start and after every secret close)."""
        with self.db.session() as s:
            return self.tallies.keys.sweep(s)

    def expire_due(self, *, actor: str = "timer") -> list[int]:
        """Close open ballots whose time ran out; returns their ids."""
        with self.db.session() as s:
            due = s.scalars(select(Ballot.id).where(Ballot.status == BallotStatus.OPEN,
                                                    Ballot.closes_at <= utcnow())).all()
        for bid in due:
            with contextlib.suppress(BallotError):  # closed by the chair meanwhile
                self.close(bid, actor=actor)
        return list(due)

    # -- votes (called by the keypad reader inside its transaction) -------------------------------
    def record_vote(self, s: Session, vote: VoteFrame) -> AckStatus:
        return self.record_votes(s, [vote])[0]

    def record_votes(self, s: Session, votes: list[VoteFrame]) -> list[AckStatus]:
        """Record a batch of keypad votes in the caller's transaction (see ``controller.voting.votes``);
        one status per vote, in order."""
        return ballot_votes.record_votes(s, votes, self.tallies)

    def votes_committed(self, ballot_ids: set[int]) -> None:
        """Called by the reader after a batch committed: live received/eligible counts (no choices),
        at most twice a second per ballot."""
        if not self.publish:
            return
        now = time.monotonic()
        with self._progress_lock:  # the reader and the ballot timer both call this
            self._pending |= ballot_ids
            due = [b for b in self._pending if now - self._last_progress.get(b, 0.0) >= 0.5]
            for bid in due:  # the others go out with flush_progress() or the next batch
                self._pending.discard(bid)
                self._last_progress[bid] = now
        for bid in due:
            with contextlib.suppress(BallotError):
                p = self.progress(bid)
                self.publish(EventKind.BALLOT, {"ballot": bid, "status": p["status"],
                                                "received": p["received"], "eligible": p["eligible"]})

    def flush_progress(self) -> None:
        """Publish progress held back by the rate limit (called by the ballot timer every second)."""
        if self._pending:
            self.votes_committed(set())

    # -- reading ------------------------------------------------------------------------------------
    def progress(self, ballot_id: int) -> dict:
        """Received / eligible now, and the keypads of eligible delegates not heard from yet."""
        with self.db.session() as s:
            b = self._get(s, ballot_id)
            holders = eligible_keypads(s)
            voted = set(s.scalars(select(BallotParticipation.delegate_id)
                                  .where(BallotParticipation.ballot_id == ballot_id)))
        missing = sorted(k for k, d in holders.items() if d not in voted)
        return {"ballot": ballot_id, "status": b.status.value, "received": len(voted),
                "eligible": len(holders), "not_heard": missing,
                "closes_at": b.closes_at.isoformat() if b.closes_at else None}

    def result(self, ballot_id: int) -> Result:
        with self.db.session() as s:
            return self._tally(s, self._get(s, ballot_id))

    def recount(self, ballot_id: int) -> dict[int, int]:
        """Named ballots: the counts rebuilt from the individual votes (cross-check of the counters)."""
        with self.db.session() as s:
            b = self._get(s, ballot_id)
            if b.secret:
                raise BallotError(M_("a secret ballot keeps no individual votes to recount"))
            rows = s.execute(select(NamedVote.choices, NamedVote.invalid).where(NamedVote.ballot_id == b.id))
            return {k: v for k, v in counts_from_choices(rows, _max_choices(b)).items() if v}

    def get(self, ballot_id: int) -> Ballot:
        with self.db.session() as s:
            return self._get(s, ballot_id)

    def list(self) -> list[Ballot]:
        with self.db.session() as s:
            return list(s.scalars(select(Ballot).order_by(Ballot.id.desc())))

    def current(self) -> Ballot | None:
        with self.db.session() as s:
            return s.scalar(select(Ballot).where(Ballot.status == BallotStatus.OPEN))

    def delete_draft(self, ballot_id: int, *, actor: str) -> None:
        with self.db.session() as s:
            b = self._get(s, ballot_id)
            if b.status != BallotStatus.DRAFT:
                raise BallotError(M_("only a draft ballot can be deleted"))
            s.execute(delete(Ballot).where(Ballot.id == ballot_id))
            audit.record(s, actor, "ballot.delete", {"ballot": ballot_id})
        if self.publish:
            self.publish(EventKind.BALLOT, {"ballot": ballot_id, "status": "deleted"})

    # -- internals ----------------------------------------------------------------------------------
    @staticmethod
    def _count_rows(b: Ballot) -> list[int]:
        return [*range(1, len(b.options) + 1), Special.VALID, Special.INVALID, Special.BLANK]

    def _tally(self, s: Session, b: Ballot) -> Result:
        counts = dict(s.execute(select(BallotCount.option, BallotCount.count)
                                .where(BallotCount.ballot_id == b.id)).all())
        share = (b.share_num, b.share_den) if b.share_num and b.share_den else None
        return tally(b.kind, list(b.options), b.seats, counts, rule=b.rule, base=b.base,
                     present=b.present_at_open or 0, summoned=b.summoned_at_open or 0, share=share)

    @staticmethod
    def _get(s: Session, ballot_id: int, *, lock: bool = False) -> Ballot:
        q = select(Ballot).where(Ballot.id == ballot_id)
        b = s.scalar(q.with_for_update() if lock else q)
        if b is None:
            raise BallotError(M_("there is no ballot %(id)s", id=ballot_id))
        return b

    def announce_changes(self) -> list[tuple[int, BallotState]]:
        """Announce openings and closings this process has not announced yet: those made by another
        process on the same database (``congress controller ballot open|close``), and at start the
        ballot already open. Called by the ballot timer every tick; a cheap read (the open ballot and
        the ballots announced open), each change announced once. Returns what it announced."""
        if self.announce is None and self.publish is None:
            return []
        with self._announce_lock:
            waiting = [bid for bid, st in self._announced.items() if st == BallotState.OPEN]
        with self.db.session() as s:
            rows = list(s.scalars(select(Ballot).where(
                (Ballot.status == BallotStatus.OPEN) | Ballot.id.in_(waiting))))
        out = []
        states = {BallotStatus.OPEN: BallotState.OPEN, BallotStatus.CLOSED: BallotState.CLOSED}
        for b in rows:
            state = states.get(b.status)
            if state is not None and self._notify(b, state):
                out.append((b.id, state))
        gone = set(waiting) - {b.id for b in rows}  # a ballot deleted meanwhile: nothing to announce
        if gone:
            with self._announce_lock:
                for bid in gone:
                    self._announced.pop(bid, None)
        return out

    def _notify(self, b: Ballot, state: BallotState) -> bool:
        """Announce ``state`` of ``b`` to the keypads and the live page, unless it went out already
        (the chair's action and the timer's read of the database may both see one change)."""
        with self._announce_lock:
            if self._announced.get(b.id) == state:
                return False
            self._announced[b.id] = state
            log.info("ballot %d %s", b.id, state.name.lower())
            if self.announce:
                pressed = forms.max_pressed(b.kind, b.form, b.seats, len(b.options))
                self.announce(BallotAnnounce(b.id, state, KIND_CODE[b.kind], pressed, len(b.options)))
        if self.publish:
            self.publish(EventKind.BALLOT, {"ballot": b.id, "status": b.status.value})
        return True

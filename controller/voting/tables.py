"""Tables of the voting area: keypad state and assignment, ballots, participation and choices.

Registered on :class:`controller.storage.database.Base` and listed in
:data:`controller.storage.migrate.TABLE_MODULES`, so migrations and ``pending_changes`` see them. The
secret-ballot split lives here:

* ``ballot_participation`` — who has voted (ballot id, delegate id). No time, no order column.
* ``ballot_counts`` — what was chosen, as one aggregate counter per (ballot, option), for every
  ballot; for a secret ballot it is the only record of the choices. Rows are created when the ballot
  opens and all of a ballot's rows are rewritten on every vote, so neither row order nor any column
  says which vote came when or from whom.
* ``secret_tallies`` — while a secret ballot is open, its counters sealed under a key held outside the
  database and destroyed at the close (``controller.voting.secret_tally``); a secret ballot's
  ``ballot_counts`` rows are written once, at the close, with the final counts.
* ``named_votes`` — for named (roll-call) ballots only: delegate and choice together, by design; a
  delegate who voted on paper gets their row when the committee's agreed reading of the paper ballots
  is counted in (``paper_named_entries``, ``controller.voting.paper``).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

import controller.storage.tables  # noqa: F401  (the delegates table the keypad assignments refer to)
from controller.storage.database import Base, UTCDateTime, enum_column, utcnow

#: Keypad ids and counters are unsigned 32-bit on the wire: more than PostgreSQL's INTEGER holds.
_U32 = BigInteger().with_variant(Integer, "sqlite")


class BallotKind(enum.StrEnum):
    MOTION = "motion"  # yes / no / abstain
    ELECTION = "election"  # up to `seats` of the candidates (see BallotForm)
    CHOICE = "choice"  # one of several options (drafts, venues, dates): the options are the ballot's own


class BallotForm(enum.StrEnum):
    """How an election ballot paper is filled in (``controller.voting.forms``)."""

    CHOOSE = "choose"  # press (tick) the candidates you choose, at most `seats`
    STRIKE = "strike"  # press (strike out) the candidates you do not keep; keep at most `seats`


class BallotStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class MajorityRule(enum.StrEnum):
    SIMPLE = "simple"  # more yes than no; elections and choices: the most votes
    ABSOLUTE = "absolute"  # more than half of the base
    TWO_THIRDS = "two_thirds"  # at least two thirds of the base
    SHARE = "share"  # more than share_num/share_den of the base


class MajorityBase(enum.StrEnum):
    CAST = "cast"  # votes cast: motions yes + no; elections valid ballots that are not blank
    COLLECTED = "collected"  # ballots collected: valid + invalid
    VALID = "valid"  # valid ballots (blank ones included)
    PRESENT = "present"  # delegates present when the ballot opened
    SUMMONED = "summoned"  # delegates summoned to the congress


class AssignMode(enum.StrEnum):
    SEAT = "seat"  # pre-assigned with the seat plan
    DOOR = "door"  # handed out at the door, bound at check-in


class RebindStatus(enum.StrEnum):
    PENDING = "pending"  # asked by a technician while a ballot was open; waits for the chair
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class KeypadEvent(enum.StrEnum):
    """What happened to a keypad while a ballot was open (the ballot's exceptions)."""

    REBIND_REQUESTED = "rebind_requested"
    REBIND_CONFIRMED = "rebind_confirmed"
    REBIND_REJECTED = "rebind_rejected"
    LOST = "lost"
    FOUND = "found"
    UNBOUND = "unbound"


class KeypadState(Base):
    """One paired keypad: replay counter (persisted before every ack) and health."""

    __tablename__ = "keypad_state"

    keypad_id: Mapped[int] = mapped_column(_U32, primary_key=True, autoincrement=False)
    last_counter: Mapped[int] = mapped_column(_U32, default=0)
    battery_pct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rssi_dbm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_seen: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    base_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class KeypadAssignment(Base):
    """Which delegate holds which keypad; changes are audited (``controller.voting.assignment``)."""

    __tablename__ = "keypad_assignments"

    keypad_id: Mapped[int] = mapped_column(_U32, primary_key=True, autoincrement=False)
    delegate_id: Mapped[str | None] = mapped_column(
        ForeignKey("delegates.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    mode: Mapped[AssignMode] = mapped_column(enum_column(AssignMode), default=AssignMode.SEAT)
    lost: Mapped[bool] = mapped_column(Boolean, default=False)
    bound_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ballot(Base):
    """A motion or an election; ``id`` is the ballot number the keypads show and send back."""

    __tablename__ = "ballots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[BallotKind] = mapped_column(enum_column(BallotKind))
    options: Mapped[list] = mapped_column(JSON)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=True)
    rule: Mapped[MajorityRule] = mapped_column(enum_column(MajorityRule), default=MajorityRule.SIMPLE)
    base: Mapped[MajorityBase] = mapped_column(enum_column(MajorityBase), default=MajorityBase.CAST)
    #: The share of MajorityRule.SHARE: elected / adopted with more than share_num/share_den of the base.
    share_num: Mapped[int | None] = mapped_column(Integer, nullable=True)
    share_den: Mapped[int | None] = mapped_column(Integer, nullable=True)
    form: Mapped[BallotForm] = mapped_column(enum_column(BallotForm), default=BallotForm.CHOOSE,
                                             server_default=BallotForm.CHOOSE.value)
    #: A ballot that keeps or chooses nobody is invalid (else it is a valid blank ballot).
    empty_invalid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Rounds of one election: the first round's ballot id (None on the first round itself) and the number.
    election_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id"), nullable=True)
    round_no: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[BallotStatus] = mapped_column(enum_column(BallotStatus), default=BallotStatus.DRAFT)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    present_at_open: Mapped[int | None] = mapped_column(Integer, nullable=True)
    summoned_at_open: Mapped[int | None] = mapped_column(Integer, nullable=True)
    eligible_at_open: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quorum_required: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class BallotParticipation(Base):
    """Who has voted in a ballot (never what)."""

    __tablename__ = "ballot_participation"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    delegate_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class BallotCount(Base):
    """Aggregate counter of one option in a secret ballot (special rows: see ``controller.voting.tally``)."""

    __tablename__ = "ballot_counts"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    option: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SecretTally(Base):
    """An open secret ballot's counter vector, sealed (see ``controller.voting.secret_tally``)."""

    __tablename__ = "secret_tallies"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class NamedVote(Base):
    """A vote in a named ballot: who chose what (public by the rules of a named ballot)."""

    __tablename__ = "named_votes"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    delegate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    choices: Mapped[list] = mapped_column(JSON)
    invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class KeypadRebind(Base):
    """A keypad binding asked for while a ballot is open: it takes effect once the chair confirms it
    (``controller.voting.rebinds``)."""

    __tablename__ = "keypad_rebinds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    keypad_id: Mapped[int] = mapped_column(_U32)
    delegate_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[AssignMode] = mapped_column(enum_column(AssignMode), default=AssignMode.SEAT)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id", ondelete="SET NULL"),
                                                  nullable=True)
    status: Mapped[RebindStatus] = mapped_column(enum_column(RebindStatus), default=RebindStatus.PENDING)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BallotException(Base):
    """A keypad change made while a ballot was open, listed with the ballot (page, projector, minutes).
    Never a choice: which keypad, whose, what happened, who did it and when."""

    __tablename__ = "ballot_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), index=True)
    event: Mapped[KeypadEvent] = mapped_column(enum_column(KeypadEvent))
    keypad_id: Mapped[int] = mapped_column(_U32)
    delegate_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    rebind_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PaperIssue(Base):
    """A paper ballot handed to a delegate (who then cannot vote by keypad in that ballot, nor the other
    way round: issuing also records the delegate in ``ballot_participation``). No choice is stored here."""

    __tablename__ = "paper_issues"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    delegate_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class PaperTally(Base):
    """One counter's entry of a ballot's paper tally (double entry: two counters, and they must match).

    ``counts`` is the count mapping of ``controller.voting.tally`` (option -> votes, and the special rows
    for valid, invalid and blank ballots) as a JSON object with string keys."""

    __tablename__ = "paper_tallies"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    counter: Mapped[str] = mapped_column(String(64), primary_key=True)  # the account that entered it
    counts: Mapped[dict] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperNamedEntry(Base):
    """One counter's reading of one delegate's paper ballot in a named ballot (double entry, as the paper
    tally: two counters, and they must agree on every delegate). Public, as a named ballot's votes are.

    ``marks`` are the options' numbers as marked on the paper (what :func:`controller.voting.forms.paper`
    reads: the candidates chosen, or struck out on a strike ballot); ``spoilt`` is a paper the committee
    rules invalid for another reason (torn, signed); ``handed_in`` false: issued but never handed back."""

    __tablename__ = "paper_named_entries"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    counter: Mapped[str] = mapped_column(String(64), primary_key=True)
    delegate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    marks: Mapped[list] = mapped_column(JSON)
    spoilt: Mapped[bool] = mapped_column(Boolean, default=False)
    handed_in: Mapped[bool] = mapped_column(Boolean, default=True)


class CommitteeMember(Base):
    """The counting committee (Ban kiểm phiếu), elected by the congress: accounts, one of them the head."""

    __tablename__ = "committee_members"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    head: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The motion by which the congress elected the committee (None: appointed before any ballot).
    motion_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id", ondelete="SET NULL"),
                                                  nullable=True)


class BallotConfirmation(Base):
    """The committee head's confirmation of a closed ballot's result: until then it is provisional."""

    __tablename__ = "ballot_confirmations"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The result as confirmed (keypads and paper combined), and the audit chain's head at that moment.
    result: Mapped[dict] = mapped_column(JSON)
    audit_head: Mapped[str] = mapped_column(String(128))


class CandidateStatus(enum.StrEnum):
    NOMINATED = "nominated"  # proposed, waiting for the candidate's answer
    ACCEPTED = "accepted"  # agreed to stand
    DECLINED = "declined"  # refused the nomination
    WITHDRAWN = "withdrawn"  # stood down before the vote


class ListOrder(enum.StrEnum):
    """How a candidate list numbers its accepted candidates for the keypads."""

    VIETNAMESE = "vietnamese"  # Vietnamese alphabetical order of the given names (congress.vietnamese)
    NOMINATION = "nomination"  # in the order they were nominated


class CandidateList(Base):
    """A candidate list: the body to elect, how it is numbered, whether delegates may still nominate
    through the portal, and the motion that put it to the congress and the election made from it."""

    __tablename__ = "candidate_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # Candidate.list_name
    numbering: Mapped[ListOrder] = mapped_column(enum_column(ListOrder), default=ListOrder.VIETNAMESE)
    nominations_open: Mapped[bool] = mapped_column(Boolean, default=True)
    motion_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id"), nullable=True)
    election_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Candidate(Base):
    """One nomination on a candidate list (``controller.voting.candidates``): who, by whom, their answer."""

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_name: Mapped[str] = mapped_column(String(200), index=True)  # the body to elect: "Ban Chấp hành"
    name: Mapped[str] = mapped_column(String(200))
    delegate_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    biography: Mapped[str] = mapped_column(String(2000), default="")
    photo: Mapped[str | None] = mapped_column(String(300), nullable=True)  # a file in data_dir/candidates/
    nominated_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[CandidateStatus] = mapped_column(enum_column(CandidateStatus),
                                                    default=CandidateStatus.NOMINATED)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

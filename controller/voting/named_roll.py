"""The roll call of a named ballot: who voted, on which channel (keypad or paper), and — once the ballot
is closed — what they voted.

A named ballot's votes are public, so the ballot page, the projector, the minutes and the exports
all list its voters from :func:`roll_call`. Who voted is ``ballot_participation`` (keypad votes and
paper ballots issued alike); the channel is paper when the delegate was issued a paper ballot
(``paper_issues``), else keypad; the vote is the delegate's ``named_votes`` row, which a paper voter
has once the counting committee's agreed reading is counted in (``controller.voting.paper``). While
the ballot is open no vote is read (``with_votes=False``): the page shows who voted, never a running
count. Secret ballots have no roll call (:func:`roll_call` refuses them).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from congress.i18n import N_
from congress.vietnamese import sort_key
from controller.storage.tables import Delegate
from controller.voting.tables import Ballot, BallotParticipation, NamedVote, PaperIssue


class Channel(enum.StrEnum):
    KEYPAD = "keypad"
    PAPER = "paper"


class VoteState(enum.StrEnum):
    VOTED = "voted"  # the vote is known (``choices``, or invalid)
    HIDDEN = "hidden"  # the ballot is open: no vote is shown before the close
    UNCOUNTED = "uncounted"  # a paper ballot the committee has not counted in yet
    NOT_HANDED_IN = "not_handed_in"  # a paper ballot issued and never handed back


#: How pages and the record name the channels and the states that are not a vote.
CHANNEL_NAMES = {Channel.KEYPAD: N_("keypad"), Channel.PAPER: N_("paper")}
STATE_NAMES = {VoteState.HIDDEN: N_("not shown while the ballot is open"),
               VoteState.UNCOUNTED: N_("paper ballot not counted in yet"),
               VoteState.NOT_HANDED_IN: N_("paper ballot not handed in")}


@dataclass(frozen=True)
class RollEntry:
    delegate_id: str
    name: str
    channel: Channel
    state: VoteState
    choices: tuple[str, ...] = ()  # the options the vote went to (state VOTED)
    invalid: bool = False

    @property
    def blank(self) -> bool:
        return self.state == VoteState.VOTED and not self.invalid and not self.choices

    def as_dict(self) -> dict:
        return {"delegate": self.delegate_id, "name": self.name, "channel": self.channel.value,
                "state": self.state.value, "choices": list(self.choices), "invalid": self.invalid,
                "blank": self.blank}


def roll_call(s: Session, b: Ballot, *, with_votes: bool = True) -> list[RollEntry]:
    """Every delegate who voted in the named ballot ``b``, in Vietnamese order of their names."""
    if b.secret:
        raise ValueError("a secret ballot has no roll call")
    voters = list(s.scalars(select(BallotParticipation.delegate_id)
                            .where(BallotParticipation.ballot_id == b.id)))
    paper = set(s.scalars(select(PaperIssue.delegate_id).where(PaperIssue.ballot_id == b.id)))
    names = dict(s.execute(select(Delegate.id, Delegate.name).where(Delegate.id.in_(voters))).all())
    votes = {}
    if with_votes:
        votes = {d: (ch, inv) for d, ch, inv in s.execute(
            select(NamedVote.delegate_id, NamedVote.choices, NamedVote.invalid)
            .where(NamedVote.ballot_id == b.id))}
    combined = bool((b.result or {}).get("paper_combined"))
    out = []
    for d in voters:
        channel = Channel.PAPER if d in paper else Channel.KEYPAD
        if not with_votes:
            entry = RollEntry(d, names.get(d, d), channel, VoteState.HIDDEN)
        elif d in votes:
            choices, invalid = votes[d]
            options = tuple(b.options[c - 1] for c in choices if 0 < c <= len(b.options))
            entry = RollEntry(d, names.get(d, d), channel, VoteState.VOTED, options, bool(invalid))
        else:  # only a paper voter has no vote row: not counted in yet, or never handed back
            entry = RollEntry(d, names.get(d, d), channel,
                              VoteState.NOT_HANDED_IN if combined else VoteState.UNCOUNTED)
        out.append(entry)
    return sorted(out, key=lambda e: (sort_key(e.name, given_first=True), e.delegate_id))

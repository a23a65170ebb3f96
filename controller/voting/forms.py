"""Ballot forms: what a filled-in ballot paper (or a keypad's pressed numbers) counts for.

Every channel — keypads (``controller.voting.votes``), named votes recounted, paper ballots entered by
the counting committee — goes through :func:`paper`, so the three can never disagree about what is
valid. Numbers are the options' keypad numbers, 1 to the number of options.

* **Motion** (yes 1 / no 2 / abstain 3) and **choice** (one of several options): one number; more
  than one is invalid.
* **Election, "choose up to N"** (:attr:`BallotForm.CHOOSE`): the numbers pressed are the candidates
  chosen; more than N is invalid; none is a blank ballot (valid, no votes) — or invalid where the
  congress's rules say so (``empty_invalid``).
* **Election, "keep at most N, strike out the others"** (:attr:`BallotForm.STRIKE`): the numbers
  pressed are the candidates struck out; the candidates kept get the votes. Keeping more than N (striking
  too few) is invalid; striking every name keeps nobody: blank, or invalid with ``empty_invalid``.

:func:`explain` says the same to the chair before the ballot opens (and to the hall on the projector).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from congress.i18n import M_, Message
from controller.voting.tables import BallotForm, BallotKind


@dataclass(frozen=True)
class Paper:
    """One ballot as counted: the options it gives a vote to (sorted), and its state."""

    votes: tuple[int, ...]
    invalid: bool = False

    @property
    def blank(self) -> bool:
        return not self.invalid and not self.votes


def max_pressed(kind: BallotKind, form: BallotForm, seats: int, n_options: int) -> int:
    """How many numbers a keypad lets a delegate press (an over-vote is still sent, and counted invalid,
    for choose-up-to-N; a strike ballot may strike every name)."""
    if kind != BallotKind.ELECTION:
        return 1
    return n_options if form == BallotForm.STRIKE else seats


def paper(kind: BallotKind, form: BallotForm, seats: int, n_options: int, pressed: Iterable[int], *,
          empty_invalid: bool = False) -> Paper:
    """What the numbers ``pressed`` (each 1..n_options, checked by the caller) count for."""
    pressed = sorted(set(pressed))
    if kind != BallotKind.ELECTION:
        return Paper((), invalid=True) if len(pressed) > 1 else Paper(tuple(pressed))
    votes = pressed if form == BallotForm.CHOOSE else [o for o in range(1, n_options + 1) if o not in pressed]
    if len(votes) > seats or (not votes and empty_invalid):
        return Paper((), invalid=True)
    return Paper(tuple(votes))


def explain(kind: BallotKind, form: BallotForm, seats: int, n_options: int, *,
            empty_invalid: bool = False) -> dict[str, Message]:
    """``valid``, ``blank`` and ``invalid``: what makes a ballot each, for this ballot."""
    if kind == BallotKind.MOTION:
        return {"valid": M_("one of yes (1), no (2) or abstain (3)"),
                "blank": M_("a motion has no blank ballot: abstain (3) is a valid vote"),
                "invalid": M_("more than one number pressed")}
    if kind == BallotKind.CHOICE:
        return {"valid": M_("exactly one of the %(count)s options", count=n_options),
                "blank": M_("a choice has no blank ballot: every ballot names one option"),
                "invalid": M_("more than one option")}
    no_blank = M_("none: a ballot that gives nobody a vote is invalid here")
    if form == BallotForm.CHOOSE:
        return {"valid": M_("1 to %(seats)s candidates chosen (press their numbers)", seats=seats),
                "blank": no_blank if empty_invalid else M_("no candidate chosen (a valid ballot, no votes)"),
                "invalid": M_("more than %(seats)s candidates chosen", seats=seats)
                if not empty_invalid else M_("more than %(seats)s candidates chosen, or none", seats=seats)}
    keep_all = max(0, n_options - seats)
    return {"valid": M_("at most %(seats)s candidates kept: strike out (press) at least %(strike)s of the "
                        "%(count)s names", seats=seats, strike=keep_all, count=n_options),
            "blank": no_blank if empty_invalid else M_("every name struck out (a valid ballot, no votes)"),
            "invalid": M_("more than %(seats)s candidates kept (fewer than %(strike)s names struck out)",
                          seats=seats, strike=keep_all)
            if not empty_invalid else M_("more than %(seats)s candidates kept, or every name struck out",
                                         seats=seats)}

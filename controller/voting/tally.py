"""Counting a ballot and applying its majority rule; pure functions, no database.

Input is one mapping ``option -> count``: options are numbered from 1 (motions: 1 yes, 2 no,
3 abstain; elections: candidates in list order; choices: the options in order), and three special rows
(:class:`Special`) hold the number of valid, invalid and blank ballots. Secret ballots store exactly
this mapping (``ballot_counts``); named ballots build it from their rows with
:func:`counts_from_choices`. What one ballot paper counts for is ``controller.voting.forms``.

Rules (``MajorityRule`` x ``MajorityBase``):

* SIMPLE — motions: more yes than no; elections: the most votes (at least one); choices: the option
  with the most votes, alone at the top.
* ABSOLUTE — more than half of the base; TWO_THIRDS — at least two thirds of the base; SHARE — more
  than ``share_num/share_den`` of the base.
* The base: CAST (motions: yes + no; elections: valid ballots that are not blank; choices: votes for
  the options), COLLECTED (ballots collected, valid + invalid), VALID (valid ballots, blank included),
  PRESENT (delegates present when the ballot opened), SUMMONED (delegates summoned).

Elections elect, among the candidates meeting the rule, those with the most votes, up to the seats. A
tie at the last seat is never decided by the machine, and seats may stay unfilled when too few meet
the rule: then ``next_round`` says what a further round is about (the seats still to fill and the
candidates eligible: the tied ones, or everyone not elected), for the chair to open.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from controller.voting.tables import BallotKind, MajorityBase, MajorityRule


class Special(enum.IntEnum):
    """Rows of the count mapping that are not options."""

    VALID = 0  # valid ballots (an election ballot naming up to `seats` candidates, or none)
    INVALID = -1  # over-voted ballots: counted as cast but invalid
    BLANK = -2  # election ballots naming no candidate


class Motion(enum.IntEnum):
    YES = 1
    NO = 2
    ABSTAIN = 3


MOTION_OPTIONS = ("Yes", "No", "Abstain")


@dataclass
class Result:
    kind: str
    options: list[str]
    counts: dict[str, int]
    valid: int
    invalid: int
    blank: int
    rule: str
    base: str
    base_value: int
    required: int  # votes needed to pass / be elected
    passed: bool | None = None  # motions and choices
    tie: bool = False
    elected: list[str] = field(default_factory=list)  # elections; choices: the option adopted
    tied: list[str] = field(default_factory=list)  # elections: tied for the last seat(s); choices: at the top
    seats: int = 1
    share_num: int | None = None
    share_den: int | None = None
    unfilled: int = 0  # elections: seats left empty (a tie or too few meeting the rule)
    next_round: dict | None = None  # elections: {"seats": n, "candidates": [...]} when a round is needed

    @property
    def cast(self) -> int:
        return self.valid + self.invalid

    def as_dict(self) -> dict:
        d = asdict(self)
        d["cast"] = self.cast
        return d


def counts_from_choices(rows: Iterable[tuple[Iterable[int], bool]], max_choices: int) -> dict[int, int]:
    """Build the count mapping from (votes, invalid) rows of a named ballot (votes as counted, see
    ``controller.voting.forms``; a row with more than ``max_choices`` votes is counted invalid)."""
    counts: dict[int, int] = {}
    for choices, invalid in rows:
        choices = list(choices)
        if invalid or len(choices) > max_choices:
            counts[Special.INVALID] = counts.get(Special.INVALID, 0) + 1
            continue
        counts[Special.VALID] = counts.get(Special.VALID, 0) + 1
        if not choices:
            counts[Special.BLANK] = counts.get(Special.BLANK, 0) + 1
        for c in choices:
            counts[c] = counts.get(c, 0) + 1
    return counts


def required_votes(rule: MajorityRule, base_value: int, *, against: int = 0,
                   share: tuple[int, int] | None = None) -> int:
    """The fewest votes that meet ``rule`` on ``base_value`` (SIMPLE: one more than ``against``)."""
    if rule == MajorityRule.SIMPLE:
        return against + 1
    if rule == MajorityRule.ABSOLUTE:
        return base_value // 2 + 1
    if rule == MajorityRule.TWO_THIRDS:
        return -(-2 * base_value // 3)  # ceil(2/3 * base)
    num, den = share or (1, 2)
    return base_value * num // den + 1  # more than num/den: votes * den > base * num


def base_value(base: MajorityBase, *, cast: int, valid: int, invalid: int, present: int,
               summoned: int) -> int:
    return {MajorityBase.CAST: cast, MajorityBase.COLLECTED: valid + invalid, MajorityBase.VALID: valid,
            MajorityBase.PRESENT: present, MajorityBase.SUMMONED: summoned}[base]


def tally(kind: BallotKind, options: list[str], seats: int, counts: Mapping[int, int], *,
          rule: MajorityRule, base: MajorityBase, present: int = 0, summoned: int = 0,
          share: tuple[int, int] | None = None) -> Result:
    """Count one ballot; see the module docstring for the rules."""
    c = {o: counts.get(o, 0) for o in range(1, len(options) + 1)}
    valid, invalid = counts.get(Special.VALID, 0), counts.get(Special.INVALID, 0)
    blank = counts.get(Special.BLANK, 0)
    named = {options[i - 1]: c[i] for i in c}
    num, den = share if (share and rule == MajorityRule.SHARE) else (None, None)
    common = {"kind": kind.value, "options": options, "counts": named, "valid": valid, "invalid": invalid,
              "blank": blank, "rule": rule.value, "base": base.value, "seats": seats,
              "share_num": num, "share_den": den}
    figures = {"valid": valid, "invalid": invalid, "present": present, "summoned": summoned}
    if kind == BallotKind.MOTION:
        yes, no = c.get(Motion.YES, 0), c.get(Motion.NO, 0)
        bv = base_value(base, cast=yes + no, **figures)
        req = required_votes(rule, bv, against=no, share=share)
        passed = yes >= req and (rule != MajorityRule.SIMPLE or yes > no)
        return Result(**common, base_value=bv, required=req, passed=passed, tie=yes == no)
    if kind == BallotKind.CHOICE:
        bv = base_value(base, cast=sum(c.values()), **figures)
        top = max(c.values(), default=0)
        leaders = [options[o - 1] for o, n in c.items() if n == top and top > 0]
        if rule == MajorityRule.SIMPLE:
            req = (sorted(c.values())[-2] + 1) if len(c) > 1 else 1  # more than the runner-up
        else:
            req = required_votes(rule, bv, share=share)
        passed = len(leaders) == 1 and top >= max(req, 1)
        return Result(**common, base_value=bv, required=req, passed=passed,
                      elected=leaders if passed else [], tied=leaders if len(leaders) > 1 else [],
                      tie=len(leaders) > 1)
    bv = base_value(base, cast=valid - blank, **figures)
    req = 1 if rule == MajorityRule.SIMPLE else required_votes(rule, bv, share=share)
    ranking = sorted(((n, o) for o, n in c.items() if n >= req), key=lambda t: (-t[0], t[1]))
    elected: list[str] = []
    tied: list[str] = []
    i = 0
    while i < len(ranking) and len(elected) < seats:
        group = [o for n, o in ranking if n == ranking[i][0]]
        if len(elected) + len(group) <= seats:
            elected += [options[o - 1] for o in group]
        else:
            tied = [options[o - 1] for o in group]
            break
        i += len(group)
    unfilled = seats - len(elected)
    next_round = None
    if unfilled:
        eligible = tied or [o for o in options if o not in elected]
        if eligible:
            next_round = {"seats": unfilled, "candidates": eligible}
    return Result(**common, base_value=bv, required=req, elected=elected, tied=tied, tie=bool(tied),
                  unfilled=unfilled, next_round=next_round)

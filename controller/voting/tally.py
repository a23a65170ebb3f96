"""Counting a ballot and applying its majority rule; pure functions, no database.

Input is one mapping ``option -> count``: options are numbered from 1 (motions: 1 yes, 2 no,
3 abstain; elections: candidates in list order), and three special rows (:class:`Special`) hold the
number of valid, invalid and blank ballots. Secret ballots store exactly this mapping
(``ballot_counts``); named ballots build it from their rows with :func:`counts_from_choices`.

Majority rules (``MajorityRule`` x ``MajorityBase``): SIMPLE needs more yes than no; ABSOLUTE more
than half of the base; TWO_THIRDS at least two thirds of the base. The base is the valid yes/no
votes cast (abstentions, blank and invalid ballots excluded), the delegates present when the ballot
opened, or the delegates summoned. Elections elect the candidates with the most votes among those
meeting the rule (SIMPLE: at least one vote); a tie at the last seat is reported, not decided.
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
    passed: bool | None = None  # motions
    tie: bool = False
    elected: list[str] = field(default_factory=list)  # elections
    tied: list[str] = field(default_factory=list)  # elections: tied for the last seat(s)

    @property
    def cast(self) -> int:
        return self.valid + self.invalid

    def as_dict(self) -> dict:
        d = asdict(self)
        d["cast"] = self.cast
        return d


def counts_from_choices(rows: Iterable[tuple[Iterable[int], bool]], max_choices: int) -> dict[int, int]:
    """Build the count mapping from (choices, invalid) rows of a named ballot."""
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


def _required(rule: MajorityRule, base_value: int, yes_no_against: int = 0) -> int:
    if rule == MajorityRule.SIMPLE:
        return yes_no_against + 1
    if rule == MajorityRule.ABSOLUTE:
        return base_value // 2 + 1
    return -(-2 * base_value // 3)  # ceil(2/3 * base)


def _base_value(base: MajorityBase, cast_value: int, present: int, summoned: int) -> int:
    values = {MajorityBase.CAST: cast_value, MajorityBase.PRESENT: present, MajorityBase.SUMMONED: summoned}
    return values[base]


def tally(kind: BallotKind, options: list[str], seats: int, counts: Mapping[int, int], *,
          rule: MajorityRule, base: MajorityBase, present: int = 0, summoned: int = 0) -> Result:
    """Count one ballot; see the module docstring for the rules."""
    c = {o: counts.get(o, 0) for o in range(1, len(options) + 1)}
    valid, invalid = counts.get(Special.VALID, 0), counts.get(Special.INVALID, 0)
    blank = counts.get(Special.BLANK, 0)
    named = {options[i - 1]: c[i] for i in c}
    if kind == BallotKind.MOTION:
        yes, no = c.get(Motion.YES, 0), c.get(Motion.NO, 0)
        bv = _base_value(base, yes + no, present, summoned)
        req = _required(rule, bv, no)
        passed = yes >= req and (rule != MajorityRule.SIMPLE or yes > no)
        return Result(kind.value, options, named, valid, invalid, blank, rule.value, base.value, bv, req,
                      passed=passed, tie=yes == no)
    bv = _base_value(base, valid - blank, present, summoned)
    req = 1 if rule == MajorityRule.SIMPLE else _required(rule, bv)
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
    return Result(kind.value, options, named, valid, invalid, blank, rule.value, base.value, bv, req,
                  elected=elected, tied=tied, tie=bool(tied))

"""Majority rules, ties and invalid ballots (pure counting)."""

from __future__ import annotations

import pytest

from controller.voting.tables import BallotKind, MajorityBase, MajorityRule
from controller.voting.tally import MOTION_OPTIONS, Special, counts_from_choices, tally


def motion(yes, no, abstain=0, *, rule=MajorityRule.SIMPLE, base=MajorityBase.CAST, present=0, summoned=0):
    counts = {1: yes, 2: no, 3: abstain, Special.VALID: yes + no + abstain}
    return tally(BallotKind.MOTION, list(MOTION_OPTIONS), 1, counts, rule=rule, base=base,
                 present=present, summoned=summoned)


@pytest.mark.parametrize(
    ("yes", "no", "abstain", "rule", "base", "present", "summoned", "passed", "required"),
    [
        (10, 9, 50, MajorityRule.SIMPLE, MajorityBase.CAST, 0, 0, True, 10),
        (9, 9, 0, MajorityRule.SIMPLE, MajorityBase.CAST, 0, 0, False, 10),
        (51, 49, 0, MajorityRule.ABSOLUTE, MajorityBase.CAST, 0, 0, True, 51),
        (50, 40, 0, MajorityRule.ABSOLUTE, MajorityBase.PRESENT, 100, 0, False, 51),
        (51, 10, 30, MajorityRule.ABSOLUTE, MajorityBase.PRESENT, 100, 0, True, 51),
        (100, 0, 0, MajorityRule.ABSOLUTE, MajorityBase.SUMMONED, 120, 201, False, 101),
        (66, 34, 0, MajorityRule.TWO_THIRDS, MajorityBase.CAST, 0, 0, False, 67),
        (67, 33, 0, MajorityRule.TWO_THIRDS, MajorityBase.CAST, 0, 0, True, 67),
        (80, 0, 0, MajorityRule.TWO_THIRDS, MajorityBase.SUMMONED, 90, 120, True, 80),
        (79, 0, 0, MajorityRule.TWO_THIRDS, MajorityBase.SUMMONED, 90, 120, False, 80),
    ],
)
def test_motion_majority_rules(yes, no, abstain, rule, base, present, summoned, passed, required):
    r = motion(yes, no, abstain, rule=rule, base=base, present=present, summoned=summoned)
    assert (r.passed, r.required) == (passed, required)


def test_motion_tie_is_reported_and_fails():
    r = motion(20, 20, 5)
    assert r.tie and not r.passed
    assert r.counts == {"Yes": 20, "No": 20, "Abstain": 5}


def test_election_overvote_is_invalid_and_not_counted_for_anyone():
    rows = [([1, 2], False), ([1], False), ([], False), ([1, 2, 3], False), ([2, 3], True)]
    counts = counts_from_choices(rows, max_choices=2)
    assert counts[Special.INVALID] == 2 and counts[Special.VALID] == 3 and counts[Special.BLANK] == 1
    r = tally(BallotKind.ELECTION, ["Ana", "Ben", "Cy"], 2, counts, rule=MajorityRule.SIMPLE,
              base=MajorityBase.CAST)
    assert r.counts == {"Ana": 2, "Ben": 1, "Cy": 0}
    assert (r.valid, r.invalid, r.blank, r.cast) == (3, 2, 1, 5)
    assert r.elected == ["Ana", "Ben"] and not r.tie


def test_election_tie_at_the_last_seat_is_reported_not_decided():
    counts = {1: 10, 2: 7, 3: 7, 4: 2, Special.VALID: 13}
    r = tally(BallotKind.ELECTION, ["A", "B", "C", "D"], 2, counts, rule=MajorityRule.SIMPLE,
              base=MajorityBase.CAST)
    assert r.elected == ["A"] and r.tied == ["B", "C"] and r.tie


def test_election_absolute_majority_of_valid_ballots():
    counts = {1: 6, 2: 5, 3: 4, Special.VALID: 10}
    r = tally(BallotKind.ELECTION, ["A", "B", "C"], 2, counts, rule=MajorityRule.ABSOLUTE,
              base=MajorityBase.CAST)
    assert r.required == 6 and r.elected == ["A"] and not r.tied

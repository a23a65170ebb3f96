"""Election rules on a table of cases: every base, every share, ranking, ties at the last seat and
unfilled seats (with the further round they call for); the two ballot forms (choose up to N, keep at
most N and strike out the others) with what is valid, blank and invalid; choices between options."""

from __future__ import annotations

import pytest

from controller.voting.forms import Paper, explain, paper
from controller.voting.tables import BallotForm, BallotKind, MajorityBase, MajorityRule
from controller.voting.tally import Special, counts_from_choices, tally

R, B = MajorityRule, MajorityBase
CANDIDATES = ["An", "Bình", "Châu", "Dũng", "Giang"]


def election(votes: list[int], *, seats: int, valid: int, invalid: int = 0, blank: int = 0, rule=R.ABSOLUTE,
             base=B.VALID, present: int = 0, summoned: int = 0, share=None):
    counts = {i + 1: n for i, n in enumerate(votes)}
    counts |= {Special.VALID: valid, Special.INVALID: invalid, Special.BLANK: blank}
    return tally(BallotKind.ELECTION, CANDIDATES[: len(votes)], seats, counts, rule=rule, base=base,
                 present=present, summoned=summoned, share=share)


# votes per candidate, seats, valid, invalid, blank, rule, base, present, summoned, share
#   -> base value, votes required, elected, tied, next round (seats, candidates) or None
CASES = [
    # every base, more than half: 100 valid ballots (10 blank), 20 invalid, 130 present, 150 summoned
    pytest.param([56, 51, 46, 30], 2, 100, 20, 10, R.ABSOLUTE, B.VALID, 130, 150, None,
                 100, 51, ["An", "Bình"], [], None, id="half-of-valid"),
    pytest.param([56, 51, 46, 30], 2, 100, 20, 10, R.ABSOLUTE, B.COLLECTED, 130, 150, None,
                 120, 61, [], [], (2, CANDIDATES[:4]), id="half-of-collected-none-elected"),
    pytest.param([66, 61, 46, 30], 2, 100, 20, 10, R.ABSOLUTE, B.PRESENT, 130, 150, None,
                 130, 66, ["An"], [], (1, ["Bình", "Châu", "Dũng"]), id="half-of-present-one-unfilled"),
    pytest.param([76, 76, 46, 30], 2, 100, 20, 10, R.ABSOLUTE, B.SUMMONED, 130, 150, None,
                 150, 76, ["An", "Bình"], [], None, id="half-of-summoned-exactly-over"),
    pytest.param([75, 80, 46, 30], 2, 100, 20, 10, R.ABSOLUTE, B.SUMMONED, 130, 150, None,
                 150, 76, ["Bình"], [], (1, ["An", "Châu", "Dũng"]), id="half-of-summoned-one-short"),
    pytest.param([46, 45, 44, 30], 2, 100, 20, 10, R.ABSOLUTE, B.CAST, 130, 150, None,
                 90, 46, ["An"], [], (1, ["Bình", "Châu", "Dũng"]), id="half-of-cast-blank-excluded"),
    # two thirds (at least) and a configurable share (more than num/den)
    pytest.param([67, 66, 10], 2, 100, 0, 0, R.TWO_THIRDS, B.VALID, 0, 0, None,
                 100, 67, ["An"], [], (1, ["Bình", "Châu"]), id="two-thirds-of-valid"),
    pytest.param([80, 80, 10], 2, 120, 3, 0, R.TWO_THIRDS, B.COLLECTED, 0, 0, None,
                 123, 82, [], [], (2, ["An", "Bình", "Châu"]), id="two-thirds-of-collected"),
    pytest.param([61, 60, 59], 2, 100, 0, 0, R.SHARE, B.VALID, 0, 0, (3, 5),
                 100, 61, ["An"], [], (1, ["Bình", "Châu"]), id="more-than-three-fifths"),
    pytest.param([34, 33, 20], 1, 100, 0, 0, R.SHARE, B.PRESENT, 100, 0, (1, 3),
                 100, 34, ["An"], [], None, id="more-than-a-third-of-present"),
    # more pass than seats: by rank
    pytest.param([90, 80, 70, 60, 55], 3, 100, 0, 0, R.ABSOLUTE, B.VALID, 0, 0, None,
                 100, 51, ["An", "Bình", "Châu"], [], None, id="rank-when-more-pass-than-seats"),
    # ties at the last seat: not decided, a further round among the tied
    pytest.param([90, 70, 70, 60], 2, 100, 0, 0, R.ABSOLUTE, B.VALID, 0, 0, None,
                 100, 51, ["An"], ["Bình", "Châu"], (1, ["Bình", "Châu"]), id="tie-at-the-last-seat"),
    pytest.param([70, 70, 70, 10], 2, 100, 0, 0, R.ABSOLUTE, B.VALID, 0, 0, None,
                 100, 51, [], ["An", "Bình", "Châu"], (2, ["An", "Bình", "Châu"]), id="three-tied-for-two"),
    pytest.param([70, 70, 40], 2, 100, 0, 0, R.ABSOLUTE, B.VALID, 0, 0, None,
                 100, 51, ["An", "Bình"], [], None, id="a-tie-inside-the-seats-is-no-tie"),
    pytest.param([9, 9, 3], 1, 21, 0, 0, R.SIMPLE, B.CAST, 0, 0, None,
                 21, 1, [], ["An", "Bình"], (1, ["An", "Bình"]), id="simple-tie"),
    pytest.param([0, 0], 1, 5, 0, 5, R.SIMPLE, B.CAST, 0, 0, None,
                 0, 1, [], [], (1, ["An", "Bình"]), id="simple-all-blank"),
]


@pytest.mark.parametrize(("votes", "seats", "valid", "invalid", "blank", "rule", "base", "present",
                          "summoned", "share", "base_value", "required", "elected", "tied", "again"), CASES)
def test_election_rule_cases(votes, seats, valid, invalid, blank, rule, base, present, summoned, share,
                             base_value, required, elected, tied, again):
    r = election(votes, seats=seats, valid=valid, invalid=invalid, blank=blank, rule=rule, base=base,
                 present=present, summoned=summoned, share=share)
    assert (r.base_value, r.required) == (base_value, required)
    assert (r.elected, r.tied, r.tie) == (elected, tied, bool(tied))
    assert r.unfilled == seats - len(elected)
    assert r.next_round == ({"seats": again[0], "candidates": again[1]} if again else None)
    assert r.cast == valid + invalid
    d = r.as_dict()
    assert d["share_num"] == (share[0] if share else None) and d["seats"] == seats


# form, seats, options, pressed, empty_invalid -> votes, invalid, blank
FORMS = [
    pytest.param(BallotForm.CHOOSE, 2, 4, [1, 3], False, (1, 3), False, False, id="choose-two"),
    pytest.param(BallotForm.CHOOSE, 2, 4, [4], False, (4,), False, False, id="choose-fewer"),
    pytest.param(BallotForm.CHOOSE, 2, 4, [], False, (), False, True, id="choose-none-blank"),
    pytest.param(BallotForm.CHOOSE, 2, 4, [], True, (), True, False, id="choose-none-invalid-by-rule"),
    pytest.param(BallotForm.CHOOSE, 2, 4, [1, 2, 3], False, (), True, False, id="choose-too-many"),
    pytest.param(BallotForm.STRIKE, 2, 4, [2, 4], False, (1, 3), False, False, id="strike-two-keep-two"),
    pytest.param(BallotForm.STRIKE, 2, 4, [1, 2, 4], False, (3,), False, False, id="strike-three-keep-one"),
    pytest.param(BallotForm.STRIKE, 2, 4, [4], False, (), True, False, id="strike-too-few-keeps-three"),
    pytest.param(BallotForm.STRIKE, 2, 4, [], False, (), True, False, id="strike-none-keeps-all"),
    pytest.param(BallotForm.STRIKE, 2, 4, [1, 2, 3, 4], False, (), False, True, id="strike-all-blank"),
    pytest.param(BallotForm.STRIKE, 2, 4, [1, 2, 3, 4], True, (), True, False,
                 id="strike-all-invalid-by-rule"),
    pytest.param(BallotForm.STRIKE, 3, 3, [], False, (1, 2, 3), False, False, id="strike-none-when-all-fit"),
]


@pytest.mark.parametrize(("form", "seats", "n", "pressed", "empty_invalid", "votes", "invalid", "blank"),
                         FORMS)
def test_ballot_forms(form, seats, n, pressed, empty_invalid, votes, invalid, blank):
    p = paper(BallotKind.ELECTION, form, seats, n, pressed, empty_invalid=empty_invalid)
    assert (p.votes, p.invalid, p.blank) == (votes, invalid, blank)


def test_forms_counted_through_the_same_rows():
    pressed = ([2, 4], [1, 2], [4], [1, 2, 3, 4])
    strike = [paper(BallotKind.ELECTION, BallotForm.STRIKE, 2, 4, s) for s in pressed]
    counts = counts_from_choices([(p.votes, p.invalid) for p in strike], max_choices=2)
    assert counts == {1: 1, 3: 2, 4: 1, Special.VALID: 3, Special.INVALID: 1, Special.BLANK: 1}
    assert paper(BallotKind.MOTION, BallotForm.CHOOSE, 1, 3, [1, 2]) == Paper((), invalid=True)


def test_forms_are_explained_before_opening():
    choose = {k: str(v) for k, v in explain(BallotKind.ELECTION, BallotForm.CHOOSE, 3, 7).items()}
    assert "1 to 3 candidates chosen" in choose["valid"] and "more than 3" in choose["invalid"]
    assert "no candidate chosen" in choose["blank"]
    strike = {k: str(v) for k, v in explain(BallotKind.ELECTION, BallotForm.STRIKE, 3, 7).items()}
    assert "at least 4 of the 7 names" in strike["valid"] and "fewer than 4 names" in strike["invalid"]
    strict = {k: str(v) for k, v in explain(BallotKind.ELECTION, BallotForm.STRIKE, 3, 7,
                                            empty_invalid=True).items()}
    assert "every name struck out" in strict["invalid"] and "invalid" in strict["blank"]


@pytest.mark.parametrize(
    ("votes", "rule", "base", "share", "passed", "adopted", "tied"),
    [
        ([40, 35, 25], R.SIMPLE, B.CAST, None, True, ["Dự thảo A"], []),
        ([40, 40, 20], R.SIMPLE, B.CAST, None, False, [], ["Dự thảo A", "Dự thảo B"]),
        ([40, 35, 25], R.ABSOLUTE, B.CAST, None, False, [], []),
        ([51, 29, 20], R.ABSOLUTE, B.VALID, None, True, ["Dự thảo A"], []),
        ([20, 61, 19], R.SHARE, B.CAST, (3, 5), True, ["Dự thảo B"], []),
    ],
)
def test_choice_between_options(votes, rule, base, share, passed, adopted, tied):
    options = ["Dự thảo A", "Dự thảo B", "Dự thảo C"]
    counts = {i + 1: n for i, n in enumerate(votes)} | {Special.VALID: sum(votes)}
    r = tally(BallotKind.CHOICE, options, 1, counts, rule=rule, base=base, share=share)
    assert (r.passed, r.elected, r.tied) == (passed, adopted, tied)


@pytest.mark.parametrize(("yes", "no", "base", "collected", "valid", "required", "passed"), [
    (60, 30, B.COLLECTED, 110, 100, 56, True),
    (55, 30, B.COLLECTED, 110, 100, 56, False),
    (51, 30, B.VALID, 110, 100, 51, True),
])
def test_motion_on_the_new_bases(yes, no, base, collected, valid, required, passed):
    counts = {1: yes, 2: no, 3: valid - yes - no, Special.VALID: valid, Special.INVALID: collected - valid}
    r = tally(BallotKind.MOTION, ["Yes", "No", "Abstain"], 1, counts, rule=R.ABSOLUTE, base=base)
    assert (r.required, r.passed) == (required, passed)

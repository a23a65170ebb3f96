"""A scripted congress on the running demo stack, checked against its script.

1. **Arrivals**: both door units replay their delegates' arrival photos; every check-in a door signs
   must be stored by the controller exactly once (``lost`` / ``duplicates``), and quorum is expected.
   The attendant door (``door-2``) sends arrivals it is unsure of to the lane: staff (the script) let
   in those whose shown name is the person at that door and refuse the others, as the lane page does;
   then staff check in by hand the arrivals no door recognised (``manual`` check-ins, audited).
2. **A motion** (named vote): every present delegate votes by keypad following a fixed pattern; three
   absent delegates and two spare keypads try to vote too and must be refused.
3. **A secret election** (2 seats, 4 candidates): choices by pattern, with blank and over-voted
   ballots; one delegate presses twice and must be refused the second time.
4. **Results**: the controller's tallies must equal the counts the script expects.
5. **Elections as a party congress runs them** (:mod:`demo.elections`): the counting committee elected
   by a motion, a two-round election made from a candidate list (nominated, answered, approved by its
   motion; a tie in round one, settled in round two), a mixed keypad + paper
   ballot, the committee head's confirmations, and the minutes of the congress as a PDF.

:func:`run` returns the JSON summary; ``ok`` is true only when nothing was lost and every result is as
scripted.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from demo.photos import photo_source
from demo.stack import Stack

log = logging.getLogger(__name__)

MOTION = "Adopt the agenda of the congress"
ELECTION = "Credentials committee (2 seats)"
CANDIDATES = ["Candidate A", "Candidate B", "Candidate C", "Candidate D"]


def _wait(cond, timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    log.error("scenario: timed out waiting for %s", what)
    return False


def _keypad(delegate: str) -> int:
    return int(delegate[1:])  # D0001 holds keypad 1 (assigned by seat)


def motion_choice(i: int) -> frozenset[int]:
    """Delegate number ``i`` (0-based among those present): 3/5 yes, 1/5 no, 1/5 abstain."""
    return frozenset({1 if i % 5 < 3 else 2 if i % 5 == 3 else 3})


_A, _B, _C = 1, 2, 3
_ELECTION_PATTERN = tuple(frozenset(c) for c in (
    {_A}, {_A, _C}, {_A, _C}, {_B, _C}, {_A}, {_A, _C}, {_A, _C}, {_B},
))


def election_choice(i: int) -> frozenset[int]:
    """About 3/4 of the ballots name A, 1/2 name C, 1/4 name B; some blank, some over-voted."""
    if i % 10 == 9:
        return frozenset()  # blank ballot
    if i % 17 == 16:
        return frozenset({1, 2, 3})  # three crosses for two seats: counted as invalid
    return _ELECTION_PATTERN[i % len(_ELECTION_PATTERN)]


def _arrivals(stack: Stack, timeout: float) -> dict:
    from sqlalchemy import select

    from controller.storage.tables import CheckIn, CheckInMethod

    units = stack.units
    _wait(lambda: all(u.door.finished.is_set() for u in units.values()), timeout, "the doors' cameras")
    _wait(lambda: all(u.outbox.depth() == 0 for u in units.values()), 30, "the outboxes to drain")
    published = {(uid, b, s) for uid, u in units.items() for b, s, _ in u.door.published}
    with stack.controller.db.session() as s:
        rows = [tuple(r) for r in s.execute(select(CheckIn.unit_id, CheckIn.boot_id, CheckIn.seq)
                                            .where(CheckIn.method != CheckInMethod.MANUAL)).all()]
    stored = set(rows)
    lane = _staff_answers_the_lane(stack, timeout)
    expected = {d for door in stack.venue.doors for d in stack.venue.arrivals[door]}
    recognised = ({d for u in units.values() for _, _, d in u.door.published} - lane["shown_refused"]
                  | lane["let_in"])
    missed = sorted(expected - recognised)
    manual = _staff_check_in_by_hand(stack, missed)
    return {
        "expected": len(expected),
        "checked_in": len(recognised),
        "not_recognised": missed,
        "wrongly_recognised": sorted(recognised - expected),
        "signed": len(published),
        "stored": len(stored & published),
        "lost": len(published - stored),
        "duplicates": len(rows) - len(stored),
        "unexpected": len(stored - published),
        "lane": {k: v for k, v in lane.items() if k not in ("let_in", "shown_refused")},
        "by_hand": manual,
    }


def _staff_answers_the_lane(stack: Stack, timeout: float) -> dict:
    """Answer every attendant request as staff would on the lane page: let in when the name shown is
    someone arriving at that door, else refuse; the unit is told (its amber light goes off)."""
    from controller.checkins import lane

    db, commander = stack.controller.db, stack.controller.services.commander
    at_door = {u: set(stack.venue.arrivals[u]) for u in stack.venue.doors}
    with db.session() as s:
        pending = lane.pending(s)
    amber = sorted(u for u, unit in stack.units.items() if unit.door.awaiting_staff)
    let_in, refused, told = set(), set(), 0
    for p in pending:
        accept = p["delegate_id"] in at_door.get(p["unit"], set())
        with db.session() as s:
            decided = lane.decide(s, p["id"], accept, actor="demo-staff")
        (let_in if accept else refused).add(p["delegate_id"])
        if commander is not None:
            commander.answer(decided)
            told += 1
    _wait(lambda: not any(unit.door.awaiting_staff for unit in stack.units.values()), timeout,
          "the attendant doors to hear the staff's answers")
    return {"asked": len(pending), "let_in": let_in, "shown_refused": refused, "confirmed": len(let_in),
            "refused": len(refused), "units_told": told, "amber_before_answers": amber}


def _staff_check_in_by_hand(stack: Stack, delegates: list[str]) -> dict:
    from controller.checkins import manual
    from controller.storage.tables import Passage

    with stack.controller.db.session() as s:
        for d in delegates:
            manual.record(s, d, Passage.IN, actor="demo-staff")
    return {"checked_in": len(delegates), "delegates": delegates}


def _vote(stack: Stack, ballot: int, plan: dict[int, frozenset[int]], timeout: float) -> dict:
    sim = stack.keypads
    before = len(sim.acks)
    counters = {kid: sim.vote(kid, ballot, choices) for kid, choices in sorted(plan.items())}
    sim.wait_acks(before + len(plan), timeout)
    return {kid: sim.acks.get((kid, ctr)) for kid, ctr in counters.items()}


Plan = dict[int, frozenset[int]]


def _ballot(stack: Stack, ballot_id: int, plan: Plan, intruders: Plan, repeat: Plan,
            timeout: float) -> tuple[dict, dict]:
    from congress.keypads.protocol import AckStatus
    from controller.voting.ballots import BallotError

    try:
        stack.ballots.open(ballot_id, actor="demo-chair")
    except BallotError as exc:  # no quorum: the chair may not open it, and the script has failed
        log.error("scenario: ballot %d not opened: %s", ballot_id, exc)
        return {"counts": {}, "valid": 0, "invalid": 0, "blank": 0, "tie": False, "elected": [],
                "passed": None, "options": [], "error": str(exc)}, {
            "sent": 0, "counted": 0, "lost": 0, "intruders_refused": 0, "intruders": len(intruders),
            "second_press_refused": 0, "second_presses": len(repeat)}
    acks = _vote(stack, ballot_id, plan, timeout)
    refused = _vote(stack, ballot_id, intruders, timeout)
    again = _vote(stack, ballot_id, repeat, timeout) if repeat else {}
    result = stack.ballots.close(ballot_id, actor="demo-chair")
    good = (AckStatus.ACCEPTED, AckStatus.INVALID_COUNTED)
    counted = sum(1 for a in acks.values() if a and a.status in good)
    check = {
        "sent": len(plan),
        "counted": counted,
        "lost": sum(1 for a in acks.values() if a is None),
        "intruders_refused": sum(1 for a in refused.values() if a and a.status == AckStatus.NOT_ELIGIBLE),
        "intruders": len(intruders),
        "second_press_refused": sum(1 for a in again.values() if a and a.status == AckStatus.ALREADY_VOTED),
        "second_presses": len(again),
    }
    return result.as_dict(), check


def _expected_counts(plan: dict[int, frozenset[int]], options: list[str], max_choices: int) -> dict:
    counts = Counter()
    valid = invalid = blank = 0
    for choices in plan.values():
        if len(choices) > max_choices:
            invalid += 1
            continue
        valid += 1
        if not choices:
            blank += 1
        for c in choices:
            counts[options[c - 1]] += 1
    return {"counts": {o: counts.get(o, 0) for o in options}, "valid": valid, "invalid": invalid,
            "blank": blank}


def _elected(expected: dict, seats: int) -> list[str]:
    """Who the script expects elected: the ``seats`` most named candidates with at least one vote."""
    ranked = sorted(((n, o) for o, n in expected["counts"].items() if n > 0), reverse=True)
    return sorted(o for _, o in ranked[:seats])


def _matches(result: dict, expected: dict) -> bool:
    got = {o: result["counts"].get(o, 0) for o in expected["counts"]}
    return (got == expected["counts"] and result["valid"] == expected["valid"]
            and result["invalid"] == expected["invalid"] and result["blank"] == expected["blank"])


def run(stack: Stack, *, timeout: float = 120.0) -> dict:
    """Play the script on a started stack (doors not yet started) and return the summary."""
    from controller.checkins.attendance import QuorumPolicy, present_ids, quorum
    from controller.voting.tables import BallotKind
    from controller.voting.tally import MOTION_OPTIONS

    started = time.monotonic()
    stack.start_doors(gallery_timeout=timeout)
    arrivals = _arrivals(stack, timeout)
    policy = QuorumPolicy.parse(stack.controller.config.attendance.quorum)
    with stack.controller.db.session() as s:
        present = sorted(present_ids(s))
        q = quorum(s, policy).as_dict()
    absent = [d for d in stack.delegate_ids() if d not in set(present)]
    spares = [k for k in range(len(stack.venue.people) + 1, stack.venue.keypads + 1)][:2]
    intruders = {_keypad(d): frozenset({1}) for d in absent[:3]} | {k: frozenset({1}) for k in spares}

    motion_plan = {_keypad(d): motion_choice(i) for i, d in enumerate(present)}
    motion_id = stack.ballots.create(MOTION, BallotKind.MOTION, actor="demo-chair")
    motion, motion_check = _ballot(stack, motion_id, motion_plan, intruders, {}, timeout)
    motion_expected = _expected_counts(motion_plan, list(MOTION_OPTIONS), 1)

    election_plan = {_keypad(d): election_choice(i) for i, d in enumerate(present)}
    election_id = stack.ballots.create(ELECTION, BallotKind.ELECTION, options=CANDIDATES, seats=2,
                                       secret=True, actor="demo-chair")
    first = next(iter(election_plan))
    election, election_check = _ballot(stack, election_id, election_plan, intruders,
                                       {first: frozenset({4})}, timeout)
    election_expected = _expected_counts(election_plan, CANDIDATES, 2)

    yes, no = (motion_expected["counts"][o] for o in list(MOTION_OPTIONS)[:2])
    motion_ok = "error" not in motion and _matches(motion, motion_expected) and motion["passed"] == (yes > no)
    election_expected["elected"] = _elected(election_expected, 2)
    election_ok = ("error" not in election and _matches(election, election_expected) and not election["tie"]
                   and sorted(election["elected"]) == election_expected["elected"])
    refused_ok = all(c["intruders_refused"] == c["intruders"]
                     and c["second_press_refused"] == c["second_presses"]
                     for c in (motion_check, election_check))
    from controller.voting.elections import Elections
    from demo import elections as party

    extra = party.run(stack, present, _keypad, _vote, timeout)
    first_election = party._round_summary(Elections(stack.ballots).record(election_id))
    lost = arrivals["lost"] + motion_check["lost"] + election_check["lost"]
    ok = (extra["as_scripted"] and lost == 0 and arrivals["duplicates"] == 0 and arrivals["unexpected"] == 0
          and q["reached"]
          and motion_ok and election_ok and refused_ok and not arrivals["wrongly_recognised"]
          and motion_check["counted"] == len(present) and election_check["counted"] == len(present))
    return {
        "ok": ok,
        "delegates": len(stack.venue.people),
        "photos": photo_source(),
        "enrolled": stack.enrolled.get("photos_enrolled"),
        "keypads": stack.venue.keypads,
        "checkins": arrivals,
        "present": len(present),
        "quorum": q,
        "motion": {"title": MOTION, "result": motion, "expected": motion_expected, "votes": motion_check,
                   "as_scripted": motion_ok},
        "election": {"title": ELECTION, "result": election, "expected": election_expected,
                     "votes": election_check, "as_scripted": election_ok},
        "votes_counted": motion_check["counted"] + election_check["counted"],
        "elections": [first_election, *extra["elections"]],
        "committee": extra["committee"],
        "candidate_lists": extra["candidate_lists"],
        "mixed_ballot": extra["mixed"],
        "minutes_pdf": extra["minutes_pdf"],
        "lost": lost,
        "seconds": round(time.monotonic() - started, 1),
    }

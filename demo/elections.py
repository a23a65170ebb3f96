"""The scenario's elections as a party congress runs them, after the first motion and election.

1. **The counting committee** is elected by a motion (every present delegate votes yes) and appointed
   with three accounts, the first its head.
2. **A two-round election made from a candidate list** (2 seats, 3 candidates, most votes): the
   presidium nominates four, three accept and one declines; the list (numbered in nomination order) is
   put to the congress by its approval motion, adopted, and the election is made from it. Round one
   elects one candidate and ties the other two for the last seat; the page's further round (1 seat, the
   two tied) is opened and settles it.
3. **A mixed keypad + paper ballot**: three present delegates are handed paper ballots (their keypads are
   then refused), the others vote by keypad; two counters enter the paper tally, it is counted in, and
   the committee head confirms the result, as they confirm the rounds of the election.
4. **The minutes** of the whole congress are written as a PDF (Vietnamese) next to the venue.

:func:`run` returns the JSON part for the summary: ``elections`` (each with ``elected`` and ``rounds``),
``candidate_lists`` (each with its candidates, approval motion and election), ``mixed``, ``committee``,
``minutes_pdf`` and ``as_scripted``.
"""

from __future__ import annotations

import secrets
from collections import Counter

COMMITTEE_MOTION = "Elect the counting committee"
PRESIDIUM = "Presidium (2 seats, two rounds)"
PRESIDIUM_CANDIDATES = ["Nguyễn Thị Phương Thảo", "Trần Văn Bình", "Lê Hoàng Minh"]
PRESIDIUM_DECLINED = "Đặng Thùy Trâm"  # nominated, declines to stand
PRESIDIUM_MOTION = "Approval of the list of candidates for the presidium"
INSPECTION = "Inspection committee (1 seat, keypads and paper)"
INSPECTION_CANDIDATES = ["Phạm Thu Hà", "Hoàng Đức Anh"]
COMMITTEE = [
    ("kiem-phieu-1", "Bùi Thị Lan"),
    ("kiem-phieu-2", "Đỗ Mạnh Hùng"),
    ("kiem-phieu-3", "Hồ Xuân Hương"),
]


def _accounts(db, hasher) -> None:
    from controller.storage.tables import Role, User

    with db.session() as s:
        for name, _ in COMMITTEE:
            s.add(User(name=name, role=Role.OBSERVER, password_hash=hasher.hash(secrets.token_urlsafe(16))))


def _round_summary(record: dict) -> dict:
    return {
        "title": record["title"],
        "seats": record["seats"],
        "settled": record["settled"],
        "elected": [e["name"] for e in record["elected"]],
        "rounds": [
            {
                "round": r["round"],
                "ballot": r["ballot"],
                "seats": r["seats"],
                "candidates": r["candidates"],
                "elected": r["elected"],
                "tied": r["tied"],
                "counts": (r["result"] or {}).get("counts"),
            }
            for r in record["rounds"]
        ],
    }


def _candidate_list(stack, present: list[str], keypad, vote, timeout: float) -> tuple[int, dict]:
    """The presidium's list: nominated, answered, put to the congress and adopted (every present delegate
    votes yes); returns the id of the election made from it and its summary."""
    from controller.voting.candidates import motion_state
    from controller.voting.tables import ListOrder

    lists, ballots = stack.controller.services.candidates, stack.ballots
    lists.create_list(PRESIDIUM, actor="user:demo-chair", numbering=ListOrder.NOMINATION)
    for name in [*PRESIDIUM_CANDIDATES[:2], PRESIDIUM_DECLINED, PRESIDIUM_CANDIDATES[2]]:
        cid = lists.nominate(PRESIDIUM, name, actor="user:demo-chair", biography=f"{name}: 20 năm công tác.")
        (lists.decline if name == PRESIDIUM_DECLINED else lists.accept)(cid, actor="user:demo-chair")
    motion = lists.approval_motion(ballots, PRESIDIUM, PRESIDIUM_MOTION, actor="user:demo-chair")
    ballots.open(motion, actor="demo-chair")
    vote(stack, motion, {keypad(d): frozenset({1}) for d in present}, timeout)
    ballots.close(motion, actor="demo-chair")
    election = lists.election(ballots, PRESIDIUM, seats=2, secret=True, actor="user:demo-chair")
    cl = lists.list_named(PRESIDIUM)
    m = lists.motion(cl)
    summary = {
        "name": cl.name,
        "numbering": cl.numbering.value,
        "candidates": [{"number": n.number, "name": n.candidate.name, "status": n.candidate.status.value,
                        "nominated_by": n.candidate.nominated_by} for n in lists.numbered(cl)],
        "motion": {"ballot": m.id, "title": m.title, "state": motion_state(m),
                   "counts": (m.result or {}).get("counts")},
        "election": election,
    }
    return election, summary


def run(stack, present: list[str], keypad, vote, timeout: float) -> dict:
    """``keypad(delegate)`` is the delegate's keypad; ``vote(stack, ballot, plan, timeout)`` votes by
    keypad and returns the acknowledgements."""
    from controller.accounts.auth import make_hasher
    from controller.voting.committee import Committee
    from controller.voting.elections import Elections
    from controller.voting.paper import PaperBallots
    from controller.voting.tables import BallotKind

    db, ballots = stack.controller.db, stack.ballots
    sec = stack.controller.config.security
    _accounts(db, make_hasher(memory_kib=sec.argon2_memory_kib, time_cost=sec.argon2_time_cost))
    committee, paper, elections = Committee(db), PaperBallots(ballots), Elections(ballots)

    # 1. The counting committee, elected by a motion.
    motion = ballots.create(COMMITTEE_MOTION, BallotKind.MOTION, actor="demo-chair")
    ballots.open(motion, actor="demo-chair")
    vote(stack, motion, {keypad(d): frozenset({1}) for d in present}, timeout)
    ballots.close(motion, actor="demo-chair")
    committee.appoint(COMMITTEE, COMMITTEE[0][0], actor="demo-chair", motion_id=motion)
    head = COMMITTEE[0][0]

    # 2. The list, then two rounds: everyone chooses the first candidate; the others split evenly (a tie).
    first, presidium_list = _candidate_list(stack, present, keypad, vote, timeout)
    ballots.open(first, actor="demo-chair")
    n = len(present)
    plan = {}
    for i, d in enumerate(present):
        if n % 2 and i == n - 1:
            plan[keypad(d)] = frozenset({1})  # an odd hall: the last delegate keeps the split even
        else:
            plan[keypad(d)] = frozenset({1, 2 if i % 2 == 0 else 3})
    vote(stack, first, plan, timeout)
    round_one = ballots.close(first, actor="demo-chair").as_dict()
    second = elections.prepare_round(first, actor="demo-chair")
    ballots.open(second, actor="demo-chair")
    vote(stack, second, {keypad(d): frozenset({1 if i % 3 else 2}) for i, d in enumerate(present)}, timeout)
    ballots.close(second, actor="demo-chair")
    for bid in (first, second):
        committee.confirm(bid, head)
    presidium = _round_summary(elections.record(first))
    presidium["candidate_list"] = presidium_list["name"]
    presidium_ok = (
        presidium_list["motion"]["state"] == "adopted"
        and [c["name"] for c in presidium_list["candidates"] if c["number"]] == PRESIDIUM_CANDIDATES
        and presidium["rounds"][0]["candidates"] == PRESIDIUM_CANDIDATES
        and
        round_one["tied"] == PRESIDIUM_CANDIDATES[1:]
        and round_one["elected"] == PRESIDIUM_CANDIDATES[:1]
        and presidium["settled"]
        and len(presidium["rounds"]) == 2
        and presidium["elected"] == PRESIDIUM_CANDIDATES[:2]
    )

    # 3. Keypads and paper: the last three present delegates vote on paper.
    mixed = ballots.create(
        INSPECTION,
        BallotKind.ELECTION,
        options=INSPECTION_CANDIDATES,
        seats=1,
        secret=True,
        actor="demo-chair",
    )
    ballots.open(mixed, actor="demo-chair")
    on_paper = present[-3:]
    for d in on_paper:
        paper.issue(mixed, d, actor=f"user:{COMMITTEE[1][0]}")
    keypad_plan = {keypad(d): frozenset({1 if i % 4 else 2}) for i, d in enumerate(present[:-3])}
    acks = vote(stack, mixed, keypad_plan, timeout)
    refused = vote(stack, mixed, {keypad(on_paper[0]): frozenset({1})}, timeout)  # already voted on paper
    keypad_result = ballots.close(mixed, actor="demo-chair").as_dict()
    paper_votes = [2, 1]  # the three paper ballots: two for the second candidate, one for the first
    for counter, _ in COMMITTEE[1:]:
        paper.enter(
            mixed, counter, collected=3, invalid=0, blank=0, votes=paper_votes, actor=f"user:{counter}"
        )
    combined = paper.combine(mixed, actor=f"user:{COMMITTEE[1][0]}")
    confirmed = committee.confirm(mixed, head)
    expected = Counter(INSPECTION_CANDIDATES[next(iter(c)) - 1] for c in keypad_plan.values())
    expected.update({INSPECTION_CANDIDATES[0]: paper_votes[0], INSPECTION_CANDIDATES[1]: paper_votes[1]})
    mixed_ok = (
        combined["counts"] == {o: expected.get(o, 0) for o in INSPECTION_CANDIDATES}
        and combined["valid"] == n
        and combined["keypad"]["valid"] == n - 3
        and combined["paper"]["valid"] == 3
        and bool(confirmed.get("confirmed"))
        and all(a is not None for a in acks.values())
        and all(a is not None and a.status.name == "ALREADY_VOTED" for a in refused.values())
        and combined["counts"] != keypad_result["counts"]
    )
    inspection = _round_summary(elections.record(mixed))
    inspection["channels"] = {"keypad": combined["keypad"], "paper": combined["paper"]}

    # 4. The minutes of the congress.
    path = stack.venue.root / "congress-minutes.pdf"
    path.write_bytes(minutes(stack, "vi"))
    return {
        "elections": [presidium, inspection],
        "candidate_lists": [presidium_list],
        "committee": {"motion": motion, "head": head, "members": [m for m, _ in COMMITTEE]},
        "mixed": {
            "ballot": mixed,
            "keypad_votes": len(keypad_plan),
            "paper_ballots": len(on_paper),
            "result": confirmed,
            "as_scripted": mixed_ok,
        },
        "minutes_pdf": str(path),
        "as_scripted": presidium_ok and mixed_ok,
    }


def minutes(stack, lang: str) -> bytes:
    """The congress minutes as the page writes them, in ``lang``."""
    app = stack.controller.app
    with app.test_request_context(f"/congress/minutes.pdf?lang={lang}"):
        from controller.record.minutes import minutes_pdf
        from controller.web.voting.committee import speech

        venue = stack.controller.config.venue
        return minutes_pdf(stack.controller.db, stack.ballots, speech(), venue=venue.name or venue.id)

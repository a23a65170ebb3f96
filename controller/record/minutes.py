"""The minutes of the whole congress (Biên bản Đại hội): PDF and the same content as data for the page.

:func:`gather` reads everything once: the programme (days, sessions, agenda items with their ballots),
attendance per session (each session's latest roll call), every ballot and round with its rule, base,
counts and outcome, who opened and closed it (from the audit trail), the audit chain's head at each
close, the roll call of every named ballot (named votes are public: every voter with the channel,
keypad or paper, and the vote, ``controller.voting.named_roll``), the elected bodies (each election's
rounds, who was elected in which round), each candidate list (its numbering, every nomination with who
made it and each answer with its time, the motion that put it to the congress and the election made
from it), the exceptions (a ballot opened without quorum, keypads rebound
or reported lost during a ballot, attendant-lane decisions) and the counting committee.
:func:`minutes_pdf` writes it as an A4 PDF with Noto Sans embedded and signature lines.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from congress.i18n import M_, N_, Message
from controller.programme.agenda import Programme
from controller.programme.rollcall import RollCalls
from controller.record import pdf
from controller.record.text import Speech
from controller.storage.database import Database
from controller.storage.tables import AuditEntry, Delegate
from controller.voting import rules
from controller.voting.candidates import CandidateLists, motion_state
from controller.voting.committee import Committee
from controller.voting.elections import Elections
from controller.voting.named_roll import CHANNEL_NAMES, STATE_NAMES, RollEntry, VoteState, roll_call
from controller.voting.rebinds import Rebinds
from controller.voting.tables import Ballot, BallotKind, BallotStatus, KeypadEvent

#: A candidate's status, the list's numbering and the state of its approval motion, as a reader reads them
#: (the same words as the candidate lists' pages).
CANDIDATE_STATUS = {"nominated": N_("nominated"), "accepted": N_("accepted"), "declined": N_("declined"),
                    "withdrawn": N_("withdrawn")}
LIST_ORDER = {"vietnamese": N_("Vietnamese alphabetical order of given names"),
              "nomination": N_("order of nomination")}
LIST_MOTION = {"none": N_("not yet"), "draft": N_("motion drafted"), "open": N_("being voted on"),
               "adopted": N_("adopted"), "rejected": N_("rejected")}
BALLOT_STATUS = {"draft": N_("draft"), "open": N_("open"), "closed": N_("closed")}
#: Audited steps of a nomination: the action -> the status it records.
CANDIDATE_STEPS = {"candidate.nominate": "nominated", "candidate.accepted": "accepted",
                   "candidate.declined": "declined", "candidate.withdrawn": "withdrawn"}

AUDITED = ("ballot.open", "ballot.close", "ballot.confirm")


def _ballot_actors(db: Database) -> dict[int, dict[str, Any]]:
    """ballot id -> {"opened_by", "closed_by", "without_quorum"} from the audit trail."""
    out: dict[int, dict[str, Any]] = {}
    with db.session() as s:
        for actor, action, detail in s.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.action.in_(AUDITED))
            .order_by(AuditEntry.seq)
        ):
            try:
                d = json.loads(detail)
            except ValueError:
                continue
            bid = d.get("ballot") if isinstance(d, dict) else None
            if not isinstance(bid, int):
                continue
            entry = out.setdefault(bid, {})
            if action == "ballot.open":
                entry["opened_by"], entry["without_quorum"] = actor, bool(d.get("without_quorum"))
            elif action == "ballot.close":
                entry["closed_by"] = actor
            else:
                entry["confirmed_by"] = actor
    return out


def _lane_decisions(db: Database) -> list[dict]:
    """The attendant lane's answers from the audit trail, with the delegate's name and the door."""
    with db.session() as s:
        rows = s.execute(
            select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.action.in_(("lane.confirm", "lane.reject")))
            .order_by(AuditEntry.seq)
        ).all()
        names = dict(s.execute(select(Delegate.id, Delegate.name)).all())
    out = []
    for at, actor, action, detail in rows:
        try:
            d = json.loads(detail)
        except ValueError:
            d = {}
        d = d if isinstance(d, dict) else {}
        delegate = d.get("delegate")
        out.append({"at": at, "actor": actor, "action": action, "delegate": delegate,
                    "name": names.get(delegate) if delegate else None, "unit": d.get("unit")})
    return out


#: One sentence per keypad change during a ballot (``KeypadEvent``); the minutes never print the code.
KEYPAD_SENTENCES: dict[KeypadEvent, str] = {
    KeypadEvent.REBIND_REQUESTED: N_("Ballot %(ballot)s: a new binding of keypad %(keypad)s to %(name)s "
                                     "was asked for."),
    KeypadEvent.REBIND_CONFIRMED: N_("Ballot %(ballot)s: the chair confirmed the new binding of keypad "
                                     "%(keypad)s to %(name)s."),
    KeypadEvent.REBIND_REJECTED: N_("Ballot %(ballot)s: the chair refused the new binding of keypad "
                                    "%(keypad)s to %(name)s."),
    KeypadEvent.LOST: N_("Ballot %(ballot)s: keypad %(keypad)s of %(name)s was reported lost."),
    KeypadEvent.FOUND: N_("Ballot %(ballot)s: keypad %(keypad)s of %(name)s was found again."),
    KeypadEvent.UNBOUND: N_("Ballot %(ballot)s: keypad %(keypad)s was taken back from %(name)s."),
}


def _someone(name: str | None, delegate: str | None) -> Message | str:
    if name and delegate:
        return f"{name} ({delegate})"
    return name or delegate or M_("no delegate")


def exception_text(x: dict) -> Message:
    """The sentence the minutes print for one exception of :func:`gather` (page and PDF alike)."""
    kind = x["kind"]
    if kind == "without_quorum":
        return M_("Ballot %(ballot)s was opened without quorum.", ballot=x["ballot"])
    if kind == "keypad":
        return Message(KEYPAD_SENTENCES[KeypadEvent(x["event"])],
                       {"ballot": x["ballot"], "keypad": x["keypad"],
                        "name": _someone(x.get("name"), x.get("delegate"))})
    who = _someone(x.get("name"), x.get("delegate"))
    if kind == "lane.confirm":
        if x.get("unit"):
            return M_("The attendant let %(name)s in (door unit %(unit)s).", name=who, unit=x["unit"])
        return M_("The attendant let %(name)s in.", name=who)
    if kind == "lane.reject":
        if x.get("unit"):
            return M_("The attendant refused entry to %(name)s (door unit %(unit)s).", name=who,
                      unit=x["unit"])
        return M_("The attendant refused entry to %(name)s.", name=who)
    raise ValueError(f"no sentence for the exception kind {kind!r}")


def _candidate_steps(db: Database) -> dict[int, list[dict]]:
    """candidate id -> [{"status", "at", "actor"}, ...] in order, from the audit trail."""
    out: dict[int, list[dict]] = {}
    with db.session() as s:
        for at, actor, action, detail in s.execute(
            select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.action.in_(tuple(CANDIDATE_STEPS)))
            .order_by(AuditEntry.seq)
        ):
            try:
                d = json.loads(detail)
            except ValueError:
                continue
            cid = d.get("candidate") if isinstance(d, dict) else None
            if isinstance(cid, int):
                out.setdefault(cid, []).append({"status": CANDIDATE_STEPS[action], "at": at, "actor": actor})
    return out


def nominator_text(nominated_by: str, names: dict[str, str]) -> Message:
    """Who nominated, as the minutes say it: a delegate (through their app) or a presidium account."""
    if nominated_by.startswith("delegate:"):
        did = nominated_by.removeprefix("delegate:")
        return M_("%(name)s (delegate, through the app)", name=names.get(did, did))
    return M_("presidium, account %(account)s", account=nominated_by.removeprefix("user:"))


def candidate_lists(db: Database, ballots) -> list[dict]:
    """Every candidate list with its nominations (numbered as the ballot numbers them), each answer and
    its time, the approval motion and its result, and the election made from it (every round)."""
    lists = CandidateLists(db)
    steps = _candidate_steps(db)
    with db.session() as s:
        names = dict(s.execute(select(Delegate.id, Delegate.name)).all())
    elections = Elections(ballots)
    out = []
    for cl in lists.lists():
        rows = []
        for n in lists.numbered(cl):
            c = n.candidate
            history = steps.get(c.id) or [{"status": "nominated", "at": c.at, "actor": c.nominated_by}]
            rows.append({"number": n.number, "name": c.name, "delegate": c.delegate_id,
                         "status": c.status.value, "status_text": CANDIDATE_STATUS[c.status.value],
                         "by": nominator_text(c.nominated_by, names), "history": history,
                         "nominated_at": history[0]["at"],
                         "answered_at": history[-1]["at"] if len(history) > 1 else None})
        motion = lists.motion(cl)
        state = motion_state(motion)
        out.append({"list": cl, "numbering": LIST_ORDER[cl.numbering.value], "rows": rows,
                    "motion": motion, "motion_state": state, "motion_state_text": LIST_MOTION[state],
                    "motion_counts": (motion.result or {}).get("counts", {}) if motion is not None else {},
                    "election": elections.record(cl.election_id) if cl.election_id is not None else None})
    return out


def gather(db: Database, ballots) -> dict:
    """Everything the minutes print (see the module docstring)."""
    programme = Programme(db).outline()
    rollcalls = RollCalls(db, ballots.policy)
    attendance = []
    for day in programme:
        for sess in day["sessions"]:
            rc = rollcalls.latest(sess["code"])
            attendance.append({"session": sess["code"], "title": sess["title"], "rollcall": rc})
    actors = _ballot_actors(db)
    rebinds = Rebinds(db)
    elections = Elections(ballots)
    with db.session() as s:
        closed = list(
            s.scalars(select(Ballot).where(Ballot.status == BallotStatus.CLOSED).order_by(Ballot.id))
        )
        named = {b.id: roll_call(s, b) for b in closed if not b.secret}
    out_ballots, bodies, seen = [], [], set()
    for b in closed:
        out_ballots.append(
            {
                "ballot": b,
                "actors": actors.get(b.id, {}),
                "rule_text": rules.describe(b.result or {}),
                "named": named.get(b.id),
                "exceptions": rebinds.exceptions(b.id),
            }
        )
        if b.kind == BallotKind.ELECTION:
            root = b.election_id or b.id
            if root not in seen:
                seen.add(root)
                bodies.append(elections.record(root))
    exceptions = []
    for item in out_ballots:
        b = item["ballot"]
        if item["actors"].get("without_quorum"):
            exceptions.append(
                {
                    "kind": "without_quorum",
                    "ballot": b.id,
                    "at": b.opened_at,
                    "actor": item["actors"].get("opened_by"),
                }
            )
        for e in item["exceptions"]:
            exceptions.append(
                {
                    "kind": "keypad",
                    "ballot": b.id,
                    "at": e.at,
                    "actor": e.actor,
                    "event": e.event.value,
                    "keypad": e.keypad_id,
                    "delegate": e.delegate_id,
                    "name": e.delegate_name,
                }
            )
    for lane in _lane_decisions(db):
        exceptions.append({"kind": lane["action"], "at": lane["at"], "actor": lane["actor"],
                           "delegate": lane["delegate"], "name": lane["name"], "unit": lane["unit"]})
    for x in exceptions:
        x["text"] = exception_text(x)
    return {
        "programme": programme,
        "attendance": attendance,
        "ballots": out_ballots,
        "elections": bodies,
        "candidate_lists": candidate_lists(db, ballots),
        "exceptions": exceptions,
        "committee": Committee(db).members(),
    }


def _outcome(say: Speech, b: Ballot) -> str:
    r = b.result or {}
    if b.kind == BallotKind.ELECTION:
        text = say._("Elected: %(names)s", names=", ".join(r.get("elected", [])) or say._("nobody"))
        if r.get("tied"):
            text += " · " + say._(
                "tie for the last seat: %(names)s (not decided)", names=", ".join(r["tied"])
            )
        return text
    if b.kind == BallotKind.CHOICE:
        return (
            say._("Adopted: %(option)s", option=r["elected"][0])
            if r.get("passed")
            else say._("No option adopted")
        )
    return say._("Adopted") if r.get("passed") else say._("Not adopted")


def steps_text(say: Speech, row: dict) -> str:
    """A nomination's steps with their times: "nominated 01/12/2026 09:10; accepted 01/12/2026 09:40"."""
    return "; ".join(f"{say.t(CANDIDATE_STATUS[h['status']])} {say.when(h['at'])}" for h in row["history"])


def round_text(say: Speech, r: dict) -> str:
    """One round of an election made from a list: its ballot, its state or whom it elected."""
    if r["status"] != "closed":
        state = say.t(BALLOT_STATUS[r["status"]])
    else:
        state = say._("Elected: %(names)s", names=", ".join(r["elected"]) or say._("nobody"))
    return say._("Round %(round)s (ballot %(ballot)s): %(state)s", round=r["round"], ballot=r["ballot"],
                 state=state)


def candidate_list_story(say: Speech, lists: list[dict]) -> list:
    out = [pdf.para(say._("Candidate lists"), "h1")]
    if not lists:
        out.append(pdf.para(say._("None.")))
    for item in lists:
        out.append(pdf.para(say._("Candidate list: %(list)s", list=item["list"].name), "h2"))
        out.append(pdf.para(say._("Numbered for the keypads: %(order)s.", order=say.t(item["numbering"]))))
        rows = [(x["number"] or "", x["name"] + (f" ({x['delegate']})" if x["delegate"] else ""),
                 say.t(x["by"]), steps_text(say, x)) for x in item["rows"]]
        if rows:
            out.append(pdf.table([(say._("No."), say._("Candidate"), say._("Nominated by"), say._("Status")),
                                  *rows], widths=[30, 150, 120, 174]))
        else:
            out.append(pdf.para(say._("No nomination yet.")))
        m = item["motion"]
        if m is None:
            out.append(pdf.para(say._("Not yet put to the congress.")))
        else:
            text = say._("Approval motion: ballot %(id)s, %(title)s: %(state)s.", id=m.id, title=m.title,
                         state=say.t(item["motion_state_text"]))
            if m.status == BallotStatus.CLOSED:
                c = item["motion_counts"]
                text += " " + say._("Yes %(yes)s, no %(no)s, abstain %(abstain)s.", yes=c.get("Yes", 0),
                                    no=c.get("No", 0), abstain=c.get("Abstain", 0))
            out.append(pdf.para(text))
        e = item["election"]
        if e is None:
            out.append(pdf.para(say._("No election has been made from the list yet.")))
        else:
            out.append(pdf.para(say._(
                "Election made from the list: ballot %(id)s, %(title)s, %(seats)s seats.",
                id=e["election"], title=e["title"], seats=e["seats"])))
            for r in e["rounds"]:
                out.append(pdf.para(round_text(say, r)))
    return out


def vote_text(say: Speech, b: Ballot, v: RollEntry) -> str:
    """A roll-call line's vote: the options, invalid, blank, or why there is none."""
    if v.state != VoteState.VOTED:
        return say.gettext(STATE_NAMES[v.state])
    if v.invalid:
        return say._("invalid")
    if not v.choices:
        return say._("blank")
    return ", ".join(say.gettext(c) if b.kind == BallotKind.MOTION else c for c in v.choices)


def story(data: dict, say: Speech, *, venue: str) -> list:
    from reportlab.platypus import Spacer

    out = [
        pdf.para(venue, "center"),
        pdf.para(say._("Minutes of the congress"), "title"),
        pdf.para(say._("Times in %(zone)s.", zone=say.zone), "small"),
    ]
    out.append(pdf.para(say._("Programme"), "h1"))
    for day in data["programme"]:
        out.append(pdf.para(f"{day['date']} {day['title'] or ''}".strip(), "h2"))
        for sess in day["sessions"]:
            out.append(pdf.para(f"{sess['code']} — {sess['title']}"))
            rows = [
                (i["number"], i["title"], ", ".join(f"#{n}" for n in i["ballots"])) for i in sess["items"]
            ]
            if rows:
                out.append(
                    pdf.table(
                        [(say._("No."), say._("Agenda item"), say._("Ballots")), *rows], widths=[40, 334, 100]
                    )
                )
    out.append(pdf.para(say._("Attendance per session"), "h1"))
    rows = []
    for a in data["attendance"]:
        rc = a["rollcall"]
        if rc:
            rows.append(
                (
                    a["session"],
                    a["title"],
                    rc["summoned"],
                    rc["present"],
                    rc["excused"],
                    rc["absent"],
                    say._("yes") if rc["quorate"] else say._("no"),
                )
            )
        else:
            rows.append((a["session"], a["title"], "—", "—", "—", "—", "—"))
    out.append(
        pdf.table(
            [
                (
                    say._("Session"),
                    say._("Title"),
                    say._("Summoned"),
                    say._("Present"),
                    say._("Excused"),
                    say._("Absent"),
                    say._("Quorum"),
                ),
                *rows,
            ],
            widths=[50, 164, 52, 52, 52, 52, 52],
        )
    )
    out.append(pdf.para(say._("Ballots"), "h1"))
    for item in data["ballots"]:
        b, r = item["ballot"], item["ballot"].result or {}
        title = say._("Ballot %(id)s: %(title)s", id=b.id, title=b.title)
        if b.round_no > 1:
            title += " — " + say._("round %(round)s", round=b.round_no)
        out.append(pdf.para(title, "h2"))
        out.append(pdf.para(say.t(item["rule_text"])))
        out.append(
            pdf.para(
                say._(
                    "Opened %(opened)s by %(who)s; closed %(closed)s by %(by)s.",
                    opened=say.when(b.opened_at),
                    who=item["actors"].get("opened_by", "—"),
                    closed=say.when(b.closed_at),
                    by=item["actors"].get("closed_by", "—"),
                )
            )
        )
        out.append(
            pdf.para(
                say._(
                    "Ballots collected %(cast)s: valid %(valid)s, invalid %(invalid)s, blank "
                    "%(blank)s; base of the rule %(base)s, votes needed %(required)s.",
                    cast=r.get("cast", 0),
                    valid=r.get("valid", 0),
                    invalid=r.get("invalid", 0),
                    blank=r.get("blank", 0),
                    base=r.get("base_value"),
                    required=r.get("required"),
                )
            )
        )
        counts = [
            (
                i,
                say.gettext(n) if b.kind == BallotKind.MOTION else n,
                say.number(v),
                say.percent(v, r.get("base_value") or 0),
            )
            for i, (n, v) in enumerate(r.get("counts", {}).items(), 1)
        ]
        out.append(
            pdf.table(
                [
                    (
                        say._("No."),
                        say._("Candidate or option"),
                        say._("Votes"),
                        say._("Percentage of the base"),
                    ),
                    *counts,
                ],
                widths=[30, 284, 70, 90],
            )
        )
        out.append(pdf.para(_outcome(say, b), "h2"))
        if r.get("confirmed"):
            out.append(
                pdf.para(
                    say._(
                        "Confirmed by the head of the counting committee, %(name)s, at %(when)s.",
                        name=r["confirmed"].get("name"),
                        when=say.when(r["confirmed"].get("at")),
                    )
                )
            )
        if r.get("audit_head"):
            h = r["audit_head"]
            out.append(
                pdf.para(
                    say._(
                        "Audit chain head at the close: %(fingerprint)s (row %(seq)s, hash %(hash)s)",
                        fingerprint=h.get("fingerprint", ""),
                        seq=h["seq"],
                        hash=h["hash"],
                    ),
                    "mono",
                )
            )
        if item["named"] is not None:
            out.append(pdf.para(say._("Roll call of this named ballot"), "small"))
            out.append(
                pdf.table(
                    [
                        (say._("Delegate"), say._("Channel"), say._("Vote")),
                        *((v.name, say.gettext(CHANNEL_NAMES[v.channel]), vote_text(say, b, v))
                          for v in item["named"]),
                    ],
                    widths=[200, 74, 200],
                )
                if item["named"]
                else pdf.para(say._("Nobody has voted."))
            )
    out += candidate_list_story(say, data["candidate_lists"])
    out.append(pdf.para(say._("Elected bodies"), "h1"))
    for e in data["elections"]:
        out.append(pdf.para(say._("%(title)s: %(seats)s seats", title=e["title"], seats=e["seats"]), "h2"))
        rows = [(x["name"], x["round"], say.number(x["votes"] or 0)) for x in e["elected"]]
        out.append(
            pdf.table([(say._("Elected"), say._("Round"), say._("Votes")), *rows], widths=[314, 80, 80])
        )
        if not e["settled"]:
            out.append(pdf.para(say._("Not settled: seats are still to fill.")))
    out.append(pdf.para(say._("Exceptions"), "h1"))
    rows = [(say.when(x["at"]), say.t(x["text"]), x.get("actor") or "") for x in data["exceptions"]]
    if rows:
        out.append(pdf.table([(say._("When"), say._("What happened"), say._("By")), *rows],
                             widths=[110, 270, 94]))
    else:
        out.append(pdf.para(say._("None.")))
    people = [(say._("Chair"), ""), (say._("Secretary"), "")]
    people += [
        (
            say._("Head of the counting committee") if m.head else say._("Member of the counting committee"),
            m.display_name,
        )
        for m in data["committee"]
    ]
    out += [Spacer(1, 16), pdf.signatures(people)]
    return out


def minutes_pdf(db: Database, ballots, say: Speech, *, venue: str) -> bytes:
    return pdf.build(
        story(gather(db, ballots), say, venue=venue), title=say._("Minutes of the congress"), author=venue
    )

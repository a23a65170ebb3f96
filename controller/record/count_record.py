"""The counting committee's vote-count record of one ballot (Biên bản kiểm phiếu), as a PDF.

Summoned, present at the opening, ballots issued (keypads eligible at the opening and paper ballots
handed out), collected, valid, invalid and blank; votes and percentage per candidate or option against
the rule's base; elected, tied, seats still to fill; the keypad and paper channels apart; whether the
committee head confirmed it, the audit chain's head hash at the close; signature lines for the
committee. :func:`facts` is the same content as data (the page and the minutes use it too).
"""

from __future__ import annotations

from controller.record import pdf
from controller.record.text import Speech
from controller.voting import rules
from controller.voting.tables import Ballot, CommitteeMember


def facts(b: Ballot, paper_issued: int = 0) -> dict:
    """The figures of a closed ballot's record."""
    r = b.result or {}
    issued_keypads = b.eligible_at_open or 0
    base_value = r.get("base_value") or 0
    rows = []
    for i, (name, n) in enumerate(r.get("counts", {}).items(), start=1):
        state = "elected" if name in r.get("elected", []) else "tied" if name in r.get("tied", []) else ""
        rows.append(
            {
                "no": i,
                "name": name,
                "votes": n,
                "state": state,
                "share": (n / base_value) if base_value else None,
            }
        )
    return {
        "summoned": b.summoned_at_open,
        "present": b.present_at_open,
        "issued": issued_keypads + paper_issued,
        "issued_keypads": issued_keypads,
        "issued_paper": paper_issued,
        "collected": r.get("cast", 0),
        "valid": r.get("valid", 0),
        "invalid": r.get("invalid", 0),
        "blank": r.get("blank", 0),
        "rows": rows,
        "base_value": base_value,
        "required": r.get("required"),
        "elected": r.get("elected", []),
        "tied": r.get("tied", []),
        "next_round": r.get("next_round"),
        "keypad": r.get("keypad"),
        "paper": r.get("paper"),
        "confirmed": r.get("confirmed"),
        "audit_head": r.get("audit_head"),
    }


def _option(say: Speech, b: Ballot, name: str) -> str:
    return say.gettext(name) if b.kind.value == "motion" else name  # Yes / No / Abstain are msgids


def story(b: Ballot, f: dict, say: Speech, committee: list[CommitteeMember], *, venue: str) -> list:
    """The flowables of the record (also used inside the minutes)."""
    from reportlab.platypus import Spacer

    r = b.result or {}
    out = [
        pdf.para(venue, "center"),
        pdf.para(say._("Vote-count record"), "title"),
        pdf.para(say._("Ballot %(id)s: %(title)s", id=b.id, title=b.title), "h2"),
    ]
    if b.round_no > 1:
        out.append(pdf.para(say._("round %(round)s", round=b.round_no)))
    out.append(
        pdf.para(
            say._(
                "Opened %(opened)s, closed %(closed)s (times in %(zone)s).",
                opened=say.when(b.opened_at),
                closed=say.when(b.closed_at),
                zone=say.zone,
            )
        )
    )
    out.append(pdf.para(say.t(rules.describe(r))))
    figures = [
        (say._("Delegates summoned"), f["summoned"]),
        (say._("Present at the opening"), f["present"]),
        (
            say._("Ballots issued (keypads eligible and paper)"),
            say._(
                "%(total)s (%(keypads)s keypads, %(paper)s paper)",
                total=f["issued"],
                keypads=f["issued_keypads"],
                paper=f["issued_paper"],
            ),
        ),
        (say._("Ballots collected"), f["collected"]),
        (say._("Valid ballots"), f["valid"]),
        (say._("Invalid ballots"), f["invalid"]),
        (say._("Blank ballots"), f["blank"]),
        (say._("Base of the rule"), f["base_value"]),
        (say._("Votes needed"), f["required"]),
    ]
    out.append(
        pdf.table(
            [(k, say.number(v) if isinstance(v, int) else v) for k, v in figures],
            widths=[260, 214],
            header=False,
        )
    )
    out.append(Spacer(1, 8))
    head = [
        say._("No."),
        say._("Candidate or option"),
        say._("Votes"),
        say._("Percentage of the base"),
        say._("Outcome"),
    ]
    labels = {
        "elected": say._("elected") if b.kind.value == "election" else say._("adopted"),
        "tied": say._("tied"),
        "": "",
    }
    body = [
        (
            row["no"],
            _option(say, b, row["name"]),
            say.number(row["votes"]),
            say.percent(row["votes"], f["base_value"]),
            labels[row["state"]],
        )
        for row in f["rows"]
    ]
    out.append(pdf.table([head, *body], widths=[30, 214, 60, 80, 90]))
    if f["keypad"] or f["paper"]:
        out.append(
            pdf.para(
                say._(
                    "Keypads: %(keypad)s valid, %(kinvalid)s invalid. Paper: %(paper)s valid, "
                    "%(pinvalid)s invalid.",
                    keypad=(f["keypad"] or {}).get("valid", 0),
                    kinvalid=(f["keypad"] or {}).get("invalid", 0),
                    paper=(f["paper"] or {}).get("valid", 0),
                    pinvalid=(f["paper"] or {}).get("invalid", 0),
                ),
                "small",
            )
        )
    if b.kind.value == "election":
        names = ", ".join(f["elected"]) or say._("nobody")
        out.append(pdf.para(say._("Elected: %(names)s", names=names), "h2"))
        if f["tied"]:
            out.append(
                pdf.para(say._("tie for the last seat: %(names)s (not decided)", names=", ".join(f["tied"])))
            )
        if f["next_round"]:
            out.append(
                pdf.para(
                    say.ngettext(
                        "%(num)d seat unfilled: a further round is needed",
                        "%(num)d seats unfilled: a further round is needed",
                        f["next_round"]["seats"],
                    )
                )
            )
    else:
        passed = r.get("passed")
        out.append(pdf.para(say._("Adopted") if passed else say._("Not adopted"), "h2"))
    if f["confirmed"]:
        c = f["confirmed"]
        out.append(
            pdf.para(
                say._(
                    "Confirmed by the head of the counting committee, %(name)s, at %(when)s.",
                    name=c.get("name") or c.get("by"),
                    when=say.when(c.get("at")),
                )
            )
        )
    else:
        out.append(pdf.para(say._("Provisional: not yet confirmed by the head of the counting committee.")))
    if f["audit_head"]:
        out.append(
            pdf.para(
                say._(
                    "Audit chain head at the close: %(fingerprint)s (row %(seq)s, hash %(hash)s)",
                    fingerprint=f["audit_head"].get("fingerprint", ""),
                    seq=f["audit_head"]["seq"],
                    hash=f["audit_head"]["hash"],
                ),
                "mono",
            )
        )
    people = [
        (
            say._("Head of the counting committee") if m.head else say._("Member of the counting committee"),
            m.display_name,
        )
        for m in committee
    ]
    if people:
        out += [Spacer(1, 12), pdf.signatures(people)]
    return out


def count_record_pdf(
    b: Ballot, say: Speech, committee: list[CommitteeMember], *, venue: str, paper_issued: int = 0
) -> bytes:
    return pdf.build(
        story(b, facts(b, paper_issued), say, committee, venue=venue),
        title=say._("Vote-count record") + f" — {b.title}",
        author=venue,
    )

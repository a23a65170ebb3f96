"""Ballots from the command line, for scripting (``congress controller ballot ...``, in ``EXTENSIONS``):

* ``ballot create TITLE --kind motion|election|choice [--option NAME ...] [--seats N] [--secret]
  [--form choose|strike] [--rule simple|absolute|two_thirds|share] [--share 3/5] [--base ...]``;
* ``ballot open ID [--minutes M] [--without-quorum]``, ``ballot close ID``;
* ``ballot show ID`` — the ballot, its progress or result, and every round of its election.

Every command takes ``--config`` and ``--json`` and is audited under ``--actor``. The command works on the
database; the running controller, which has the base station, notices an opening or closing made here
within half a second and announces it to the keypads once (``Ballots.announce_changes``, called by its
``ballot-timer`` thread), with no page open.
"""

from __future__ import annotations

import argparse

from congress.cli import emit
from controller.cli import script_options

KINDS = ("motion", "election", "choice")
FORMS = ("choose", "strike")
RULES = ("simple", "absolute", "two_thirds", "share")
BASES = ("cast", "collected", "valid", "present", "summoned")


def _ballots(path: str):
    from controller.app import open_configured
    from controller.checkins.attendance import QuorumPolicy
    from controller.voting.ballots import Ballots

    cfg, db = open_configured(path)
    return db, Ballots(db, QuorumPolicy.parse(cfg.attendance.quorum))


def _share(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    num, _, den = text.partition("/")
    return int(num), int(den)


def create(args: argparse.Namespace) -> int:
    from congress.vietnamese import nfc, sorted_names
    from controller.voting.tables import BallotForm, BallotKind, MajorityBase, MajorityRule

    if args.option:
        args.option = [nfc(o) for o in args.option]
        if args.vietnamese_order:
            args.option = sorted_names(args.option, given_first=True)
    db, ballots = _ballots(args.config)
    try:
        bid = ballots.create(
            args.title,
            BallotKind(args.kind),
            options=args.option or None,
            seats=args.seats,
            secret=args.secret,
            allow_change=not args.secret,
            rule=MajorityRule(args.rule),
            base=MajorityBase(args.base),
            form=BallotForm(args.form),
            share=_share(args.share),
            actor=args.actor,
        )
    finally:
        db.dispose()
    emit({"ballot": bid, "status": "draft"}, as_json=args.json, human=f"ballot {bid} created (draft)")
    return 0


def open_(args: argparse.Namespace) -> int:
    db, ballots = _ballots(args.config)
    try:
        info = ballots.open(
            args.id,
            actor=args.actor,
            allow_without_quorum=args.without_quorum,
            duration_s=round(args.minutes * 60) if args.minutes else None,
        )
    finally:
        db.dispose()
    emit(info, as_json=args.json, human=f"ballot {args.id} open: {info['eligible']} eligible")
    return 0


def close(args: argparse.Namespace) -> int:
    db, ballots = _ballots(args.config)
    try:
        result = ballots.close(args.id, actor=args.actor).as_dict()
    finally:
        db.dispose()
    outcome = (
        ", ".join(result["elected"])
        if result["kind"] != "motion"
        else ("adopted" if result["passed"] else "not adopted")
    )
    emit(
        {"ballot": args.id, "result": result}, as_json=args.json, human=f"ballot {args.id} closed: {outcome}"
    )
    return 0


def show(args: argparse.Namespace) -> int:
    from controller.voting.elections import Elections
    from controller.voting.tables import BallotKind, BallotStatus

    db, ballots = _ballots(args.config)
    try:
        b = ballots.get(args.id)
        doc = {
            "ballot": b.id,
            "title": b.title,
            "kind": b.kind.value,
            "status": b.status.value,
            "secret": b.secret,
            "options": b.options,
            "seats": b.seats,
            "form": b.form.value,
            "rule": b.rule.value,
            "base": b.base.value,
            "round": b.round_no,
            "progress": {k: v for k, v in ballots.progress(b.id).items() if k != "not_heard"},
            "result": b.result if b.status == BallotStatus.CLOSED else None,
        }
        if b.kind == BallotKind.ELECTION:
            doc["election"] = Elections(ballots).record(b.id)
            for r in doc["election"]["rounds"]:
                r.pop("result", None)
    finally:
        db.dispose()
    lines = [f"#{b.id} {b.title} ({doc['kind']}, {doc['status']})"]
    for i, o in enumerate(b.options, 1):
        n = (doc["result"] or {}).get("counts", {}).get(o, "")
        lines.append(f"  {i:>2}  {o}  {n}")
    if doc["result"]:
        lines.append(
            f"  elected: {', '.join(doc['result'].get('elected', [])) or '-'}"
            if b.kind != BallotKind.MOTION
            else f"  passed: {doc['result']['passed']}"
        )
    emit(doc, as_json=args.json, human="\n".join(lines))
    return 0


def register(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser("ballot", help="motions and elections: create, open, close, show")
    pa = p.add_subparsers(dest="ballot_command", metavar="ACTION", required=True)
    c = pa.add_parser("create", help="a draft ballot")
    c.add_argument("title")
    c.add_argument("--kind", default="motion", choices=KINDS)
    c.add_argument("--option", action="append", help="a candidate or option (repeat, in order)")
    c.add_argument("--seats", type=int, default=1)
    c.add_argument("--vietnamese-order", action="store_true",
                   help="number the options in Vietnamese alphabetical order of the given names")
    c.add_argument("--secret", action="store_true", help="secret ballot (else named)")
    c.add_argument("--form", default="choose", choices=FORMS, help="elections: choose up to N, or strike out")
    c.add_argument("--rule", default="simple", choices=RULES)
    c.add_argument("--share", help="with --rule share: more than NUM/DEN, e.g. 3/5")
    c.add_argument("--base", default="cast", choices=BASES)
    script_options(c)
    c.set_defaults(handler=create)
    o = pa.add_parser("open", help="open a draft ballot (quorum checked)")
    o.add_argument("id", type=int)
    o.add_argument("--minutes", type=float, help="voting time (else until closed)")
    o.add_argument("--without-quorum", action="store_true", help="open without quorum (audited)")
    script_options(o)
    o.set_defaults(handler=open_)
    x = pa.add_parser("close", help="close an open ballot and count it")
    x.add_argument("id", type=int)
    script_options(x)
    x.set_defaults(handler=close)
    s = pa.add_parser("show", help="a ballot, its progress or result, its election's rounds")
    s.add_argument("id", type=int)
    script_options(s)
    s.set_defaults(handler=show)

"""Delegate, enrollment, badge, attendance and face-data commands under ``congress controller``.

Registered through ``controller.cli.controller_cmd.EXTENSIONS``:

* ``delegates import FILE --config CFG [--json]``: import the roster CSV, enroll consenting delegates'
  photos (progress bar on stderr), report bad rows by row number; exit status 1 when rows were refused.
* ``delegates list --config CFG [--json]``; ``delegates summoned ID yes|no --config CFG``.
* ``badges --config CFG --out FILE.pdf [--delegation NAME]``: the badge sheet (A4 PDF).
* ``attendance --config CFG [--json]``: quorum under the configured rule and roll call by delegation.
* ``purge-biometrics --config CFG``: delete all face data (audited), then send every unit an empty
  gallery if the broker is reachable (otherwise the running controller does it). At a terminal it
  asks for confirmation unless ``--yes`` is given.
"""

from __future__ import annotations

import argparse
import sys
import time

from congress.cli import emit
from congress.errors import CongressError
from controller.cli import script_options


class ProgressBar:
    """A one-line progress bar on stderr (redrawn at most ten times a second, always at the end)."""

    def __init__(self, label: str, stream=None) -> None:
        self.label, self.stream, self._last = label, stream or sys.stderr, 0.0

    def __call__(self, done: int, total: int, item: str = "") -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = int(width * done / max(total, 1))
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {item:<20.20}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def import_cmd(args: argparse.Namespace) -> int:
    from controller.app import open_configured
    from controller.delegates.enrollment import build_enroller
    from controller.delegates.roster import import_roster

    cfg, db = open_configured(args.config)
    try:
        report = import_roster(db, args.file, enroller=build_enroller(cfg),
                               progress=None if args.json else ProgressBar("importing"), actor="cli")
    finally:
        db.dispose()
    lines = [f"{report.inserted} added, {report.updated} updated, {report.photos_enrolled} photos enrolled, "
             f"{report.badge_only} badge-only, {len(report.errors)} rows refused"]
    lines += [f"  refused  {p}" for p in report.errors] + [f"  warning  {p}" for p in report.warnings]
    emit(report.as_dict(), as_json=args.json, human="\n".join(lines))
    return 1 if report.errors else 0


def reenroll_cmd(args: argparse.Namespace) -> int:
    from controller.app import open_configured
    from controller.delegates.enrollment import build_enroller

    cfg, db = open_configured(args.config)
    try:
        enroller = build_enroller(cfg)
        with db.session() as session:
            counts = enroller.reenroll(session)
    finally:
        db.dispose()
    emit({**counts, "embedder": cfg.faces.model}, as_json=args.json,
         human=f"{counts['reenrolled']} photos embedded again with {cfg.faces.model}, "
               f"{counts['rejected']} refused, {counts['missing_photo']} without a kept photo (upload again)")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    from controller.app import open_configured
    from controller.delegates.roster import list_delegates

    _, db = open_configured(args.config)
    try:
        rows = list_delegates(db)
    finally:
        db.dispose()
    human = "\n".join(
        f"{d['id']:<12} {d['name'][:30]:<30} {d['delegation'][:16]:<16} {d['seat'] or '-':<6} "
        f"{'face' if d['consent'] else 'badge-only':<10} photos {d['photos']}" for d in rows
    ) or "no delegates"
    emit({"delegates": rows}, as_json=args.json, human=human)
    return 0


def summoned_cmd(args: argparse.Namespace) -> int:
    from controller.app import open_configured
    from controller.delegates.roster import set_summoned

    _, db = open_configured(args.config)
    try:
        set_summoned(db, args.id, args.value == "yes", actor=args.actor)
    finally:
        db.dispose()
    emit({"delegate": args.id, "summoned": args.value == "yes"}, as_json=args.json,
         human=f"{args.id}: {'summoned (counts for the quorum)' if args.value == 'yes' else 'not summoned'}")
    return 0


def badges_cmd(args: argparse.Namespace) -> int:
    from congress import pki
    from controller.app import open_configured
    from controller.delegates.badges import badges, sheet_pdf

    cfg, db = open_configured(args.config)
    try:
        key = pki.load_signing_key(cfg.ca_dir / "controller-signing.key")
        items = badges(db, key, cfg.venue.id, delegation=args.delegation)
    finally:
        db.dispose()
    if not items:
        raise CongressError("no delegates to print badges for", hint="import the roster first")
    pdf = sheet_pdf(items, venue_name=cfg.venue.name or cfg.venue.id, gettext=lambda text: text)
    with open(args.out, "wb") as f:
        f.write(pdf)
    pages = -(-len(items) // 10)
    emit({"badges": len(items), "pages": pages, "file": args.out}, as_json=args.json,
         human=f"{len(items)} badges on {pages} A4 pages written to {args.out}; print at 100 % and cut")
    return 0


def attendance_cmd(args: argparse.Namespace) -> int:
    from controller.app import open_configured
    from controller.checkins.attendance import QuorumPolicy, quorum, roll_call

    cfg, db = open_configured(args.config)
    try:
        with db.session() as s:
            q = quorum(s, QuorumPolicy.parse(cfg.attendance.quorum))
            groups = roll_call(s)
    finally:
        db.dispose()
    human = [f"quorum ({q.rule}): {q.present_summoned} of {q.summoned} summoned present, need "
             f"{q.required}: {'REACHED' if q.reached else 'not reached'}"]
    human += [f"  {g['delegation'] or '(none)':<20} {g['present']}/{len(g['members'])}" for g in groups]
    emit({"quorum": q.as_dict(), "roll_call": groups}, as_json=args.json, human="\n".join(human))
    return 0


def purge_cmd(args: argparse.Namespace) -> int:
    from controller.delegates.enrollment import purge_biometrics

    if not args.yes and sys.stdin.isatty():
        answer = input("This deletes every face template and photo for good. Type PURGE to go on: ")
        if answer.strip() != "PURGE":
            raise CongressError("purge-biometrics cancelled; nothing was deleted")
    from controller.app import open_configured

    cfg, db = open_configured(args.config)
    try:
        result = purge_biometrics(db, cfg.data_dir, actor=args.actor)
        result["units_cleared"] = _publish_empty_gallery(cfg, db)
    finally:
        db.dispose()
    must = result["operator_must_delete"]
    if result["units_cleared"] is None:
        must.insert(0, "the galleries on the door units and retained on the broker: start the controller, "
                       "which sends every unit an empty gallery")
    else:
        result["destroyed"].append(f"the retained galleries of {len(result['units_cleared'])} units "
                                   "(replaced by an empty one; the broker rewrites its persistence file "
                                   "at its next autosave)")
        must.append("nothing for connected door units; a unit offline now keeps its gallery (and the broker "
                    "its queued copy) until it connects")
    human = "\n".join(["destroyed:", *(f"  - {d}" for d in result["destroyed"]),
                       "you must still delete:", *(f"  - {m}" for m in result["operator_must_delete"])])
    emit(result, as_json=args.json, human=human)
    return 0


def _publish_empty_gallery(cfg, db) -> list[str] | None:
    from congress import mqtt
    from congress.errors import BrokerError
    from controller.checkins.unit_registry import UnitRegistry
    from controller.delegates.gallery import build_gallery_publisher, mqtt_publisher

    try:
        client = mqtt.make_client_from_config(cfg.broker, client_id="controller-purge")
        mqtt.connect(client, cfg.broker.host, cfg.broker.port, timeout=5)
    except BrokerError as exc:
        print(f"congress: note: {exc}", file=sys.stderr)
        return None
    try:
        publisher = build_gallery_publisher(cfg, db, mqtt_publisher(client), UnitRegistry(cfg.ca_dir))
        return sorted(publisher.run_once())
    finally:
        client.disconnect()
        client.loop_stop()


def register(actions: argparse._SubParsersAction) -> None:
    d = actions.add_parser("delegates", help="the delegate roster")
    da = d.add_subparsers(dest="delegates_command", metavar="ACTION", required=True)
    i = da.add_parser("import", help="import a roster CSV and enroll the photos of consenting delegates")
    i.add_argument("file", help="CSV: id,name,delegation,seat,photo,consent[,summoned]")
    script_options(i, actor=False)
    i.set_defaults(handler=import_cmd)
    re_ = da.add_parser("reenroll", help="embed the kept photos again after [faces] model changed")
    script_options(re_, actor=False)
    re_.set_defaults(handler=reenroll_cmd)
    ls = da.add_parser("list", help="list delegates with their enrollment")
    script_options(ls, actor=False)
    ls.set_defaults(handler=list_cmd)

    sm = da.add_parser("summoned", help="whether a delegate is summoned (counts for the quorum)")
    sm.add_argument("id", help="delegate id")
    sm.add_argument("value", choices=("yes", "no"))
    sm.add_argument("--actor", default="cli", help="name recorded in the audit trail")
    script_options(sm, actor=False)
    sm.set_defaults(handler=summoned_cmd)

    b = actions.add_parser("badges", help="write the printable badge sheet (signed QR codes)")
    b.add_argument("--out", required=True, help="HTML file to write")
    b.add_argument("--delegation", help="only this delegation")
    script_options(b, actor=False)
    b.set_defaults(handler=badges_cmd)

    a = actions.add_parser("attendance", help="quorum and roll call now")
    script_options(a, actor=False)
    a.set_defaults(handler=attendance_cmd)

    p = actions.add_parser("purge-biometrics", help="delete all face data at the end of the congress")
    p.add_argument("--yes", action="store_true", help="do not ask at the terminal (this cannot be undone)")
    p.add_argument("--actor", default="cli", help="name recorded in the audit trail")
    script_options(p, actor=False)
    p.set_defaults(handler=purge_cmd)

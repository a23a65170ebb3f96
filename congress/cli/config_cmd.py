"""``congress config check FILE``: validate a door-unit or controller configuration."""

from __future__ import annotations

import argparse
import importlib

from congress.cli import emit
from congress.config import load_config, read_toml
from congress.errors import ConfigError

#: program name -> (module, class); the program is recognised by its identifying table.
PROGRAMS = {
    "edge": ("congress.config.edge", "EdgeConfig", "unit"),
    "controller": ("congress.config.controller", "ControllerConfig", "database"),
    "gateway": ("congress.config.gateway", "GatewayConfig", "site"),
}
HEADINGS = {"edge": "Door unit", "controller": "Controller", "gateway": "Site gateway"}


def detect_program(data: dict, path: str) -> str:
    for name, (_, _, table) in PROGRAMS.items():
        if table in data:
            return name
    raise ConfigError(
        f"{path}: cannot tell whether this is a door-unit, controller or site gateway configuration",
        hint="a door unit has a [unit] table, a controller a [database] table, a site gateway a [site] "
        "table; or pass --program",
    )


def check(args: argparse.Namespace) -> int:
    program = args.program or detect_program(read_toml(args.file), args.file)
    module, cls, _ = PROGRAMS[program]
    cfg = load_config(args.file, getattr(importlib.import_module(module), cls))
    emit(
        {"ok": True, "program": program, "file": args.file},
        as_json=args.json,
        human=f"{args.file}: valid {program} configuration",
    )
    del cfg
    return 0


def reference(args: argparse.Namespace) -> int:
    from congress.config.reference import render_reference

    programs = {}
    for name, (module, cls, _) in PROGRAMS.items():
        model = getattr(importlib.import_module(module), cls)
        programs[name] = (HEADINGS[name], model)
    text = render_reference(programs)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text, end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="check configuration files")
    s = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = s.add_parser("check", help="validate a configuration file and report every problem by key")
    c.add_argument("file", help="TOML configuration file")
    c.add_argument("--program", choices=sorted(PROGRAMS), help="which program the file is for")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(handler=check)
    r = s.add_parser("reference", help="print the Markdown reference of every configuration key")
    r.add_argument("-o", "--output", help="write to this file instead of standard output")
    r.set_defaults(handler=reference)

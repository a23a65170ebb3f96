"""The controller's ``congress`` command groups: ``controller``, ``audit``, ``bench``, ``keypads``."""

from __future__ import annotations

import argparse


def script_options(p: argparse.ArgumentParser, *, actor: bool = True) -> None:
    """The options every scripting action takes: ``--config``, ``--json`` and (for actions that change
    something) ``--actor``, the name the audit trail records."""
    p.add_argument("--config", required=True, help="controller TOML configuration")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    if actor:
        p.add_argument("--actor", default="cli", help="name recorded in the audit trail")

"""``congress audit verify --config FILE [--json]``: check the controller's audit hash chain.

Exit code 0 when every row checks out, 3 when the chain is broken (the first broken row is named).
"""

from __future__ import annotations

import argparse

from congress.cli import emit

BROKEN = 3


def verify_cmd(args: argparse.Namespace) -> int:
    from controller import audit
    from controller.app import open_configured

    _, db = open_configured(args.config)
    try:
        with db.session() as s:
            result = audit.verify(s)
    finally:
        db.dispose()
    human = (
        f"audit chain intact: {result.rows} rows"
        if result.ok
        else f"audit chain BROKEN at row {result.first_bad_seq}: {result.reason} ({result.rows} rows good)"
    )
    emit(result.as_dict(), as_json=args.json, human=human)
    return 0 if result.ok else BROKEN


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="check the controller's tamper-evident audit trail")
    s = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = s.add_parser("verify", help="verify the hash chain and report the first broken row")
    v.add_argument("--config", required=True, help="controller TOML configuration")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(handler=verify_cmd)

"""``congress audit verify --config FILE [--expect SEQ:FINGERPRINT] [--json]``: check the audit chain.

Exit code 0 when every row checks out, 3 when the chain is broken (the first broken row is named): an
altered, missing or inserted row, a rewound head, or a chain shorter than the anchor file in the data
directory or than a fingerprint printed earlier (``--expect``, e.g. from a ballot's minutes); when
``--expect`` is not a fingerprint: 1.
"""

from __future__ import annotations

import argparse

from congress.cli import emit
from congress.errors import CongressError

BROKEN = 3


def verify_cmd(args: argparse.Namespace) -> int:
    from controller import audit
    from controller.app import open_configured

    if args.expect:
        try:
            audit.chain.parse_fingerprint(args.expect)
        except ValueError as exc:
            raise CongressError(str(exc), hint="copy it as printed: 1234:ABCD-EF01-2345-6789") from None
    _, db = open_configured(args.config)
    try:
        with db.session() as s:
            result = audit.verify(s, expect=args.expect)
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
    v.add_argument("--expect", metavar="SEQ:FINGERPRINT",
                   help="also require this earlier head (as printed on minutes) to be in the chain")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(handler=verify_cmd)

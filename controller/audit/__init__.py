"""The audit area: the append-only, hash-chained trail of security-relevant actions.

The chain itself is :mod:`controller.audit.chain`; its functions are re-exported here because every
area records into it (``from controller import audit``; ``audit.record(session, actor, action, detail)``).
"""

from controller.audit.chain import (
    GENESIS,
    INFO_KEY,
    KEY_FILE,
    MAX_DETAIL_CHARS,
    VerifyResult,
    drop_append_only_guard,
    load_key,
    recent,
    record,
    verify,
)

__all__ = ["GENESIS", "INFO_KEY", "KEY_FILE", "MAX_DETAIL_CHARS", "VerifyResult", "drop_append_only_guard",
           "load_key", "recent", "record", "verify"]

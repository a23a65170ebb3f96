"""The audit area: the append-only, hash-chained trail of security-relevant actions.

The chain itself is :mod:`controller.audit.chain`; its functions are re-exported here because every
area records into it (``from controller import audit``; ``audit.record(session, actor, action, detail)``).
``audit.head(session)`` and ``audit.fingerprint(session)`` give the chain's newest position, to print
on minutes and the projector at each ballot close (``congress audit verify --expect SEQ:FINGERPRINT``
checks it later).
"""

from controller.audit.chain import (
    GENESIS,
    INFO_KEY,
    KEY_FILE,
    MAX_DETAIL_CHARS,
    Head,
    VerifyResult,
    drop_append_only_guard,
    fingerprint,
    head,
    load_key,
    recent,
    record,
    session_info,
    verify,
)

__all__ = ["GENESIS", "INFO_KEY", "KEY_FILE", "MAX_DETAIL_CHARS", "Head", "VerifyResult",
           "drop_append_only_guard", "fingerprint", "head", "load_key", "recent", "record", "session_info",
           "verify"]

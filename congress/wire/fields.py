"""Field readers for message bodies: each checks type and range and names the field when it refuses.

Every refusal is ``ProtocolError('malformed', "field 'x' ...")``; integers are kept within +-(2**53-1)
so any JSON implementation reads them exactly, and fractions travel as integers in 1/10,000.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from congress.errors import ProtocolError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
MAX_INT = 2**53 - 1  # exact in every JSON implementation
#: Characters of a sender's own value a refusal may quote (escaped, then cut with a marker).
EXCERPT_CHARS = 40


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped quotation of a value a sender chose, for refusal reasons and logs.

    ``ascii(repr)`` escapes control characters and non-ASCII, so nothing a sender writes can start a
    new log line or smuggle markup; beyond ``limit`` characters it is cut with a marker saying how much
    was left out. Only the first ``limit * 4`` characters are ever looked at: an 8 MB string costs as
    much as a short one.
    """
    if isinstance(value, str | bytes | bytearray):
        total = len(value)
        text = ascii(value[: limit * 4] if isinstance(value, str) else bytes(value[: limit * 4]))
    elif isinstance(value, int) and value.bit_length() > 64:
        return f"<an integer of {value.bit_length()} bits>"
    elif isinstance(value, bool | int | type(None)):
        total, text = 0, ascii(value)
    else:
        return f"<{type(value).__name__}>"
    if len(text) > limit or total > limit * 4:
        return f"{text[:limit]}\u2026 [cut, {total} characters in all]"
    return text


def _bad(key: str, why: str) -> ProtocolError:
    return ProtocolError("malformed", f"field {key!r} {why}")


def get_str(d: dict, key: str, *, max_len: int = 128, optional: bool = False, pattern=None) -> str | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise _bad(key, "must be a string")
    if len(v) > max_len:
        raise _bad(key, f"is longer than {max_len} characters")
    if pattern is not None and not pattern.match(v):
        raise _bad(key, "has characters that are not allowed")
    return v


def get_int(d: dict, key: str, *, lo: int = 0, hi: int = MAX_INT, optional: bool = False) -> int | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise _bad(key, "must be an integer")
    if not lo <= v <= hi:
        raise _bad(key, f"must be between {lo} and {hi}")
    return v


def get_bool(d: dict, key: str) -> bool:
    v = d.get(key)
    if not isinstance(v, bool):
        raise _bad(key, "must be true or false")
    return v


def get_enum(d: dict, key: str, enum: type[StrEnum]):
    v = d.get(key)
    try:
        return enum(v)
    except ValueError:
        raise _bad(key, f"must be one of {', '.join(e.value for e in enum)}") from None


def get_list(d: dict, key: str, max_items: int) -> list:
    v = d.get(key)
    if not isinstance(v, list):
        raise _bad(key, "must be a list")
    if len(v) > max_items:
        raise _bad(key, f"has more than {max_items} items")
    return v


def e4(x: float | None) -> int | None:
    return None if x is None else round(x * 10_000)


def un_e4(d: dict, key: str) -> float | None:
    v = get_int(d, key, lo=-10_000_000, hi=10_000_000, optional=True)
    return None if v is None else v / 10_000

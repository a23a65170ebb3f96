"""Write a configuration mapping back as TOML (the standard library only reads TOML).

Covers what a configuration holds: tables, strings, booleans, integers, floats and arrays of those.
``None`` values are left out (the key then takes its default). The caller re-parses the text with
:mod:`tomllib` and compares, so a value this writer cannot express is caught, not silently changed.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import PurePath

from congress.errors import FlashError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE_KEY.match(k) else json.dumps(k)


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise FlashError(f"cannot write the number {v!r} to a configuration file")
        return repr(v)
    if isinstance(v, PurePath):
        return json.dumps(str(v))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise FlashError(f"cannot write a value of type {type(v).__name__} to a configuration file")


def dumps(data: dict, _prefix: str = "") -> str:
    """TOML text for ``data``: scalars first, then one ``[table]`` per nested mapping."""
    lines: list[str] = []
    tables: list[tuple[str, dict]] = []
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    out = "\n".join(lines)
    for k, sub in tables:
        name = f"{_prefix}{_key(k)}"
        body = dumps(sub, name + ".")
        out += ("\n\n" if out else "") + f"[{name}]" + ("\n" + body if body else "")
    return out.strip("\n") + "\n" if not _prefix else out

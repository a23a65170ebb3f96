"""Numbers from a request: parsed, range-checked, and refused with a 400 that says what was wrong.

Every number a view reads from the address, a form or a JSON body goes through :func:`int_param` or
:func:`float_param`, so ``before=99999999999999999999999``, ``minutes=nan``, ``inf``, ``1e400`` or
``²`` (a Unicode digit that ``str.isdigit`` accepts and ``int`` refuses) never reach the database or
arithmetic as an out-of-range value and never become a 500. Path ids are bounded the same way by the
app's ``int`` URL converter (:class:`BoundedInt`): an id beyond 32 bits is a 404, as an unknown id is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from flask import abort, make_response, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

#: Largest id a path may carry: the tables' integer keys are 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1
#: ASCII digits only (``str.isdigit`` also accepts ``²``), at most 20: longer is refused unparsed.
_INTEGER = re.compile(r"-?[0-9]{1,20}")


class BoundedInt(IntegerConverter):
    """``<int:...>`` limited to 0..:data:`MAX_ID` (a larger number does not match: 404)."""

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _refuse(name: str, lo: float, hi: float):
    from controller.web.guard import error_page

    text = _("%(name)s must be a number from %(low)s to %(high)s", name=name, low=lo, high=hi)
    abort(make_response(error_page(400, text)))


def _source(source: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return request.values if source is None else source


def int_param(name: str, *, lo: int, hi: int, default: int | None = None,
              source: Mapping[str, Any] | None = None) -> int | None:
    """The integer ``name`` of ``source`` (default: query and form), ``default`` when absent or empty;
    anything else that is not a whole number from ``lo`` to ``hi`` answers 400."""
    raw = _source(source).get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        _refuse(name, lo, hi)
    text = str(raw).strip()
    if not _INTEGER.fullmatch(text):
        _refuse(name, lo, hi)
    value = int(text)
    if not lo <= value <= hi:
        _refuse(name, lo, hi)
    return value


def float_param(name: str, *, lo: float, hi: float, default: float | None = None,
                source: Mapping[str, Any] | None = None) -> float | None:
    """The finite number ``name`` from ``lo`` to ``hi`` (NaN, infinities, overflow answer 400)."""
    raw = _source(source).get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)) or len(str(raw)) > 32:
        _refuse(name, lo, hi)
    try:
        value = float(str(raw).strip()) if not isinstance(raw, (int, float)) else float(raw)
    except (ValueError, OverflowError):
        _refuse(name, lo, hi)
    if not math.isfinite(value) or not lo <= value <= hi:
        _refuse(name, lo, hi)
    return value

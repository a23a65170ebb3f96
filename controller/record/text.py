"""How the record's writers speak: the language's gettext, the venue's time zone and number format.

The writers take a :class:`Speech` rather than reaching for a request, so the page (inside a
request), the command line and the demo (in ``flask_babel.force_locale``) all print the same PDF;
the page builds one from the current request (``controller.web.voting.record.speech``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from congress.i18n import Message


@dataclass(frozen=True)
class Speech:
    gettext: Callable[[str], str]
    plural_fn: Callable[[str, str, int], str]
    when: Callable[[Any], str]  # a datetime or ISO string in the venue's zone, the language's pattern
    number: Callable[[Any], str]
    zone: str  # "Asia/Ho_Chi_Minh (UTC+07:00)"
    lang: str

    def _(self, text: str, **params: Any) -> str:
        """``text`` translated, parameters filled in (named ``_`` so that the extractor finds the strings)."""
        out = self.gettext(text)
        return out % params if params else out

    def ngettext(self, singular: str, plural: str, num: int, **params: Any) -> str:
        """The plural form for ``num`` (``%(num)d`` in the text), parameters filled in."""
        return self.plural_fn(singular, plural, num) % {"num": num, **params}

    def t(self, value: Message | str | None) -> str:
        """A Message or a marked constant in this language."""
        if isinstance(value, Message):
            return value.translate(self.gettext, self.plural_fn)
        return self.gettext(value) if value else ""

    def percent(self, part: int, whole: int) -> str:
        return f"{self.number(round(100 * part / whole, 2))} %" if whole else "—"


def utc(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))

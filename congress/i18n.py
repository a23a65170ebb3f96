"""Translatable messages for code that runs outside a web request (the library, domain modules).

The controller page translates with Flask-Babel (``_()`` in templates and views). Code that does not
know about Flask (an importer, a validator, a PDF writer called from a command) marks its strings so
the extractor finds them, and lets the caller translate at display time:

- :func:`N_` marks a constant (``N_("badge only")``): returns it unchanged; the page later calls
  ``_(text)`` on it.
- :func:`M_` builds a :class:`Message`, a msgid with named parameters
  (``M_("row %(row)d: the name is empty", row=7)``). ``str(message)`` is the English text (the command
  line stays English); ``message.translate(gettext, ngettext)`` is the text in the page's language; the
  ``t`` filter in templates does that (``{{ problem|t }}``).
- :func:`P_` is :func:`M_` with a plural (``P_("%(num)d row refused", "%(num)d rows refused", n)``); the
  count is the parameter ``num``.

Parameters are substituted after translation, so a translator may move them; names, not positions. A
parameter that is itself a :class:`Message` is translated too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


def N_(text: str) -> str:
    """Mark ``text`` for extraction without translating it now."""
    return text


@dataclass(frozen=True)
class Message:
    """A message to translate later: msgid, optional plural and count, named parameters."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None

    def translate(self, gettext: Gettext, ngettext: Ngettext | None = None) -> str:
        """The message in the language of ``gettext``/``ngettext``, parameters filled in."""
        if self.plural is not None and self.count is not None:
            if ngettext is None:
                text = self.msgid if self.count == 1 else self.plural
            else:
                text = ngettext(self.msgid, self.plural, self.count)
        else:
            text = gettext(self.msgid)
        params = {"num": self.count, **self.params} if self.count is not None else dict(self.params)
        params = {k: v.translate(gettext, ngettext) if isinstance(v, Message) else v
                  for k, v in params.items()}
        return text % params if params else text

    def __str__(self) -> str:
        return self.translate(lambda s: s)


def M_(msgid: str, **params: Any) -> Message:
    """A message with named parameters, translated when shown."""
    return Message(msgid, params)


def P_(singular: str, plural: str, count: int, **params: Any) -> Message:
    """A message with a plural form chosen by ``count`` (available to the text as ``%(num)d``)."""
    return Message(singular, params, plural, count)

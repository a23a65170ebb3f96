"""Translations for the synthesis: strings marked with the project's ``N_``/``M_`` (:mod:`congress.i18n`).

Records keep a message id (English) and its parameters; whoever shows them translates: the pages with
Flask-Babel, a command or a job with :func:`gettext_for`, which reads the project's compiled catalogues
(``controller/web/translations``, built by ``make setup``) with the standard library.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from congress.i18n import Gettext, Message

TRANSLATIONS = Path(__file__).resolve().parents[1] / "web" / "translations"


def gettext_for(language: str) -> Gettext:
    """The project catalogue's ``gettext`` for ``language`` (``vi``, ``en``); identity if not compiled."""
    return _gettext.translation("messages", TRANSLATIONS, languages=[language], fallback=True).gettext


def render(msgid: str, params: Mapping[str, Any] | None = None, gettext: Gettext | None = None) -> str:
    """``msgid`` translated by ``gettext`` (English if None), parameters filled in after translation."""
    return Message(msgid, dict(params or {})).translate(gettext or (lambda m: m))

"""Languages, the venue's time zone and local formats for the controller page (Flask-Babel).

Catalogues: ``controller/web/translations/<lang>/LC_MESSAGES/messages.po`` (Vietnamese and English),
compiled to ``.mo`` by ``make setup``; ``make i18n-update`` extracts the marked strings of Python,
templates and scripts into them (see ``docs/translations.md``).

Which language a request gets, first match wins:

1. ``?lang=vi`` on the URL: that request only (a projector's bookmarked address);
2. the device's choice, the ``congress_lang`` cookie set by the language switch (``POST /language``);
3. the account's choice (``users.language``) when logged in;
4. the venue's ``[venue] language`` (default Vietnamese).

So the hall projector stays Vietnamese while a guest's laptop, or a guest's account, reads English.

Every time is shown in ``[venue] timezone`` (default Asia/Ho_Chi_Minh) with the Jinja filters
``datetime``, ``date``, ``time`` (datetime objects, naive ones being UTC, or ISO strings) and ``number``;
scripts get the language, the zone and their own translated strings from the page
(:func:`js_messages`, read by ``Congress._`` in ``app.js``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import support
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale, get_translations

from congress.i18n import Message
from controller.app import services

log = logging.getLogger(__name__)

LANGUAGES: dict[str, str] = {"vi": "Tiếng Việt", "en": "English"}
LANG_COOKIE = "congress_lang"
WEB_DIR = Path(__file__).resolve().parent
TRANSLATIONS = WEB_DIR / "translations"

#: CLDR patterns per language: tables and tickers (24-hour clock everywhere; Vietnamese day/month/year).
PATTERNS: dict[str, dict[str, str]] = {
    "vi": {
        "datetime": "HH:mm:ss dd/MM/yyyy",
        "datetime_short": "HH:mm dd/MM/yyyy",
        "date": "dd/MM/yyyy",
        "date_long": "'ngày' dd 'tháng' MM 'năm' yyyy",
        "time": "HH:mm:ss",
        "time_short": "HH:mm",
    },
    "en": {
        "datetime": "d MMM yyyy, HH:mm:ss",
        "datetime_short": "d MMM yyyy, HH:mm",
        "date": "d MMM yyyy",
        "date_long": "d MMMM yyyy",
        "time": "HH:mm:ss",
        "time_short": "HH:mm",
    },
}


def language() -> str:
    """The language of the current request (``vi`` or ``en``)."""
    return str(get_locale() or services().config.venue.language)


def venue_zone() -> ZoneInfo:
    return ZoneInfo(services().config.venue.timezone)


def choose_language(asked: str | None, device: str | None, account: str | None, venue: str) -> str:
    """The order above, without Flask (the tablet front answers some requests itself)."""
    for choice in (asked, device, account):
        if choice in LANGUAGES:
            return choice
    return venue


@functools.cache
def catalogue(lang: str) -> support.Translations:
    """The compiled catalogue of ``lang`` (the one Flask-Babel loads), for code outside a request."""
    return support.Translations.load(str(TRANSLATIONS), [lang])


def _select_locale() -> str:
    user = g.get("user")
    return choose_language(request.args.get("lang"), request.cookies.get(LANG_COOKIE),
                           user.language if user is not None else None, services().config.venue.language)


def _select_timezone() -> str:
    return services().config.venue.timezone


def to_venue_time(value: dt.datetime | str | None) -> dt.datetime | None:
    """``value`` (aware, naive UTC, or an ISO 8601 string) as an aware datetime in the venue's zone."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(venue_zone())


def format_when(value: dt.datetime | str | None, kind: str = "datetime") -> str:
    """``value`` in the venue's zone with the request language's ``kind`` pattern (see PATTERNS)."""
    when = to_venue_time(value)
    if when is None:
        return ""
    lang = language()
    pattern = PATTERNS.get(lang, PATTERNS["en"])[kind]
    return _babel_datetime(when, pattern, tzinfo=when.tzinfo, locale=lang)


def zone_label(at: dt.datetime | None = None) -> str:
    """The venue's zone as people read it: ``Asia/Ho_Chi_Minh (UTC+07:00)``."""
    zone = venue_zone()
    offset = (at or dt.datetime.now(dt.UTC)).astimezone(zone).strftime("%z")
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"


def format_number(value: Any, digits: int | None = None) -> str:
    """A number with the language's separators (Vietnamese: ``5.000``, ``66,7``)."""
    if value is None:
        return ""
    fmt = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=fmt, locale=language())


def translate(value: Any) -> str:
    """A :class:`congress.i18n.Message` or a marked constant in the request's language."""
    t = get_translations()
    if isinstance(value, Message):
        return value.translate(t.gettext, t.ngettext)
    if isinstance(value, str) and value:
        return t.gettext(value)
    return "" if value is None else str(value)


# --- strings of the page's scripts -----------------------------------------------------------------

EXTENSION = "congress_i18n"


@dataclass
class ScriptStrings:
    """The scripts' marked strings (found once when the app is built) and their translations by language."""

    singles: list[str]
    plurals: list[tuple[str, str]]
    by_language: dict[str, dict[str, Any]] = field(default_factory=dict)


def script_msgids(folder: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The ``_("…")`` and ``ngettext("…", "…", n)`` strings of the scripts in ``folder`` (not vendor/)."""
    from babel.messages.extract import extract

    singles: list[str] = []
    plurals: list[tuple[str, str]] = []
    for js in sorted(folder.glob("*.js")):
        with js.open("rb") as fh:
            for _line, msg, _comments, _context in extract(
                "javascript", fh, keywords={"_": None, "ngettext": (1, 2)}, comment_tags=()
            ):
                if isinstance(msg, tuple):
                    plurals.append((msg[0], msg[1]))
                else:
                    singles.append(msg)
    return sorted(set(singles)), sorted(set(plurals))


def js_messages() -> dict[str, Any]:
    """What ``app.js`` needs to speak the page's language: its strings translated, zone and language."""
    lang = language()
    state: ScriptStrings = current_app.extensions[EXTENSION]
    cache = state.by_language
    if lang not in cache:
        singles, plurals = state.singles, state.plurals
        t = get_translations()
        cache[lang] = {
            "lang": lang,
            "tz": services().config.venue.timezone,
            "nplurals": 1 if lang == "vi" else 2,
            "messages": {s: t.gettext(s) for s in singles},
            "plurals": {s: [t.ngettext(s, p, 1), t.ngettext(s, p, 2)] for s, p in plurals},
        }
    return cache[lang]


def lang_href(lang: str) -> str:
    """The current page's address with ``lang`` forced (for a projector's bookmark)."""
    args = request.args.to_dict()
    args["lang"] = lang
    from urllib.parse import urlencode

    return f"{request.path}?{urlencode(args)}"


def available() -> Iterable[tuple[str, str]]:
    return LANGUAGES.items()


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with the selectors above, the filters and the template globals."""
    Babel(app, locale_selector=_select_locale, timezone_selector=_select_timezone,
          default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.extensions[EXTENSION] = ScriptStrings(*script_msgids(WEB_DIR / "static"))
    if not any(TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo")):
        log.error("no compiled catalogue in %s: pages show English only; run `make setup`", TRANSLATIONS)
    app.jinja_env.filters.update(
        datetime=lambda v, kind="datetime": format_when(v, kind),
        date=lambda v, kind="date": format_when(v, kind),
        time=lambda v, kind="time": format_when(v, kind),
        number=format_number,
        t=translate,
    )
    app.jinja_env.globals.update(
        current_lang=language,
        languages=available,
        lang_href=lang_href,
        zone_label=zone_label,
        js_messages=js_messages,
    )

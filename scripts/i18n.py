#!/usr/bin/env python3
"""Message catalogues of the controller page: extract, update, compile, check (``make i18n-*``).

``update``  extracts every marked string of ``controller/`` and ``congress/`` (Python ``_ gettext
            ngettext lazy_gettext N_ M_ P_``, Jinja templates, page scripts' ``_``/``ngettext``) and
            merges it into ``controller/web/translations/<lang>/LC_MESSAGES/messages.po``: sorted by
            msgid, no source locations, no obsolete entries, a fixed header date, so two people's
            changes merge line by line.
``compile`` writes the ``.mo`` next to each ``.po`` that is newer (``make setup`` runs it).
``check``   fails when the sources hold a string the catalogues lack (or the other way round), or
            when the Vietnamese catalogue has an untranslated or fuzzy entry; lists them.

Needs Babel (installed with the controller) and Jinja2; run with the project's ``.venv`` Python.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "controller" / "web" / "translations"
LANGUAGES = ("vi", "en")
COMPLETE = ("vi",)  # catalogues that must translate everything (English is the source language)
SOURCES = ("controller", "congress")
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
    "N_": None, "M_": None, "P_": (1, 2), "pgettext": ((1, "c"), 2),
}
METHODS = [
    ("**/static/vendor/**", "ignore"),
    ("**/migrations/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/static/**.js", "javascript"),
]
OPTIONS = {"**/templates/**.html": {"trimmed": "true", "silent": "false"}}
#: Header date written into every catalogue, so that an update changes only the messages.
FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def extract() -> Catalog:
    """Every marked message of the sources, as a template catalogue."""
    template = Catalog(project="Digital Congress", fuzzy=False, creation_date=FIXED_DATE)
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder, METHODS, options_map=OPTIONS, keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True,
        ):
            template.add(message, None, [(f"{folder}/{filename}", lineno)],
                         auto_comments=comments, context=context)
    return template


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, project="Digital Congress", creation_date=FIXED_DATE, fuzzy=False)
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def save(catalog: Catalog, lang: str) -> None:
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    catalog.fuzzy = False
    catalog.last_translator = catalog.language_team = "Digital Congress"
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=110, no_location=True, sort_output=True, ignore_obsolete=True,
                 include_previous=False)


def update() -> int:
    template = extract()
    for lang in LANGUAGES:
        catalog = load(lang)
        catalog.update(template, no_fuzzy_matching=True)  # a guessed translation is worse than none
        save(catalog, lang)
        print(f"{po_path(lang).relative_to(ROOT)}: {len(catalog)} messages")
    return 0


def compile_all(force: bool = False) -> int:
    for lang in LANGUAGES:
        po, mo = po_path(lang), po_path(lang).with_suffix(".mo")
        if not po.exists() or (not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
            continue
        catalog = load(lang)
        with mo.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
    return 0


def ids(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalog if m.id}


def problems() -> list[str]:
    """What is wrong with the catalogues, one line each (empty when all is well)."""
    out = []
    wanted = ids(extract())
    for lang in LANGUAGES:
        catalog = load(lang)
        have = ids(catalog)
        hint = "(run make i18n-update)"
        out += [f"{lang}: not in the catalogue {hint}: {m!r}" for m, _ in sorted(wanted - have)]
        out += [f"{lang}: no longer in the sources {hint}: {m!r}" for m, _ in sorted(have - wanted)]
        if lang in COMPLETE:
            for m in catalog:
                if not m.id:
                    continue
                shown = m.id if isinstance(m.id, str) else m.id[0]
                strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
                if m.fuzzy:
                    out.append(f"{lang}: fuzzy (check the translation, drop the fuzzy flag): {shown!r}")
                elif not all(strings):
                    out.append(f"{lang}: untranslated: {shown!r}")
    return out


def check() -> int:
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


def main(argv: list[str]) -> int:
    commands = {"update": update, "compile": compile_all, "check": check}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: {Path(__file__).name} {'|'.join(commands)}", file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

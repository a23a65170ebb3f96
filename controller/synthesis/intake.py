"""The intake: every contribution gets a status and a message, and only clean Vietnamese is analysed.

In order: a source marked unreadable by its loader; legacy encodings (TCVN3, VNI) converted, or refused
when the marks are there but no conversion gives Vietnamese (the tables and detection of
:mod:`congress.vietnamese`); empty; larger than ``max_words``; not
Vietnamese; the same text as an earlier contribution (compared on its lower-cased words). A duplicate
is not analysed twice, but its delegate still counts for every theme of the text it repeats (a text
signed by two delegates was raised by both); its quotes point to the first copy.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from congress.i18n import N_

from . import vietnamese
from .records import Contribution, IntakeResult, IntakeStatus
from .sources import PROBLEM

_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Admitted:
    """The intake's output: contributions to analyse, a verdict for every input, duplicates' owners."""

    analysed: tuple[Contribution, ...]
    results: tuple[IntakeResult, ...]
    also_raised_by: dict[str, tuple[str, ...]]  # analysed source_id -> delegates of its duplicates


def fingerprint(text: str) -> str:
    """Identity of a text for duplicate detection: its lower-cased words."""
    words = _WORDS.findall(unicodedata.normalize("NFC", text).lower())
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def admit(contributions: Sequence[Contribution], max_words: int = 20000) -> Admitted:
    """Check every contribution; see the module docstring for the order of the checks."""
    analysed: list[Contribution] = []
    results: list[IntakeResult] = []
    seen: dict[str, str] = {}
    also: dict[str, list[str]] = {}
    for c in contributions:

        def verdict(
            status: IntakeStatus,
            message: str,
            params: dict | None = None,
            words: int = 0,
            dup: str | None = None,
            c: Contribution = c,
        ) -> None:
            results.append(
                IntakeResult(c.source_id, c.delegate_id, status, message, params or {}, words, dup)
            )

        problem = next((n[len(PROBLEM) :] for n in c.notes if n.startswith(PROBLEM)), None)
        if problem:
            verdict(IntakeStatus.UNREADABLE, N_("the file cannot be read: %(reason)s"), {"reason": problem})
            continue
        repaired = vietnamese.repair(c.text)
        if repaired.doubtful:
            verdict(
                IntakeStatus.UNREADABLE,
                N_(
                    "legacy Vietnamese encoding suspected but not recognised: "
                    "save the file as Unicode (UTF-8) and send it again"
                ),
            )
            continue
        if repaired.converted:
            c = replace(
                c,
                text=repaired.text,
                notes=(*c.notes, f"converted from {repaired.encoding.upper()} to Unicode"),
            )
        elif repaired.text != c.text and len(repaired.text) == len(c.text):
            c = replace(c, text=repaired.text)  # NFC of an NFC-length text: offsets unchanged
        words = len(_WORDS.findall(c.text))
        if words == 0:
            verdict(IntakeStatus.EMPTY, N_("no text: nothing to analyse"))
            continue
        if words > max_words:
            verdict(
                IntakeStatus.TOO_LARGE,
                N_(
                    "%(words)d words, more than the %(limit)d allowed for one "
                    "contribution: attach it as a document of the item, or split "
                    "it"
                ),
                {"words": words, "limit": max_words},
                words,
            )
            continue
        check = vietnamese.vietnamese_share(c.text)
        if not check.is_vietnamese:
            verdict(
                IntakeStatus.NOT_VIETNAMESE,
                N_(
                    "not recognised as Vietnamese (%(share)d%% of the words are Vietnamese syllables, "
                    "%(marks)d%% carry Vietnamese marks): not analysed; a translation can be submitted"
                ),
                {"share": round(100 * check.syllable_share), "marks": round(100 * check.diacritic_share)},
                words,
            )
            continue
        key = fingerprint(c.text)
        if key in seen:
            first = seen[key]
            also.setdefault(first, []).append(c.delegate_id)
            verdict(
                IntakeStatus.DUPLICATE,
                N_("same text as %(first)s: counted for this delegate, quoted from %(first)s"),
                {"first": first},
                words,
                first,
            )
            continue
        seen[key] = c.source_id
        analysed.append(c)
        if c.notes:
            verdict(
                IntakeStatus.ANALYSED,
                N_("analysed; the import noted: %(notes)s"),
                {"notes": "; ".join(c.notes)},
                words,
            )
        else:
            verdict(IntakeStatus.ANALYSED, N_("analysed"), None, words)
    return Admitted(tuple(analysed), tuple(results), {k: tuple(v) for k, v in also.items()})

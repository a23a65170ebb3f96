"""Vietnamese text checks for the synthesis: decoding, legacy encodings, whether a text is Vietnamese.

Before Unicode, Vietnamese documents were typed in 8-bit font encodings; text from those files (or
copied out of them into a Unicode form) reads as mojibake: TCVN3 (``Thñ t\xadíng`` for *Thủ tướng*),
VNI (``Thuû töôùng``), or UTF-8 read as Windows-1252 (``Thá»§``). The tables and the detection are the
project's (:mod:`congress.vietnamese`); what this module adds for long free text is the check that a
conversion really gives Vietnamese (:func:`vietnamese_share`, on the shape of Vietnamese syllables),
so a contribution is converted only when the result is clean, and flagged *doubtful* when legacy marks
are there but nothing converts cleanly. Unlike :func:`congress.vietnamese.repair` (made for names), the
text's spacing is kept, so offsets into it stay meaningful.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from congress import vietnamese as shared
from congress.vietnamese import Encoding

# --- syllables ------------------------------------------------------------------------------------
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"(?:[aăâeêioôơuưy]{1,3})"
    r"(?:ch|ng|nh|[cmnpt])?"
)
_WORD = re.compile(r"[^\W\d_]+")
_VIETNAMESE_LETTERS = re.compile(
    r"[ăâđêôơưĂÂĐÊÔƠƯ\u00c0-\u00c3\u00c8-\u00ca\u00cc\u00cd\u00d2-\u00d5\u00d9\u00da"
    r"\u00dd\u00e0-\u00e3\u00e8-\u00ea\u00ec\u00ed\u00f2-\u00f5\u00f9\u00fa\u00fd"
    r"\u0128\u0129\u0168\u0169\u1ea0-\u1ef9]"
)


def is_syllable(word: str) -> bool:
    """Whether ``word`` is shaped like one Vietnamese syllable (onset, vowels, coda, at most one tone)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(decomposed.count(t) for t in _TONE_MARKS)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return _SYLLABLE.fullmatch(bare) is not None


@dataclass(frozen=True)
class LanguageCheck:
    """How Vietnamese a text looks: shares of its words that are syllables and that carry diacritics."""

    words: int
    syllable_share: float
    diacritic_share: float

    @property
    def is_vietnamese(self) -> bool:
        """Enough syllables, and enough of them written with Vietnamese letters or tones."""
        return self.words > 0 and self.syllable_share >= 0.75 and self.diacritic_share >= 0.25


def vietnamese_share(text: str, sample: int = 5000) -> LanguageCheck:
    """Check the first ``sample`` words of ``text``."""
    words = _WORD.findall(unicodedata.normalize("NFC", text))[:sample]
    if not words:
        return LanguageCheck(0, 0.0, 0.0)
    syl = sum(1 for w in words if is_syllable(w))
    dia = sum(1 for w in words if _VIETNAMESE_LETTERS.search(w))
    return LanguageCheck(len(words), syl / len(words), dia / len(words))


@dataclass(frozen=True)
class Repaired:
    """A text after the legacy-encoding check: the text to use, what it was, and whether it is trusted."""

    text: str
    encoding: Encoding
    converted: bool
    doubtful: bool  # legacy marks found but no conversion gave clean Vietnamese


_CONVERT = {
    Encoding.TCVN3: shared.from_tcvn3,
    Encoding.VNI: shared.from_vni,
    Encoding.MOJIBAKE: shared.from_mojibake,
}
_LEGACY_MARKS = re.compile(r"[\u00a1-\u00ff]")


def repair(text: str) -> Repaired:
    """Detect legacy-encoded text and convert it when the result is Vietnamese; else return it (NFC)."""
    text = unicodedata.normalize("NFC", text)
    original = vietnamese_share(text)
    detected = shared.detect(text)
    if original.is_vietnamese and detected is Encoding.UNICODE:
        return Repaired(text, Encoding.UNICODE, converted=False, doubtful=False)
    # the detected encoding first, then the others: keep the first that gives clean Vietnamese
    for encoding in sorted(_CONVERT, key=lambda e: e is not detected):
        candidate = unicodedata.normalize("NFC", _CONVERT[encoding](text))
        if candidate != text and vietnamese_share(candidate).is_vietnamese:
            return Repaired(candidate, encoding, converted=True, doubtful=False)
    legacy_density = len(_LEGACY_MARKS.findall(text)) / max(len(text), 1)
    doubtful = not original.is_vietnamese and (detected is not Encoding.UNICODE or legacy_density > 0.05)
    return Repaired(text, Encoding.UNICODE, converted=False, doubtful=doubtful)


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1258, else Latin-1.

    Returns ``(text, codec)``. Latin-1 never fails, so legacy 8-bit files (TCVN3, VNI) come through as
    Latin-1 characters for :func:`repair` to recognise.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
        if vietnamese_share(text).is_vietnamese:
            return text, "cp1258"
    except UnicodeDecodeError:
        pass
    return data.decode("latin-1"), "latin-1"

"""Vietnamese text checks for the synthesis: decoding, legacy encodings (TCVN3/ABC, VNI), language.

Before Unicode, Vietnamese documents were typed in 8-bit font encodings. Text from those files (or
copied out of them into a Unicode form) reads as mojibake: TCVN3 puts each accented letter on one
Latin-1 code (``Thñ t\\xadíng`` for *Thủ tướng*), VNI writes a base letter followed by a Latin-1
mark (``Vieät Nam`` for *Việt Nam*). :func:`repair` detects both by converting and checking which
version has more valid Vietnamese syllables, and converts only when the gain is clear. The syllable
check (:func:`is_syllable`) also decides whether a text is Vietnamese at all (:func:`vietnamese_share`).

Small and focused on what the synthesis needs; a shared Vietnamese module for the whole project may
replace it later.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# --- TCVN3 (TCVN 5712:1993, the "ABC" fonts): one Latin-1 code per lower-case accented letter ------
# Upper-case letters with a tone live in separate fonts (.VnTimeH) that reuse these codes, so they come
# back lower-case: a known limit of any TCVN3 conversion.
_TCVN3_LETTERS = (
    "àµ á¸ ả¶ ã· ạ¹ ă¨ ằ» ắ¾ ẳ¼ ẵ½ ặÆ â© ầÇ ấÊ ẩÈ ẫÉ ậË đ® èÌ éÐ ẻÎ ẽÏ ẹÑ "
    "êª ềÒ ếÕ ểÓ ễÔ ệÖ ì× íÝ ỉØ ĩÜ ịÞ òß óã ỏá õâ ọä ô« ồå ốè ổæ ỗç ộé "
    "ơ¬ ờê ớí ởë ỡì ợî ùï úó ủñ ũò ụô ư\xad ừõ ứø ửö ữ÷ ựù ỳú ýý ỷû ỹü ỵþ "
    "Ă¡ Â¢ Đ§ Ê£ Ô¤ Ơ¥ Ư¦"
)
TCVN3_TO_UNICODE = {pair[1]: pair[0] for pair in _TCVN3_LETTERS.split(" ")}

# --- VNI Windows: a base letter followed by one Latin-1 mark (tone, or shape and tone together) -----
_VNI_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_SHAPED = {  # mark -> (shape: "circumflex" / "breve", tone)
    "â": ("\u0302", ""),
    "á": ("\u0302", "\u0301"),
    "à": ("\u0302", "\u0300"),
    "å": ("\u0302", "\u0309"),
    "ã": ("\u0302", "\u0303"),
    "ä": ("\u0302", "\u0323"),
    "ê": ("\u0306", ""),
    "é": ("\u0306", "\u0301"),
    "è": ("\u0306", "\u0300"),
    "ú": ("\u0306", "\u0309"),
    "ü": ("\u0306", "\u0303"),
    "ë": ("\u0306", "\u0323"),
}
_VNI_SINGLE = {  # letters VNI writes as one Latin-1 character
    "ô": "ơ",
    "ö": "ư",
    "ñ": "đ",
    "í": "í",
    "ì": "ì",
    "æ": "ỉ",
    "ó": "ĩ",
    "ò": "ị",
    "î": "ỵ",
}


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for lower in (True, False):

        def case(s: str, lower: bool = lower) -> str:
            return s if lower else s.upper()

        for base in "aeiouy":
            for mark, tone in _VNI_TONES.items():
                table[case(base + mark)] = unicodedata.normalize("NFC", case(base) + tone)
        for base in "aeo":
            for mark, (shape, tone) in _VNI_SHAPED.items():
                if (shape == "\u0306") != (base == "a"):
                    continue  # breve only on a; circumflex on a, e, o
                table[case(base + mark)] = unicodedata.normalize("NFC", case(base) + shape + tone)
        for horn_vni, horn in (("ô", "ơ"), ("ö", "ư")):
            for mark, tone in _VNI_TONES.items():
                table[case(horn_vni + mark)] = unicodedata.normalize("NFC", case(horn) + tone)
        for code, letter in _VNI_SINGLE.items():
            table.setdefault(case(code), case(letter))
    return table


VNI_TO_UNICODE = _vni_table()
_VNI_PATTERN = re.compile("|".join(sorted(map(re.escape, VNI_TO_UNICODE), key=len, reverse=True)))

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


class Encoding(StrEnum):
    """The encoding a text was found in."""

    UNICODE = "unicode"
    TCVN3 = "tcvn3"
    VNI = "vni"


@dataclass(frozen=True)
class Repaired:
    """A text after the legacy-encoding check: the text to use, what it was, and whether it is trusted."""

    text: str
    encoding: Encoding
    converted: bool
    doubtful: bool  # legacy marks found but no conversion gave clean Vietnamese


def tcvn3_to_unicode(text: str) -> str:
    """Map each TCVN3 code (read as a Latin-1 character) to its Unicode letter."""
    return "".join(TCVN3_TO_UNICODE.get(c, c) for c in text)


def vni_to_unicode(text: str) -> str:
    """Replace each VNI letter-and-mark pair with its Unicode letter."""
    return _VNI_PATTERN.sub(lambda m: VNI_TO_UNICODE[m.group(0)], text)


_LEGACY_MARKS = re.compile(r"[\u00a1-\u00ff]")


def repair(text: str) -> Repaired:
    """Detect TCVN3 or VNI text and convert it; Unicode Vietnamese is returned unchanged (NFC)."""
    text = unicodedata.normalize("NFC", text)
    if not _LEGACY_MARKS.search(text):
        return Repaired(text, Encoding.UNICODE, converted=False, doubtful=False)
    original = vietnamese_share(text)
    if original.is_vietnamese:  # genuine Unicode Vietnamese also has Latin-1 letters (à, ê, ô)
        return Repaired(text, Encoding.UNICODE, converted=False, doubtful=False)
    best = (original.syllable_share * original.diacritic_share, Encoding.UNICODE, text)
    for encoding, convert in ((Encoding.TCVN3, tcvn3_to_unicode), (Encoding.VNI, vni_to_unicode)):
        candidate = convert(text)
        check = vietnamese_share(candidate)
        if check.is_vietnamese:
            best = max(best, (check.syllable_share * check.diacritic_share, encoding, candidate))
    if best[1] is Encoding.UNICODE:
        legacy_density = len(_LEGACY_MARKS.findall(text)) / max(len(text), 1)
        return Repaired(text, Encoding.UNICODE, converted=False, doubtful=legacy_density > 0.05)
    return Repaired(best[2], best[1], converted=True, doubtful=False)


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

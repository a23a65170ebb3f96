"""Vietnamese text as rosters bring it: Unicode NFC, legacy encodings, search folding, collation.

- :func:`nfc` — every name taken in is stored NFC (one code point per letter: ``ễ``, not
  ``e`` + circumflex + tilde), whitespace collapsed, whatever the keyboard or file produced.
- :func:`detect` / :func:`repair` — text from old office files typed in the legacy 8-bit fonts: TCVN3
  ("ABC", ``.VnTime``: ``NguyÔn`` for Nguyễn), VNI (``VNI-Times``: ``Nguyeãn``), and UTF-8 read as
  Windows-1252 (``Nguyá»…n``). Detection works on a whole file (one name alone is ambiguous: ``ç`` is
  ``ỗ`` in TCVN3 but also French). :func:`repair_all` converts a list of cells when the evidence is
  clear and raises :class:`LegacyEncodingError` (saying what to do) when the file mixes encodings.
- :func:`fold` — accent- and case-insensitive search key: ``fold("Nguyễn Đức") == "nguyen duc"``.
- :func:`sort_key` — Vietnamese collation: letters in the alphabet's order (a ă â b c d đ e ê g h i k
  l m n o ô ơ p q r s t u ư v x y), then tones (none, huyền, hỏi, ngã, sắc, nặng, as dictionaries sort),
  then case; ``given_first=True`` sorts people by given name (the last word), as Vietnamese lists do.

Standard library only; used by the controller's roster import and anyone who handles names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from congress.errors import CongressError
from congress.i18n import M_, Message

# --- normalisation and folding ---------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """``text`` in Unicode NFC with runs of whitespace made one space and the ends stripped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Search key without tones, vowel marks or case: ``"Nguyễn Đức"`` -> ``"nguyen duc"``."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.replace("đ", "d").replace("Đ", "D")).strip().casefold()


# --- collation -------------------------------------------------------------------------------------

_ALPHABET = tuple("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")
_RANK = {letter: i + 1 for i, letter in enumerate(_ALPHABET)}
_MODIFIERS = {"\u0306": "\u0306", "\u0302": "\u0302", "\u031b": "\u031b"}  # breve, circumflex, horn
#: Tone order as Vietnamese dictionaries sort: ngang, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _letters(word: str) -> list[tuple[int, int, int]]:
    """(alphabet rank, tone, case) per letter of ``word``."""
    out = []
    for ch in unicodedata.normalize("NFC", word):
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        upper = base.isupper()
        base = base.lower()
        if ch in "đĐ":
            base, upper = "đ", ch == "Đ"
        letter = base + "".join(m for m in marks if m in _MODIFIERS)
        letter = unicodedata.normalize("NFC", letter)
        tone = max((_TONES.get(m, 0) for m in marks), default=0)
        rank = _RANK.get(letter)
        if rank is None:  # digits, punctuation, other scripts: after the alphabet, by code point
            rank = 100 + ord(unicodedata.normalize("NFC", base)[0])
        out.append((rank, tone, 1 if upper else 0))
    return out


def sort_key(name: str, *, given_first: bool = False) -> tuple:
    """Vietnamese collation key of ``name``; ``given_first`` puts the last word (the given name) first."""
    words = nfc(name).split(" ")
    if given_first and len(words) > 1:
        words = [words[-1], *words[:-1]]
    # Syllable by syllable, each by letters, then tones, then case: "Lê" < "Lê Văn" < "Lệ".
    key = []
    for letters in (_letters(w) for w in words):
        key.append((tuple(r for r, _t, _c in letters), tuple(t for _r, t, _c in letters),
                    tuple(c for _r, _t, c in letters)))
    return tuple(key)


def sorted_names(names: Iterable[str], *, given_first: bool = False) -> list[str]:
    return sorted(names, key=lambda n: sort_key(n, given_first=given_first))


# --- legacy encodings ------------------------------------------------------------------------------

class Encoding(StrEnum):
    UNICODE = "unicode"
    TCVN3 = "tcvn3"
    VNI = "vni"
    MOJIBAKE = "utf8-as-cp1252"


# TCVN3 (TCVN 5712:1993 VN3, the "ABC" fonts): one byte per letter; read as Latin-1.
_TCVN3 = dict(zip(
    "µ¸¶·¹" "¨»¾¼½Æ" "©ÇÊÈÉË" "®ÌÐÎÏÑ" "ªÒÕÓÔÖ" "×ÝØÜÞ" "ßãáâä" "«åèæçé" "¬êíëìî" "ïóñòô" "\xadõøö÷ù"
    "úýûüþ" "¡¢§£¤¥¦",
    "àáảãạ" "ăằắẳẵặ" "âầấẩẫậ" "đèéẻẽẹ" "êềếểễệ" "ìíỉĩị" "òóỏõọ" "ôồốổỗộ" "ơờớởỡợ" "ùúủũụ" "ưừứửữự"
    "ỳýỷỹỵ" "ĂÂĐÊÔƠƯ",
    strict=True,
))
# Latin-1 letters that Unicode Vietnamese uses too; they prove nothing about TCVN3.
_VIET_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_TCVN3_SIGNS = set(_TCVN3) - _VIET_LATIN1

# VNI (VNI-Windows fonts): a base letter followed by mark characters, read as Windows-1252.
_VNI_TONES = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_HAT = {"â": "", "à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}  # â ê ô
_VNI_BREVE = {"ê": "", "è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}  # ă
_VNI_SINGLE = {"í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ", "ñ": "đ"}


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {}

    def put(seq: str, base: str, *marks: str) -> None:
        table[seq] = unicodedata.normalize("NFC", base + "".join(marks))

    for case in (str.lower, str.upper):
        tones = {case(k): v for k, v in _VNI_TONES.items()}
        for vowel in case("aeouy"):
            for key, tone in tones.items():
                put(vowel + key, vowel, tone)
        for base in case("aeo"):
            for key, tone in _VNI_HAT.items():
                put(base + case(key), base, "\u0302", tone)
        for key, tone in _VNI_BREVE.items():
            put(case("a") + case(key), case("a"), "\u0306", tone)
        for horn, base in ((case("ô"), case("o")), (case("ö"), case("u"))):
            put(horn, base, "\u031b")
            for key, tone in tones.items():
                put(horn + key, base, "\u031b", tone)
        for key, value in _VNI_SINGLE.items():
            table[case(key)] = case(value)
    return table


_VNI = _vni_table()
_VNI_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(_VNI, key=len, reverse=True)))
# Two-character VNI sequences that never occur in Unicode Vietnamese (a vowel then a mark character).
_VNI_SIGN = re.compile(
    "[aeouyAEOUY][øùûõïåäëüØÙÛÕÏÅÄËÜ]|[aAoOeE][âÂ]|[aAeE][àáåãäÀÁÅÃÄ]|[oO][åäÅÄ]|[aA][êÊèÈéÉúÚ]"
    "|[ôöÔÖ][øùûõïØÙÛÕÏ]|[öÖ][ôÔ]|[ñÑ]"
)
# UTF-8 continuation bytes as Windows-1252 shows them.
_CONT = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xC0))
_MOJIBAKE = re.compile(f"[ÃÄÅÆ][{re.escape(_CONT)}]|á[º»][{re.escape(_CONT)}]")
_UNICODE_VIET = re.compile("[ăđơưĂĐƠƯĩũĨŨ\u1ea0-\u1ef9]")


def from_tcvn3(text: str) -> str:
    """``text`` typed in a TCVN3 (ABC) font and read as Latin-1, as Unicode NFC."""
    return unicodedata.normalize("NFC", "".join(_TCVN3.get(ch, ch) for ch in text))


def from_vni(text: str) -> str:
    """``text`` typed in a VNI font and read as Latin-1/Windows-1252, as Unicode NFC."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: _VNI[m.group(0)], text))


def from_mojibake(text: str) -> str:
    """UTF-8 bytes that were read as Windows-1252 (``Nguyá»…n``), decoded again."""
    raw = bytearray()
    for ch in text:
        try:
            raw += ch.encode("cp1252")
        except UnicodeEncodeError:  # bytes Windows-1252 leaves undefined came through as themselves
            raw += ch.encode("utf-8") if ord(ch) > 0xFF else bytes([ord(ch)])
    return unicodedata.normalize("NFC", raw.decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class Evidence:
    """Counts of signs of each encoding in some text."""

    unicode: int
    tcvn3: int
    vni: int
    mojibake: int


def evidence(text: str) -> Evidence:
    return Evidence(
        unicode=len(_UNICODE_VIET.findall(unicodedata.normalize("NFC", text))),
        tcvn3=sum(ch in _TCVN3_SIGNS for ch in text),
        vni=len(_VNI_SIGN.findall(text)),
        mojibake=len(_MOJIBAKE.findall(text)),
    )


#: Signs one string needs before it is called legacy on its own (``ç`` in "François" is one).
MIN_SIGNS = 2


def detect(text: str, *, min_signs: int = MIN_SIGNS) -> Encoding:
    """The encoding ``text`` was most likely typed in (:attr:`Encoding.UNICODE` when in doubt)."""
    ev = evidence(text)
    if ev.mojibake and ev.mojibake >= ev.unicode:
        return Encoding.MOJIBAKE
    if ev.unicode:
        return Encoding.UNICODE
    if ev.tcvn3 >= min_signs and ev.tcvn3 > ev.vni:
        return Encoding.TCVN3
    if ev.vni >= min_signs and ev.vni >= ev.tcvn3:
        return Encoding.VNI
    return Encoding.UNICODE


_CONVERT = {
    Encoding.UNICODE: lambda s: unicodedata.normalize("NFC", s),
    Encoding.TCVN3: from_tcvn3,
    Encoding.VNI: from_vni,
    Encoding.MOJIBAKE: from_mojibake,
}

#: What a person should do with a file in a legacy encoding the importer will not guess at.
ADVICE = M_(
    "Open the file in Excel or LibreOffice and convert it to Unicode (for example with UniKey's "
    "converter, \"Công cụ chuyển mã\", from %(encoding)s to Unicode), save it as .xlsx or as CSV UTF-8, "
    "then import it again.",
    encoding="TCVN3/VNI",
)


class LegacyEncodingError(CongressError):
    """Text in a mix of encodings, or an encoding we will not convert silently."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message), hint=str(ADVICE))
        self.text = message


def repair(text: str, encoding: Encoding | None = None) -> str:
    """``text`` converted from ``encoding`` (detected when ``None``) to Unicode NFC, spaces tidied."""
    return nfc(_CONVERT[encoding or detect(text)](text))


def detect_all(cells: Sequence[str]) -> Encoding:
    """The encoding of a whole file's text cells; raises when it mixes Unicode with a legacy encoding."""
    total = Evidence(0, 0, 0, 0)
    legacy_cells = unicode_cells = 0
    for cell in cells:
        ev = evidence(cell)
        total = Evidence(*(a + b for a, b in zip(vars(total).values(), vars(ev).values(), strict=True)))
        kind = detect(cell, min_signs=1)
        if kind is Encoding.UNICODE and ev.unicode:
            unicode_cells += 1
        elif kind in (Encoding.TCVN3, Encoding.VNI):
            legacy_cells += 1
    if total.mojibake and total.mojibake >= total.unicode:
        return Encoding.MOJIBAKE
    if legacy_cells and unicode_cells:
        raise LegacyEncodingError(M_(
            "the file mixes Unicode text (%(unicode)d cells) with text typed in an old Vietnamese font "
            "encoding such as TCVN3 or VNI (%(legacy)d cells)", unicode=unicode_cells, legacy=legacy_cells))
    if total.unicode:
        return Encoding.UNICODE
    if total.tcvn3 >= 3 and total.tcvn3 > total.vni:
        return Encoding.TCVN3
    if total.vni >= 3 and total.vni >= total.tcvn3:
        return Encoding.VNI
    return Encoding.UNICODE


def repair_all(cells: Sequence[str]) -> tuple[Encoding, list[str]]:
    """The encoding of ``cells`` (a file's text) and the cells in Unicode NFC."""
    encoding = detect_all(cells)
    return encoding, [repair(c, encoding) for c in cells]

"""The project's font: Noto Sans (SIL OFL-1.1), full Vietnamese coverage, as TTF files for PDFs.

The files come from the npm package ``@expo-google-fonts/noto-sans`` (pinned in ``assets/``); ``make
setup`` copies them into ``congress/fonts/files/`` (ignored by git, shipped in the wheel), so a door
unit or a controller installed offline has them. The controller page serves the same font from its
static folder.

>>> from congress import fonts
>>> pdf_canvas.registerFont(TTFont("NotoSans", fonts.regular()))   # ReportLab, for example

Every precomposed Vietnamese letter (all tones on a ă â e ê i o ô ơ u ư y, and đ) is in the regular,
semibold and bold weights; decomposed input is composed by the text shaper or by
:func:`congress.vietnamese.nfc` first. The tallest stacked capital (Ẫ) stays below the font's ascent,
so a line height of ``LINE_HEIGHT`` times the size never lets a diacritic touch the line above.
Chinese and Japanese characters (a guest's name) come from Noto Sans SC (:func:`cjk`); :func:`runs`
splits a text between the two so that a writer never draws a glyph box.
"""

from __future__ import annotations

from pathlib import Path

from congress.errors import CongressError

FOLDER = Path(__file__).resolve().parent / "files"
FAMILY = "Noto Sans"
#: Line height (times the font size) that holds Noto Sans' ascent + descent (1.069 + 0.293 em).
LINE_HEIGHT = 1.4

_FILES = {
    "regular": "NotoSans_400Regular.ttf",
    "italic": "NotoSans_400Regular_Italic.ttf",
    "semibold": "NotoSans_600SemiBold.ttf",
    "bold": "NotoSans_700Bold.ttf",
    "cjk": "NotoSansSC_400Regular.ttf",
}
#: Family names of the files, as pages and PDFs register them.
FAMILIES = {"regular": FAMILY, "italic": FAMILY, "semibold": FAMILY, "bold": FAMILY, "cjk": "Noto Sans SC"}


class FontMissing(CongressError):
    """A font file is not installed next to this module."""


def path(style: str = "regular") -> Path:
    """The TTF file of ``style`` (``regular``, ``italic``, ``semibold``, ``bold``)."""
    try:
        name = _FILES[style]
    except KeyError:
        raise ValueError(f"unknown font style {style!r}; one of {', '.join(_FILES)}") from None
    found = FOLDER / name
    if not found.is_file():
        raise FontMissing(
            f"font file {name} is missing from {FOLDER}: run `make setup` (it installs the npm package "
            "@expo-google-fonts/noto-sans in assets/ and copies the fonts into the package)"
        )
    return found


def regular() -> Path:
    """Noto Sans Regular (400)."""
    return path("regular")


def italic() -> Path:
    """Noto Sans Italic (400)."""
    return path("italic")


def semibold() -> Path:
    """Noto Sans SemiBold (600)."""
    return path("semibold")


def bold() -> Path:
    """Noto Sans Bold (700)."""
    return path("bold")


def cjk() -> Path:
    """Noto Sans SC Regular: the fallback for Chinese and Japanese characters (Noto Sans has none)."""
    return path("cjk")


def files() -> dict[str, Path]:
    """Every installed style and its file (for a page that serves them)."""
    return {style: FOLDER / name for style, name in _FILES.items() if (FOLDER / name).is_file()}


def coverage(style: str = "regular") -> frozenset[int]:
    """The code points the ``style`` file has glyphs for (read once per call; cache it)."""
    from fontTools.ttLib import TTFont  # only writers of PDFs need fontTools

    with TTFont(path(style), lazy=True) as font:
        return frozenset(font.getBestCmap())


def runs(text: str, covered: frozenset[int], fallback: frozenset[int]) -> list[tuple[str, str]]:
    """``text`` cut into ``(piece, which)`` runs: ``main`` where ``covered`` has the glyphs, ``fallback``
    where only ``fallback`` has them, ``missing`` where neither does (never drawn as boxes)."""
    out: list[tuple[str, str]] = []
    for ch in text:
        which = ("main" if ord(ch) in covered or ch.isspace() else
                 "fallback" if ord(ch) in fallback else "missing")
        if out and out[-1][1] == which:
            out[-1] = (out[-1][0] + ch, which)
        else:
            out.append((ch, which))
    return out


def license_text() -> str:
    """The font's licence (OFL-1.1), to ship beside any copy of the files."""
    return (FOLDER / "LICENSE_FONT").read_text(encoding="utf-8")

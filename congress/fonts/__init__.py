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
}


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


def license_text() -> str:
    """The font's licence (OFL-1.1), to ship beside any copy of the files."""
    return (FOLDER / "LICENSE_FONT").read_text(encoding="utf-8")

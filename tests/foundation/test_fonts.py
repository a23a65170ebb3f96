"""The shipped font covers Vietnamese: every precomposed letter in every weight the pages and PDFs use,
its ascent and descent hold the tallest stacked diacritics (so ``fonts.LINE_HEIGHT`` never lets a tone
mark touch the line above), and a missing file says how to install it."""

from __future__ import annotations

import unicodedata

import pytest

from congress import fonts

fontTools = pytest.importorskip("fontTools.ttLib")
from fontTools.pens.boundsPen import BoundsPen  # noqa: E402

BASES = "aăâeêioôơuưy"
TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]  # huyền sắc ngã hỏi nặng
LETTERS = sorted(
    {unicodedata.normalize("NFC", b + t) for b in BASES + BASES.upper() for t in TONES}
    | set("bcdđghklmnpqrstvxĐBCDGHKLMNPQRSTVX")
    | set("₫“”–…·")
)
STYLES = ["regular", "italic", "semibold", "bold"]


@pytest.fixture(scope="module", params=STYLES)
def font(request):
    return fontTools.TTFont(fonts.path(request.param))


def test_every_vietnamese_letter_has_a_glyph(font):
    cmap = font.getBestCmap()
    assert len(LETTERS) > 140
    assert [c for c in LETTERS if ord(c) not in cmap] == []
    # Decomposed input (NFD from some keyboards) is composed by the shaper; the marks exist on their own.
    marks = "\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b"
    assert [hex(ord(m)) for m in marks if ord(m) not in cmap] == []


def test_no_cjk_glyphs_claimed_silently(font):
    # Noto Sans has no CJK: names in those scripts must be caught before printing (badges check it).
    assert 0x4E00 not in font.getBestCmap()


def test_stacked_diacritics_stay_inside_the_line(font):
    cmap, glyphs = font.getBestCmap(), font.getGlyphSet()
    upem = font["head"].unitsPerEm
    top = bottom = 0
    for c in LETTERS:
        pen = BoundsPen(glyphs)
        glyphs[cmap[ord(c)]].draw(pen)
        if pen.bounds:
            top, bottom = max(top, pen.bounds[3]), min(bottom, pen.bounds[1])
    ascent, descent = font["hhea"].ascent, font["hhea"].descent
    assert top > 1000 and top <= ascent  # Ẫ, Ẩ, Ễ: two marks above a capital, still under the ascent
    assert bottom >= descent
    assert (ascent - descent) / upem <= fonts.LINE_HEIGHT


def test_missing_file_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "FOLDER", tmp_path)
    with pytest.raises(fonts.FontMissing, match="make setup"):
        fonts.bold()
    with pytest.raises(ValueError, match="unknown font style"):
        fonts.path("condensed")


def test_files_and_licence_are_installed():
    for fn in (fonts.regular, fonts.italic, fonts.semibold, fonts.bold):
        assert fn().stat().st_size > 100_000
    assert "Open Font License" in fonts.license_text()

"""Text drawn as glyph outlines straight into a PDF content stream (no font object needed).

A watermark band is a few dozen characters per delegate. Writing it as filled outlines keeps every
per-delegate addition to a document self-contained (no font to embed or subset per copy), renders the
same in every viewer, and covers Vietnamese fully: names are NFC-normalised, so every accented letter is
one precomposed glyph of the font. Outlines are read with fontTools once per glyph and cached in font
units; :meth:`OutlineFont.draw` only places them.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont


class _PdfPen(BasePen):
    """Collects a glyph's outline as PDF path operators (quadratic curves become cubic ones)."""

    def __init__(self, glyph_set) -> None:
        super().__init__(glyph_set)
        self.ops: list[str] = []

    def _moveTo(self, p):
        self.ops.append(f"{p[0]:g} {p[1]:g} m")

    def _lineTo(self, p):
        self.ops.append(f"{p[0]:g} {p[1]:g} l")

    def _curveToOne(self, p1, p2, p3):
        self.ops.append(f"{p1[0]:.1f} {p1[1]:.1f} {p2[0]:.1f} {p2[1]:.1f} {p3[0]:g} {p3[1]:g} c")

    def _closePath(self):
        self.ops.append("h")


class OutlineFont:
    """One TrueType/OpenType font file, drawn as outlines."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._font = TTFont(str(path), lazy=True)
        self._cmap = self._font.getBestCmap()
        self._glyphs = self._font.getGlyphSet()
        self._hmtx = self._font["hmtx"]
        self.units = self._font["head"].unitsPerEm
        self._fallback = self._cmap.get(ord("?"), ".notdef")

    def _glyph(self, ch: str) -> str:
        return self._cmap.get(ord(ch), self._fallback)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one font object lives as long as the process
    def _outline(self, glyph: str) -> str:
        pen = _PdfPen(self._glyphs)
        self._glyphs[glyph].draw(pen)
        return " ".join(pen.ops)

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` points."""
        text = unicodedata.normalize("NFC", text)
        return sum(self._hmtx[self._glyph(ch)][0] for ch in text) * size / self.units

    def fit(self, text: str, size: float, max_width: float) -> float:
        """The largest size not above ``size`` at which ``text`` fits in ``max_width``."""
        w = self.width(text, size)
        return size if w <= max_width or w == 0 else size * max_width / w

    def draw(self, text: str, x: float, y: float, size: float) -> str:
        """Content-stream operators filling ``text`` with its baseline starting at (x, y)."""
        text = unicodedata.normalize("NFC", text)
        scale = size / self.units
        out = []
        for ch in text:
            glyph = self._glyph(ch)
            outline = self._outline(glyph)
            if outline:
                out.append(f"q {scale:.6f} 0 0 {scale:.6f} {x:.2f} {y:.2f} cm {outline} f Q")
            x += self._hmtx[glyph][0] * scale
        return "\n".join(out)


@functools.lru_cache(maxsize=4)
def load(path: str) -> OutlineFont:
    """One shared :class:`OutlineFont` per font file."""
    return OutlineFont(path)

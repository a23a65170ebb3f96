"""The documents area's fonts: Noto Sans from :mod:`congress.fonts` (full Vietnamese coverage)."""

from __future__ import annotations

from pathlib import Path

from congress import fonts


def sans(bold: bool = False) -> Path:
    """Path of the TTF used on watermark bands and QR sheets."""
    return fonts.bold() if bold else fonts.regular()

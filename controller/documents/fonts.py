"""Where the documents area finds its fonts (Noto Sans, full Vietnamese coverage).

The project's fonts come from the npm package ``@expo-google-fonts/noto-sans``; ``congress.fonts`` is
the shared place that knows where ``make setup`` put them. Until every checkout has it, this module
looks in the same places itself and falls back to Debian's DejaVu Sans (also complete for Vietnamese).
"""

from __future__ import annotations

import functools
from pathlib import Path

from congress.errors import ConfigError

_ROOT = Path(__file__).resolve().parents[2]
_NOTO = {False: "400Regular/NotoSans_400Regular.ttf", True: "700Bold/NotoSans_700Bold.ttf"}
_DEJAVU = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}


def _shared(bold: bool) -> Path | None:
    try:
        from congress import fonts  # type: ignore[attr-defined]
    except ImportError:
        return None
    for name in ("noto_sans", "path", "font_path"):
        fn = getattr(fonts, name, None)
        if callable(fn):
            try:
                found = Path(fn("bold" if bold else "regular"))
            except (TypeError, ValueError, KeyError, OSError, ConfigError):
                continue
            if found.is_file():
                return found
    return None


@functools.cache
def sans(bold: bool = False) -> Path:
    """Path of the sans-serif TTF used on watermarks and QR sheets."""
    found = _shared(bold)
    if found:
        return found
    for base in (_ROOT, *_ROOT.iterdir()):
        candidate = base / "node_modules/@expo-google-fonts/noto-sans" / _NOTO[bold]
        if candidate.is_file():
            return candidate
    for folder in ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype/dejavu"):
        for name in (f"NotoSans-{'Bold' if bold else 'Regular'}.ttf", _DEJAVU[bold]):
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    raise ConfigError(
        "no font with Vietnamese coverage was found for documents",
        hint="run make setup (it installs Noto Sans), or apt-get install fonts-dejavu-core",
    )

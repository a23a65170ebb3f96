"""The wheel carries what an offline venue needs besides the code: the fonts (for pages and PDFs) and
the compiled message catalogues, all made by ``make setup`` and ignored by git."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_fonts_and_catalogues(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("digital_congress-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for style in ("400Regular", "400Regular_Italic", "600SemiBold", "700Bold"):
        assert f"congress/fonts/files/NotoSans_{style}.ttf" in names
    assert "congress/fonts/files/LICENSE_FONT" in names
    assert "congress/fonts/files/NotoSansSC_400Regular.ttf" in names
    assert "controller/web/static/fonts.css" in names
    for lang in ("vi", "en"):
        assert f"controller/web/translations/{lang}/LC_MESSAGES/messages.mo" in names
    assert not any(n.startswith("tests/") for n in names)

"""Fixtures of the door-unit tests: the shared face photos (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces"


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not FACES.is_dir():
        pytest.skip(f"face photos not found at {FACES} (see the README's test data section)")
    return FACES.resolve()

"""Face-engine fixtures: the shared face photos (skip when absent) and engines built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from congress.faces import FaceEngine

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces"


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not FACES.is_dir():
        pytest.skip(f"face photos not found at {FACES} (see the data README)")
    return FACES.resolve()


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    """The door-unit configuration: short-range detector, int8 embedder, mesh alignment."""
    return FaceEngine(threads=2)


@pytest.fixture(scope="session")
def group_engine() -> FaceEngine:
    """The enrollment / group-photo configuration."""
    return FaceEngine(detector="group", threads=2)


@pytest.fixture(scope="session")
def dlib_group_engine() -> FaceEngine:
    """The group-photo configuration with dlib's ResNet, the other embedder."""
    return FaceEngine(detector="group", threads=2, model="dlib-resnet")

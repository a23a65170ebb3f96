"""Fixtures for the ship tests: a venue CA with an issued (and a revoked) unit, a unit configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from .images import UNIT_CONFIG


@pytest.fixture(scope="session")
def issued_ca(tmp_path_factory) -> Path:
    """A venue CA with unit ``door-1`` issued and ``door-9`` issued then revoked."""
    from congress import pki

    ca = tmp_path_factory.mktemp("venue-ca") / "ca"
    pki.init_ca(ca, "congress-2026")
    pki.issue_unit(ca, "door-1")
    pki.issue_unit(ca, "door-9")
    pki.revoke(ca, "door-9")
    return ca


@pytest.fixture
def unit_config(tmp_path) -> Path:
    p = tmp_path / "door-1.toml"
    p.write_text(UNIT_CONFIG)
    return p

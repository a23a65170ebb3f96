"""Configuration of the controller (``congress controller run --config FILE``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from congress.config import Section
from congress.config.common import BrokerSection, VenueSection


class DatabaseSection(Section):
    """Where the controller keeps its data."""

    url: str = Field(
        "sqlite:///congress.db",
        title="Database URL",
        description="SQLAlchemy URL: sqlite:///FILE (default) or postgresql+psycopg://...",
    )


class ControllerConfig(Section):
    """Controller: ``[venue]``, ``[controller]``, ``[database]``, ``[broker]``."""

    venue: VenueSection
    database: DatabaseSection = DatabaseSection()
    broker: BrokerSection
    data_dir: Path = Field(
        Path("/var/lib/congress-controller"),
        title="Data directory",
        description="Controller state: audit key, exports, enrollment photos",
    )

    def resolve_paths(self, base: Path) -> ControllerConfig:
        d = self.data_dir if self.data_dir.is_absolute() else base / self.data_dir
        return self.model_copy(update={"data_dir": d, "broker": self.broker.resolve_paths(base)})

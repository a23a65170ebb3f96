"""Configuration of a door unit (``congress edge run --config FILE``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from congress.config import Section
from congress.config.common import BrokerSection, VenueSection, check_identifier


class UnitSection(Section):
    """Identity of this door unit."""

    id: str = Field(title="Unit id", description="Must equal the CN of the unit's client certificate")
    data_dir: Path = Field(
        Path("/var/lib/congress-edge"),
        title="Data directory",
        description="Outbox, gallery and state; on a Pi systemd's StateDirectory",
    )
    signing_key_file: Path = Field(
        title="Signing key", description="PEM Ed25519 key issued by `congress ca issue-unit`"
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_identifier(v, "unit.id")


class EdgeConfig(Section):
    """Door unit: ``[venue]``, ``[unit]``, ``[broker]``."""

    venue: VenueSection
    unit: UnitSection
    broker: BrokerSection

    def resolve_paths(self, base: Path) -> EdgeConfig:
        unit = self.unit.model_copy(
            update={
                "data_dir": self.unit.data_dir
                if self.unit.data_dir.is_absolute()
                else base / self.unit.data_dir,
                "signing_key_file": self.unit.signing_key_file
                if self.unit.signing_key_file.is_absolute()
                else base / self.unit.signing_key_file,
            }
        )
        return self.model_copy(update={"unit": unit, "broker": self.broker.resolve_paths(base)})

"""Configuration of a satellite site's gateway (``congress edge gateway --config FILE``).

``[venue]``, ``[site]`` (the site id and the gateway's keys, from ``congress ca issue-site``), ``[broker]``
(the site's own broker, which bridges to the central one) and, when the site has a keypad base
station, ``[keypads]``. See docs/multi-site.md.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from congress.config import Section
from congress.config.common import BrokerSection, VenueSection, check_identifier


def _abs(p: Path, base: Path) -> Path:
    return p if p.is_absolute() else base / p


class SiteSection(Section):
    """Identity of this site: its gateway signs what it relays with the site's key."""

    id: str = Field(title="Site id", description="Must equal the CN of the site's certificate")
    data_dir: Path = Field(Path("/var/lib/congress-gateway"), title="Data directory",
                           description="The gateway's outbox of relayed keypad frames")
    signing_key_file: Path = Field(Path("signing.key"), title="Signing key",
                                   description="PEM Ed25519 key issued by `congress ca issue-site`")
    controller_key_file: Path = Field(Path("controller-signing.pub"), title="Controller key",
                                      description="The controller's public signing key")
    heartbeat_s: float = Field(10.0, ge=1, le=3600, title="Heartbeat",
                               description="Seconds between the gateway's status messages")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_identifier(v, "site.id")


class RelaySection(Section):
    """The site's keypad base station, whose frames the gateway relays to the controller."""

    port: str = Field(title="Base-station port", description="Serial device, symlink or pyserial URL")
    baud: int = Field(115200, ge=1200, le=4_000_000, title="Baud rate", description="Line speed, 8N1")
    retry_s: float = Field(1.0, ge=0.05, le=60, title="Reconnect interval",
                           description="Seconds between attempts to reopen the port")
    batch_ms: int = Field(50, ge=0, le=2000, title="Batch window",
                          description="Frames read within this many ms travel in one message")
    capacity: int = Field(100_000, ge=100, title="Outbox capacity",
                          description="Relayed messages kept until the controller acknowledges them")


class GatewayConfig(Section):
    """Site gateway: ``[venue]``, ``[site]``, ``[broker]`` (the site broker) and ``[keypads]`` (optional)."""

    venue: VenueSection
    site: SiteSection
    broker: BrokerSection
    keypads: RelaySection | None = None

    def resolve_paths(self, base: Path) -> GatewayConfig:
        site = self.site.model_copy(update={
            "data_dir": _abs(self.site.data_dir, base),
            "signing_key_file": _abs(self.site.signing_key_file, base),
            "controller_key_file": _abs(self.site.controller_key_file, base)})
        return self.model_copy(update={"site": site, "broker": self.broker.resolve_paths(base)})

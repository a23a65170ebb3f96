"""The controller's ``[keypads]`` table: where the base station is and where the pairing keys are."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from congress.config import Section


class KeypadsSection(Section):
    """Keypad base station; without this table the controller runs no keypad reader."""

    port: str = Field(
        title="Base-station port",
        description="Serial device, symlink or pyserial URL, e.g. /dev/ttyUSB0 or /dev/congress-base; "
        "empty when only satellite sites have base stations (their gateways relay the frames)",
    )
    baud: int = Field(115200, ge=1200, le=4_000_000, title="Baud rate", description="Line speed, 8N1")
    keys_file: Path = Field(
        title="Keypad key file",
        description="The 0600 file written by 'congress keypads pair'",
    )
    retry_s: float = Field(
        1.0, ge=0.05, le=60, title="Reconnect interval",
        description="Seconds between attempts to reopen the port",
    )

    def resolve_paths(self, base: Path) -> KeypadsSection:
        p = self.keys_file
        return self.model_copy(update={"keys_file": p if p.is_absolute() else base / p})

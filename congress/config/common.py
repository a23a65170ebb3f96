"""Configuration tables both programs use."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from congress.config import Section

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"


class BrokerSection(Section):
    """How to reach the venue's Mosquitto broker over TLS with this program's client certificate."""

    host: str = Field("localhost", title="Broker host", description="Host name or address of the broker")
    port: int = Field(8883, ge=1, le=65535, title="Broker port", description="MQTT over TLS port")
    ca_file: Path = Field(title="Venue CA", description="PEM file of the venue CA that signed the broker")
    cert_file: Path = Field(title="Client certificate", description="PEM client certificate of this program")
    key_file: Path = Field(title="Client key", description="PEM private key of the client certificate")
    keepalive_s: int = Field(15, ge=5, le=600, title="Keep-alive", description="MQTT keep-alive in seconds")

    def resolve_paths(self, base: Path) -> BrokerSection:
        def fix(p: Path) -> Path:
            return p if p.is_absolute() else (base / p)

        return self.model_copy(
            update={
                "ca_file": fix(self.ca_file),
                "cert_file": fix(self.cert_file),
                "key_file": fix(self.key_file),
            }
        )


def check_identifier(value: str, what: str) -> str:
    import re

    if not re.fullmatch(_ID_PATTERN, value):
        raise ValueError(f"{what} must be 1-63 letters, digits, '-' or '_' and start with a letter or digit")
    return value


class VenueSection(Section):
    """The venue this program belongs to; its id is the first level of every MQTT topic."""

    id: str = Field(title="Venue id", description="Short id, e.g. 'congress-2026'; used in MQTT topics")
    name: str = Field("", title="Venue name", description="Shown on the controller page")
    language: Literal["vi", "en"] = Field(
        "vi", title="Language",
        description="Language of pages, projector and PDFs until a person or device picks one",
    )
    timezone: str = Field(
        "Asia/Ho_Chi_Minh", title="Time zone",
        description="IANA time zone of the venue; every time shown on pages, PDFs and exports is in it",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_identifier(v, "venue.id")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"venue.timezone {v!r} is not a known IANA time zone (e.g. 'Asia/Ho_Chi_Minh'); "
                "install the Debian package tzdata if the name is right"
            ) from None
        return v

"""Configuration of the controller (``congress controller run --config FILE``).

Tables: ``[venue]``, ``[database]``, ``[broker]``, ``[web]`` (address, TLS, server threads),
``[security]`` (cookies, session lifetime, login rate limits), ``[devices]`` (door-unit alarms),
``[attendance]`` (quorum rule), ``[documents]`` (upload limits, portal address), ``[portal]`` (the
tablet front: the delegates' port, served by an event loop). Secrets (audit key,
TLS key passphrase) never live here: see :func:`congress.config.read_secret`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from congress.config import Section
from congress.config.common import BrokerSection, VenueSection
from congress.keypads.config import KeypadsSection


class DatabaseSection(Section):
    """Where the controller keeps its data."""

    url: str = Field(
        "sqlite:///congress.db",
        title="Database URL",
        description="SQLAlchemy URL: sqlite:///FILE (default) or postgresql+psycopg://...",
    )


class WebSection(Section):
    """The controller page's HTTP(S) server (cheroot, a thread per request or live stream)."""

    host: str = Field("127.0.0.1", title="Listen address", description="0.0.0.0 to serve the whole LAN")
    port: int = Field(8443, ge=1, le=65535, title="Port", description="TCP port of the page")
    tls_cert: Path | None = Field(
        None,
        title="TLS certificate",
        description="PEM certificate (chain); without it the page is plain HTTP",
    )
    tls_key: Path | None = Field(None, title="TLS key", description="PEM private key of tls_cert")
    threads: int = Field(
        64,
        ge=8,
        le=1024,
        title="Server threads",
        description="Requests served at once; each live page holds one",
    )
    backlog: int = Field(
        2048,
        ge=16,
        le=65535,
        title="Connection backlog",
        description="Connections the kernel queues before the server accepts them (all tablets at once)",
    )
    header_timeout_s: float = Field(
        10.0,
        ge=1,
        le=120,
        title="Request head deadline",
        description="Seconds from a request's first byte to the end of its headers (not reset by each byte)",
    )
    handshake_timeout_s: float = Field(
        5.0, ge=1, le=60, title="TLS handshake deadline", description="Seconds to complete the TLS handshake"
    )
    max_pending_per_address: int = Field(
        64,
        ge=4,
        le=10000,
        title="Incomplete requests per address",
        description="Connections of one client address still handshaking or sending their request; "
        "at the cap its oldest is closed",
    )
    max_pending: int = Field(
        4096,
        ge=16,
        le=60000,
        title="Incomplete requests in all",
        description="Connections still handshaking or sending their request; at the cap the oldest is closed "
        "(the server raises its open-file limit to fit)",
    )
    max_live_clients: int = Field(
        48,
        ge=1,
        le=1000,
        title="Live clients",
        description="Pages that may follow the live feed at once (must leave threads for normal requests)",
    )

    @model_validator(mode="after")
    def _check(self) -> WebSection:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("web.tls_cert and web.tls_key must be given together")
        if self.max_live_clients > self.threads - 4:
            raise ValueError("web.max_live_clients must be at least 4 below web.threads")
        return self


class SecuritySection(Section):
    """Sessions, cookies and login throttling of the controller page."""

    secure_cookies: bool = Field(
        True,
        title="Secure cookies",
        description="Send cookies only over HTTPS; set false only for a plain-HTTP demo on a closed network",
    )
    session_idle_minutes: int = Field(30, ge=1, le=1440, title="Idle timeout", description="Minutes")
    session_max_hours: int = Field(12, ge=1, le=72, title="Session lifetime", description="Hours")
    login_failures_per_account: int = Field(
        5,
        ge=1,
        le=100,
        title="Free failures per address and account",
        description="Failed logins of one account from one address before each further attempt waits "
        "1 s, 2 s, 4 s ... (a delay, never a lock-out; other addresses are not slowed)",
    )
    login_failures_per_ip: int = Field(
        20,
        ge=1,
        le=1000,
        title="Free failures per address",
        description="Failed logins from one address, any account, before it waits up to 5 s per attempt",
    )
    login_window_minutes: int = Field(
        15, ge=1, le=1440, title="Rate-limit window", description="Minutes a failed login counts"
    )
    login_max_delay_s: int = Field(
        60, ge=1, le=3600, title="Longest login delay", description="Seconds; the delay doubles up to this"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        title="Trusted reverse proxies",
        description="Addresses or networks (10.0.0.5, 10.0.0.0/24) of reverse proxies whose "
        "X-Forwarded-For names the client; from anyone else the header is ignored",
    )
    argon2_memory_kib: int = Field(
        65536,
        ge=8192,
        le=1048576,
        title="Argon2 memory",
        description="KiB per password hash (RFC 9106: 65536)",
    )
    argon2_time_cost: int = Field(
        3, ge=1, le=20, title="Argon2 passes", description="Passes per password hash"
    )


    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (10.0.0.5, 10.0.0.0/24)"
                ) from None
        return value


class DevicesSection(Section):
    """When a door unit raises an alarm on the devices page."""

    silent_after_s: int = Field(
        45, ge=5, le=3600, title="Silent after", description="Seconds without a heartbeat before the alarm"
    )
    outbox_alarm: int = Field(
        50,
        ge=1,
        le=1_000_000,
        title="Outbox alarm",
        description="Unacknowledged check-ins that raise an alarm",
    )
    check_interval_s: float = Field(
        5.0, ge=0.2, le=300, title="Check interval", description="Seconds between alarm checks"
    )


class AttendanceSection(Section):
    """Quorum rule: ``two-thirds`` (default), ``majority`` or ``fixed:N``."""

    quorum: str = Field("two-thirds", title="Quorum rule", description="two-thirds, majority or fixed:N")


class DocumentsSection(Section):
    """Congress documents: upload limits and the portal's address (printed in QR codes)."""

    max_mb: int = Field(50, ge=1, le=1024, title="Largest upload", description="Megabytes per PDF")
    max_pages: int = Field(1000, ge=1, le=100_000, title="Most pages", description="Pages per PDF")
    portal_url: str = Field(
        "https://congress.local",
        title="Portal address",
        description="Base address printed in document QR codes (the delegates' portal)",
    )


class PortalSection(Section):
    """The tablet front: the delegates' own port (documents, the portal, live notices).

    An event-loop server inside the controller process (:mod:`controller.front`), with the TLS
    certificate and key of ``[web]``; only the delegates' paths are reachable on it."""

    enabled: bool = Field(
        False, title="Tablet front", description="Serve the delegates' tablets on their own port"
    )
    host: str = Field("127.0.0.1", title="Listen address", description="0.0.0.0 to serve the whole LAN")
    port: int = Field(8444, ge=1, le=65535, title="Port", description="TCP port of the delegates' tablets")
    handshake_s: float = Field(
        10.0, ge=0.5, le=120, title="TLS handshake deadline",
        description="Seconds a new connection has to finish its TLS handshake",
    )
    header_s: float = Field(
        15.0, ge=0.5, le=600, title="Header deadline",
        description="Seconds a connection has to send a complete request, from connecting or after the "
        "previous answer (an idle keep-alive connection is closed then)",
    )
    per_address: int = Field(
        64, ge=1, le=100_000, title="Connections per address",
        description="Open connections one client address may hold; more are closed at once",
    )
    backlog: int = Field(
        4096, ge=16, le=65535, title="Connection backlog",
        description="Connections the kernel queues before the front accepts them",
    )
    loops: int = Field(
        2, ge=1, le=64, title="Event loops",
        description="Threads each running an event loop on the port (about one per core)",
    )
    page_threads: int = Field(
        8, ge=1, le=256, title="Page threads",
        description="Threads running the portal's pages (everything but documents and the live feed)",
    )
    file_threads: int = Field(
        8, ge=1, le=256, title="Document threads",
        description="Threads checking access and making watermarked copies; bytes are sent by the loop",
    )
    keepalive_s: float = Field(
        15.0, ge=1, le=300, title="Live keep-alive",
        description="Seconds between keep-alive comments on /p/events"
    )
    write_s: float = Field(
        30.0, ge=1, le=600, title="Write deadline",
        description="Seconds a live-feed client may leave an event unread before it is disconnected",
    )


class FacesSection(Section):
    """Face enrollment: which embedder makes the gallery's templates."""

    model: Literal["sface", "dlib-resnet"] = Field(
        "sface",
        title="Face embedder",
        description="Embedder used for enrollment and recorded in every gallery; door units must run "
        "the same ([recognition] model). After a change, `congress delegates reenroll` re-embeds the kept "
        "photos",
    )


class SynthesisSection(Section):
    """The synthesis of contributions (needs the ``synthesis`` extra): its worker in the controller."""

    enabled: bool = Field(
        True,
        title="Synthesis worker",
        description="Run queued syntheses in the controller process (false: runs stay queued)",
    )
    threads: int = Field(
        0,
        ge=0,
        le=64,
        title="Embedding threads",
        description="OpenMP threads for the embedding model; 0 = all cores but one",
    )


class ControllerConfig(Section):
    """Controller: ``[venue]``, ``[database]``, ``[broker]``, ``[web]``, ``[security]``, ``[devices]``."""

    venue: VenueSection
    database: DatabaseSection = DatabaseSection()
    broker: BrokerSection
    web: WebSection = WebSection()
    security: SecuritySection = SecuritySection()
    devices: DevicesSection = DevicesSection()
    attendance: AttendanceSection = AttendanceSection()
    documents: DocumentsSection = DocumentsSection()
    portal: PortalSection = PortalSection()
    faces: FacesSection = FacesSection()
    synthesis: SynthesisSection = SynthesisSection()
    keypads: KeypadsSection | None = None  # keypad base station; none: no keypad reader
    ca_dir: Path = Field(
        Path("ca"),
        title="Venue CA directory",
        description="Unit certificates and signing keys, revocations and controller-signing.key",
    )
    data_dir: Path = Field(
        Path("/var/lib/congress-controller"),
        title="Data directory",
        description="Controller state: audit key, exports, enrollment photos",
    )

    def resolve_paths(self, base: Path) -> ControllerConfig:
        def fix(p: Path | None) -> Path | None:
            return None if p is None or p.is_absolute() else base / p

        d = self.data_dir if self.data_dir.is_absolute() else base / self.data_dir
        web = self.web.model_copy(
            update={
                "tls_cert": fix(self.web.tls_cert) or self.web.tls_cert,
                "tls_key": fix(self.web.tls_key) or self.web.tls_key,
            }
        )
        url = self.database.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            url = "sqlite:///" + str(base / url.removeprefix("sqlite:///"))
        return self.model_copy(
            update={
                "data_dir": d,
                "ca_dir": self.ca_dir if self.ca_dir.is_absolute() else base / self.ca_dir,
                "broker": self.broker.resolve_paths(base),
                "web": web,
                "database": self.database.model_copy(update={"url": url}),
                "keypads": self.keypads.resolve_paths(base) if self.keypads else None,
            }
        )

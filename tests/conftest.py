"""Fixtures every area uses: a venue CA with credentials and a real private Mosquitto broker.

``venue_ca`` (session): a CA for venue ``test-venue`` with a ``localhost`` broker certificate, the
``controller`` client certificate, the controller signing key and units ``door-1`` and ``door-2``;
``venue_ca.unit(name)`` / ``venue_ca.client(name)`` issue more on demand (use fresh names for tests
that revoke; a second controller connection at once is ``controller-2``, see ``CONTROLLERS``).
``broker`` (function): a running Mosquitto with TLS, client certificates and the ACL on a free port,
stopped afterwards. ``mqtt_client(name)`` returns a connected paho client for a unit or a
client identity and disconnects it at the end of the test.

The browser tests' fixtures and helpers (``browser``, ``browser_context``, ``wait_true``, ...) are in
tests/browser.py, registered here as a plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from congress import pki

# Property tests check what is true, never how fast: Hypothesis' default 200 ms deadline per example
# (and its "too slow" health check) fails them on a loaded machine, so both are off for the suite.
settings.register_profile("congress", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("congress")

TEST_VENUE = "test-venue"
#: Controller identities the test broker's ACL admits: the broker binds each client id to its
#: certificate, so two controller connections at once need two certificates.
CONTROLLERS = ("controller", "controller-2")
pytest_plugins = ("tests.browser",)


@dataclass
class VenueCA:
    """A venue CA directory and the credentials issued from it."""

    dir: Path
    venue: str
    ca_cert: Path
    controller_cert: Path
    controller_key: Path
    controller_signing_key: Path
    controller_signing_pub: Path
    units: dict[str, pki.UnitCredentials] = field(default_factory=dict)
    clients: dict[str, tuple[Path, Path]] = field(default_factory=dict)

    def unit(self, unit_id: str) -> pki.UnitCredentials:
        """Credentials of ``unit_id``, issued on first use."""
        if unit_id not in self.units:
            self.units[unit_id] = pki.issue_unit(self.dir, unit_id)
        return self.units[unit_id]

    def client(self, name: str) -> tuple[Path, Path]:
        """``(cert, key)`` of client ``name``, issued on first use."""
        if name not in self.clients:
            self.clients[name] = pki.issue_client(self.dir, name)
        return self.clients[name]

    def tls_files(self, name: str) -> tuple[Path, Path]:
        """``(cert, key)`` for a unit or client name (units first)."""
        if name in self.units:
            return self.units[name].cert, self.units[name].key
        return self.client(name)


@pytest.fixture(scope="session")
def venue_ca(tmp_path_factory) -> VenueCA:
    ca_dir = tmp_path_factory.mktemp("venue") / "ca"
    pki.init_ca(ca_dir, TEST_VENUE)
    pki.issue_broker(ca_dir, "localhost")
    cert, key = pki.issue_client(ca_dir, "controller")
    ca = VenueCA(dir=ca_dir, venue=TEST_VENUE, ca_cert=ca_dir / "ca.pem", controller_cert=cert,
                 controller_key=key, controller_signing_key=ca_dir / "controller-signing.key",
                 controller_signing_pub=ca_dir / "controller-signing.pub",
                 clients={"controller": (cert, key)})
    ca.unit("door-1")
    ca.unit("door-2")
    return ca


@pytest.fixture
def broker(venue_ca: VenueCA, tmp_path):
    """A running private Mosquitto for ``venue_ca`` (TLS, client certificates, ACL, persistence)."""
    from congress.broker import Mosquitto

    b = Mosquitto.from_ca(venue_ca.dir, work_dir=tmp_path / "broker", controllers=CONTROLLERS)
    b.start()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def mqtt_client(venue_ca: VenueCA, broker):
    """Factory: ``mqtt_client(name, **make_client_kwargs)`` -> connected paho client as ``name``."""
    from congress import mqtt

    made = []

    def make(name: str, *, durable: bool = False, client_id: str | None = None, **kwargs):
        cert, key = venue_ca.tls_files(name)
        c = mqtt.make_client(client_id=client_id or name, ca_file=venue_ca.ca_cert, cert_file=cert,
                             key_file=key, **kwargs)
        made.append(c)
        mqtt.connect(c, "localhost", broker.port, durable=durable)
        return c

    yield make
    for c in made:
        c.disconnect()
        c.loop_stop()

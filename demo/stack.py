"""Start the demo venue's parts for real and stop them all, in reverse order.

:class:`Stack` owns, in start order: the private Mosquitto (TLS, client certificates, ACL), the
controller (:class:`controller.server.ControllerServer`: SQLite, ingest, device watch, web page) plus
its ballots, gallery publisher and keypad reader, the keypad base-station simulator on a pty, and the
door units (:class:`edge.main.Unit`, the same class ``congress edge run`` builds) with replay cameras
and gpiozero mock pins. Every part is registered with its stop function as soon as it runs, so a
failure half-way (or Ctrl-C) still stops what was started.
"""

from __future__ import annotations

import logging
import random
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from congress.broker import Mosquitto
from congress.errors import CongressError
from congress.keypads.keystore import KeyStore
from congress.keypads.simulator import BaseStationSimulator
from demo.venue import Venue, delegate_id, seat

if TYPE_CHECKING:
    from controller.delegates.gallery import GalleryPublisher
    from controller.server import ControllerServer
    from controller.voting.ballots import Ballots
    from controller.voting.keypad_reader import KeypadReader
    from edge.main import Unit

log = logging.getLogger(__name__)

ADMIN = "admin"


class DemoError(CongressError):
    """A part of the demo venue did not come up."""


def make_password(length: int = 16) -> str:
    """A random password that passes the controller's strength check (letters and digits)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in pw) and any(c.isupper() for c in pw) and any(c.islower() for c in pw):
            return pw


@dataclass
class Stack:
    """The running venue; build with :meth:`start`, end with :meth:`stop` (idempotent)."""

    venue: Venue
    broker: Mosquitto | None = None
    controller: ControllerServer | None = None
    ballots: Ballots | None = None
    reader: KeypadReader | None = None
    keypads: BaseStationSimulator | None = None
    keys: KeyStore | None = None
    units: dict[str, Unit] = field(default_factory=dict)
    site_brokers: dict[str, Mosquitto] = field(default_factory=dict)
    gallery: GalleryPublisher | None = None
    password: str = ""
    enrolled: dict = field(default_factory=dict)
    _stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    # -- start ---------------------------------------------------------------------------------------
    def _started(self, name: str, stop: Callable[[], None]) -> None:
        log.info("demo: %s started", name)
        self._stops.append((name, stop))

    def start(self, *, doors: bool = True, realtime: bool = True, auto_vote: bool = False) -> Stack:
        """Start every part; ``realtime`` paces the door cameras, ``auto_vote`` lets the simulated
        keypads vote by themselves whenever a ballot opens (the interactive demo)."""
        try:
            self._start_broker()
            self._start_base_station(auto_vote)
            self._start_controller()
            self._enroll()
            self._start_gallery()
            if doors:
                self.start_doors(realtime=realtime)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_broker(self) -> None:
        v = self.venue
        self.broker = Mosquitto.from_ca(v.ca_dir, port=v.broker_port, work_dir=v.root / "broker").start()
        self._started(f"mosquitto (TLS, port {self.broker.port})", self.broker.stop)
        for site, port in v.site_ports.items():
            self._start_site_broker(site, port)

    def _start_site_broker(self, site: str, port: int) -> None:
        """A satellite site's own broker, bridged over TLS to the central one (docs/multi-site.md)."""
        from congress import pki
        from congress.bridge import BridgeTarget, site_broker

        v = self.venue
        creds = pki.site_credentials(v.ca_dir, site)
        host_cert = v.ca_dir / "broker" / "localhost"
        target = BridgeTarget(venue=pki.venue_of(v.ca_dir), site=site, host="127.0.0.1", port=v.broker_port,
                              cafile=creds.ca_cert, certfile=creds.cert, keyfile=creds.key, keepalive_s=10,
                              restart_s=(1, 5))
        broker = site_broker(bridge=target, cafile=creds.ca_cert, certfile=host_cert / "cert.pem",
                             keyfile=host_cert / "key.pem", crlfile=v.ca_dir / "crl.pem",
                             work_dir=v.root / "sites" / site, port=port).start()
        self.site_brokers[site] = broker
        self._started(f"site {site}: mosquitto (TLS, port {port}) bridged to the central broker", broker.stop)

    def _start_base_station(self, auto_vote: bool) -> None:
        """The keypads' USB base station, simulated on a pty behind the port the controller opens."""
        v = self.venue
        self.keys = KeyStore.load(v.keys_file)
        self.keypads = BaseStationSimulator(self.keys, link=v.base_station_link, auto_vote=auto_vote,
                                            seed=7).start()
        self._started(f"keypad base station ({v.keypads} keypads) on {self.keypads.port}", self.keypads.stop)

    def _start_controller(self) -> None:
        """``congress controller run`` in this process: page, ingest, device watch, ballots, keypads."""
        from controller.accounts import auth
        from controller.app import open_database
        from controller.server import ControllerServer
        from controller.storage import migrate
        from controller.storage.tables import Role

        cfg = self.venue.controller()
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        db = open_database(cfg)
        migrate.upgrade(db)
        self.password = make_password()
        with db.session() as s:
            auth.add_user(s, ADMIN, Role.ADMIN, self.password, actor="demo")
        db.dispose()
        self.controller = ControllerServer(cfg).start()
        self._started(f"controller at {self.controller.url}", self.controller.stop)
        services = self.controller.services
        self.ballots, self.reader = services.ballots, services.keypads
        if self.reader is None or not self.reader.connected.wait(15):
            raise DemoError("the controller's keypad reader did not open the base station's line")
        self._keypads_report_in()

    def _keypads_report_in(self) -> None:
        """Every keypad sends one status frame, as a keypad does when it is switched on, so the devices
        page shows battery and signal from the start instead of "never heard"."""
        rng = random.Random(7)
        for kid in self.keys.ids():
            self.keypads.status(kid, battery=rng.randint(55, 100), rssi=rng.randint(-80, -45))

    def _enroll(self) -> None:
        from controller.delegates.roster import import_roster
        from controller.voting.assignment import Assignments

        enroller = self.controller.services.enroller  # the controller's own, as the page's import uses
        report = import_roster(self.controller.db, self.venue.roster, enroller=enroller, actor="demo")
        self.enrolled = report.as_dict()
        log.info("demo: roster imported: %s", {k: v for k, v in self.enrolled.items() if k != "warnings"})
        n = min(len(self.venue.people), self.venue.keypads)
        Assignments(self.controller.db).assign_by_seat({seat(i): i + 1 for i in range(n)}, actor="demo")

    def _start_gallery(self) -> None:
        """The controller's gallery service, started with the controller, seals the gallery for each door."""
        self.gallery = self.controller.services.gallery

    def start_doors(self, *, gallery_timeout: float = 60.0, realtime: bool = False) -> None:
        """Start the door units; their cameras start once each unit holds the controller's gallery."""
        from gpiozero.pins.mock import MockFactory

        from edge.main import Unit

        analyzer = None
        for unit_id in self.venue.doors:
            unit = Unit(self.venue.door(unit_id), pin_factory=MockFactory(), analyzer=analyzer,
                        realtime=realtime)
            analyzer = unit.analyzer  # both doors share one loaded face engine (one machine)
            self.units[unit_id] = unit
            unit.publisher.start()
            self._started(f"door unit {unit_id}", unit.stop)
        deadline = time.monotonic() + gallery_timeout
        while not all(u.gallery.version > 0 for u in self.units.values()):
            if time.monotonic() > deadline:
                raise DemoError(
                    "the door units did not receive the delegates' gallery from the controller in "
                    f"{gallery_timeout:.0f} s", hint="see the log lines of the gallery publisher above")
            time.sleep(0.1)
        for unit in self.units.values():
            unit.door.start()

    # -- stop ----------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every started part, last started first; a failing stop does not skip the others."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
                log.info("demo: %s stopped", name)
            except Exception:
                log.exception("demo: stopping %s failed", name)

    @property
    def url(self) -> str:
        return self.controller.url if self.controller else ""

    def delegate_ids(self) -> list[str]:
        return [delegate_id(i) for i in range(len(self.venue.people))]

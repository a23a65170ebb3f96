"""Three satellite sites bridged over TLS to a central broker and the real ingest: door units (their own
publisher and outbox) check delegates in while links stall and reset and the site and central brokers
are killed -9. Every check-in is stored exactly once, acknowledged back through its bridge, and each
outbox ends empty."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from congress import pki, wire
from congress.bridge import BridgedVenue
from congress.config.common import BrokerSection
from congress.link.outbox import Outbox
from congress.link.publisher import Publisher
from congress.linkfault import LinkFaults
from controller.checkins.ingest import Ingest
from controller.checkins.unit_registry import UnitRegistry
from controller.link import BrokerTarget, ControllerLink
from controller.storage.tables import CheckIn

SITES = ("zl-a", "zl-b", "zl-c")


def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def sites_ca(venue_ca):
    for site in SITES:
        if site not in pki.sites(venue_ca.dir):
            pki.issue_site(venue_ca.dir, site)
            venue_ca.units[f"{site}-door"] = pki.issue_unit(venue_ca.dir, f"{site}-door", site=site)
    return venue_ca


class Door:
    """A door unit at a site: the unit's real outbox and publisher, check-ins signed as it signs them."""

    def __init__(self, ca, unit: str, port: int, work) -> None:
        creds = ca.units[unit]
        self.unit, self.venue = unit, ca.venue
        self.key = pki.load_signing_key(creds.signing_key)
        self.outbox = Outbox(work / f"{unit}.db", 10_000)
        self.publisher = Publisher(
            broker=BrokerSection(host="localhost", port=port, ca_file=creds.ca_cert, cert_file=creds.cert,
                                 key_file=creds.key, keepalive_s=5),
            venue_id=ca.venue, unit_id=unit, signing_key=self.key,
            controller_key=pki.load_public_key(creds.controller_pub), outbox=self.outbox,
            health=lambda: {}, heartbeat_s=2.0, resend_s=5.0)
        self.sent: list[tuple[str, int]] = []

    def checkin(self, delegate: str) -> None:
        def build(boot: str, seq: int) -> bytes:
            return wire.encode(wire.CheckIn(venue=self.venue, unit=self.unit, boot=boot, seq=seq,
                                            delegate_id=delegate, direction=wire.Direction.IN,
                                            method=wire.Method.BADGE, door="hall"), self.key)

        ev = self.outbox.add("checkin", build)
        self.sent.append((ev.boot_id, ev.seq))
        self.publisher.notify()


def test_every_checkin_is_stored_once_across_link_faults_and_broker_kills(sqlite_db, sites_ca, tmp_path):
    links: list[tuple[str, bool]] = []
    with LinkFaults() as faults, BridgedVenue(sites_ca.dir, list(SITES), faults=faults, keepalive_s=5,
                                               restart_s=(1, 2)) as venue:
        registry = UnitRegistry(sites_ca.dir, recheck_s=0.0)
        link = ControllerLink(
            venue_id=sites_ca.venue, route=registry.site_of,
            broker=BrokerTarget("localhost", venue.central.port, str(sites_ca.ca_cert),
                                str(sites_ca.controller_cert), str(sites_ca.controller_key)),
            signing_key=pki.load_signing_key(sites_ca.controller_signing_key))
        ingest = Ingest(sqlite_db, registry, link=link,
                        on_link=lambda site, up, at: links.append((site, up))).start()
        link.start()
        doors = [Door(sites_ca, f"{s}-door", venue.sites[s].port, tmp_path) for s in SITES]
        try:
            for d in doors:
                d.publisher.start()
            wait_for(lambda: all(d.publisher.stats.connected for d in doors), 20, "doors connected")
            wait_for(lambda: {s for s, up in links if up} == set(SITES), 20, "every link up")

            def round_(n: int) -> None:
                for i in range(n):
                    for d in doors:
                        d.checkin(f"{d.unit}-{len(d.sent)}-{i}")

            round_(5)
            faults.stall("zl-a")  # silent: noticed only by the keep-alives
            faults.reset("zl-b")
            round_(5)
            venue.sites["zl-c"].kill()  # kill -9 with what it holds
            round_(3)  # zl-c's door keeps them in its outbox while its broker is away
            venue.sites["zl-c"].start()
            wait_for(lambda: ("zl-a", False) in links, 30, "the stalled link reported down")
            round_(5)
            venue.central.kill()  # kill -9 of the central broker, while a link is still stalled
            round_(5)
            venue.central.start()
            faults.resume("zl-a")
            round_(2)
            sent = sum(len(d.sent) for d in doors)
            wait_for(lambda: all(d.outbox.depth() == 0 for d in doors), 90,
                     "every outbox emptied by the controller's acks")
        finally:
            for d in doors:
                d.publisher.stop()
                d.outbox.close()
            ingest.stop()
            link.stop()
        with sqlite_db.session() as s:
            rows = s.execute(select(CheckIn.unit_id, CheckIn.boot_id, CheckIn.seq)).all()
            total = s.scalar(select(func.count()).select_from(CheckIn))
    expected = {(d.unit, b, q) for d in doors for b, q in d.sent}
    assert total == len(rows) == sent == len(expected)
    assert {tuple(r) for r in rows} == expected  # every one stored, none twice (unique key), nothing else
    assert ("zl-a", True) in links[links.index(("zl-a", False)):]

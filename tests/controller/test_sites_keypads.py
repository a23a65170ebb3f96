"""Votes from a satellite site: a keypad base station (simulated on a pty) at the site, the site gateway's
relay and outbox, the site broker bridged over TLS to the central broker, and the central controller's
keypad reader. The ballot reaches the site's keypads, every vote is counted once and acknowledged
with its receipt, the relay survives a link reset, and a door unit cannot relay keypad frames."""

from __future__ import annotations

import time

import pytest

from congress import pki, wire
from congress.bridge import BridgedVenue
from congress.config import parse_config
from congress.config.gateway import GatewayConfig
from congress.keypads.keystore import KeyStore
from congress.keypads.simulator import BaseStationSimulator
from congress.linkfault import LinkFaults
from controller.checkins.attendance import Passing, QuorumPolicy, apply_checkins
from controller.checkins.unit_registry import UnitRegistry
from controller.link import BrokerTarget, ControllerLink
from controller.sites.keypads import SiteKeypads
from controller.storage.database import utcnow
from controller.storage.tables import Delegate, Passage
from controller.voting.assignment import Assignments
from controller.voting.ballots import Ballots
from controller.voting.keypad_reader import KeypadReader
from controller.voting.tables import BallotKind
from edge.gateway import Gateway

SITE = "kp-site"
N = 6


def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def site_ca(venue_ca):
    if SITE not in pki.sites(venue_ca.dir):
        pki.issue_site(venue_ca.dir, SITE)
    return venue_ca


def roster(db) -> None:
    with db.session() as s:
        for i in range(1, N + 1):
            s.add(Delegate(id=f"k{i}", name=f"Delegate {i}", seat=f"K{i}", summoned=True, site=SITE))
        s.flush()
        apply_checkins(s, [Passing(i, f"k{i}", Passage.IN, utcnow(), "door-k") for i in range(1, N + 1)])
    Assignments(db).assign_by_seat({f"K{i}": i for i in range(1, N + 1)}, actor="tech")


def test_votes_from_a_site_are_counted_once_and_acknowledged(sqlite_db, site_ca, tmp_path):
    roster(sqlite_db)
    keys = KeyStore.generate(range(1, N + 1))
    ballots = Ballots(sqlite_db, QuorumPolicy.parse("majority"))
    reader = KeypadReader("", keys, sqlite_db, ballots)  # no base station at the centre
    ballots.announce = reader.announce
    creds = pki.site_credentials(site_ca.dir, SITE)
    with LinkFaults() as faults, BridgedVenue(site_ca.dir, [SITE], faults=faults, keepalive_s=5,
                                               restart_s=(1, 2)) as venue, \
            BaseStationSimulator(keys, link=tmp_path / "base.tty") as sim:
        registry = UnitRegistry(site_ca.dir, recheck_s=0.0)
        link = ControllerLink(
            venue_id=site_ca.venue, route=registry.site_of,
            signing_key=pki.load_signing_key(site_ca.controller_signing_key),
            broker=BrokerTarget("localhost", venue.central.port, str(site_ca.ca_cert),
                                str(site_ca.controller_cert), str(site_ca.controller_key)))
        relays = SiteKeypads(link, reader, registry).start()
        reader.start()
        link.start()
        cfg = parse_config({
            "venue": {"id": site_ca.venue},
            "site": {"id": SITE, "data_dir": str(tmp_path / "gw"), "signing_key_file": str(creds.signing_key),
                     "controller_key_file": str(creds.controller_pub), "heartbeat_s": 2},
            "broker": {"host": "localhost", "port": venue.sites[SITE].port, "ca_file": str(creds.ca_cert),
                       "cert_file": str(creds.cert), "key_file": str(creds.key), "keepalive_s": 5},
            "keypads": {"port": str(sim.port), "retry_s": 0.1, "batch_ms": 20}}, GatewayConfig)
        gateway = Gateway(cfg).start()
        try:
            wait_for(lambda: gateway.publisher.stats.connected and gateway.relay.connected.is_set(), 20,
                     "the gateway on the site broker and the base station")
            time.sleep(1.0)  # the bridge subscribed to the site's replies
            bid = ballots.create("Motion", BallotKind.MOTION, secret=True, actor="chair")
            ballots.open(bid, actor="chair")
            # the relay's hello request, then the ballot's announcement
            assert sim.wait_host_frames(2, timeout=20), "the ballot never reached the site's keypads"
            for kid in (1, 2, 3):
                sim.vote(kid, bid, [1])
            wait_for(lambda: len(sim.acks) == 3, 20, "receipts for the first votes")
            faults.reset(SITE)  # the link drops while keypads vote: the gateway's outbox keeps the frames
            for kid in (4, 5):
                sim.vote(kid, bid, [2])
            sim.vote(6, bid, [3])
            wait_for(lambda: len(sim.acks) == 6 and gateway.outbox.depth() == 0, 30,
                     "every vote acknowledged back at the site and the gateway's outbox empty")
            again = sim.vote(1, bid, [2])  # a second vote from the same keypad is not counted
            wait_for(lambda: (1, again) in sim.acks, 20, "the answer to the repeated vote")
            result = ballots.close(bid, actor="chair").as_dict()
        finally:
            gateway.stop()
            relays.stop()
            reader.stop()
            link.stop()
    assert result["cast"] == N and result["counts"] == {"Yes": 3, "No": 2, "Abstain": 1}, result
    assert sim.acks[(1, again)].status.name == "ALREADY_VOTED"
    assert not sim.bad_acks and relays.stats["refused"] == 0


def test_a_door_unit_cannot_relay_keypad_frames(sqlite_db, site_ca):
    keys = KeyStore.generate(range(1, 3))
    reader = KeypadReader("", keys, sqlite_db, Ballots(sqlite_db, QuorumPolicy.parse("majority")))
    registry = UnitRegistry(site_ca.dir, recheck_s=0.0)
    link = ControllerLink(venue_id=site_ca.venue, broker=None,
                          signing_key=pki.load_signing_key(site_ca.controller_signing_key))
    relays = SiteKeypads(link, reader, registry)
    door = site_ca.unit("door-1")
    msg = wire.KeypadFrames(venue=site_ca.venue, unit="door-1", boot="b", seq=1, frames=(b"\xa5Z\x01",))
    payload = wire.encode(msg, pki.load_signing_key(door.signing_key))
    relays.handle(wire.routed(SITE, msg.topic), payload)  # a door's own key, through a site's route
    site_key = pki.load_signing_key(pki.site_credentials(site_ca.dir, SITE).signing_key)
    other = wire.KeypadFrames(venue=site_ca.venue, unit=SITE, boot="b", seq=1, frames=(b"\xa5Z\x01",))
    relays.handle(other.topic, wire.encode(other, site_key))  # the site's key, but not through its bridge
    assert relays.stats["refused"] == 2 and relays.stats["frames"] == 0

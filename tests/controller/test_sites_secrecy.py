"""The secret ballot holds end to end through a satellite site: a secret election voted on keypads at a
site (base station simulated on a pty, the site gateway's relay and outbox, the site broker bridged over
TLS, the central controller's keypad reader) is run twice, the second time with two delegates'
choices exchanged. The central database dump, every log line of the vote's path (gateway, relay,
reader, ballots, SQL statements with their rows) and the size of every signed message the gateway
relayed are the same in both runs: nothing stored, logged or sent links a delegate or keypad to a
choice. The counts are as planned, so the votes really were counted."""

from __future__ import annotations

import logging
import re
import secrets
import time

import pytest

from congress import pki
from congress.bridge import BridgedVenue
from congress.config import parse_config
from congress.config.gateway import GatewayConfig
from congress.keypads.keystore import KeyStore
from congress.keypads.simulator import BaseStationSimulator
from controller import audit
from controller.checkins.attendance import Passing, QuorumPolicy, apply_checkins
from controller.checkins.unit_registry import UnitRegistry
from controller.link import BrokerTarget, ControllerLink
from controller.sites.keypads import SiteKeypads
from controller.storage import migrate
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, Passage
from controller.voting.assignment import Assignments
from controller.voting.ballots import Ballots
from controller.voting.keypad_reader import KeypadReader
from controller.voting.tables import BallotKind
from edge.gateway import Gateway

SITE = "sec-site"
N = 6
PLAN = {1: {1, 2}, 2: {3}, 3: {1}, 4: {2, 4}, 5: set(), 6: {4}}
SWAPPED = {**PLAN, 1: PLAN[2], 2: PLAN[1]}
#: Loggers a vote passes through at the site and at the centre (connection logs carry no vote).
VOTE_PATH = ("edge.gateway", "controller.sites", "controller.voting", "congress.keypads", "sqlalchemy.engine")
NOISE = [
    (re.compile(r"datetime\.datetime\([^)]*\)"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z|\+00)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{32,}\b"), "<hex>"),
    (re.compile(r"\b\d+:[0-9A-F]{4}(-[0-9A-F]{4}){3}\b"), "<audit fingerprint>"),  # of a keyed hash, as <hex>
    (re.compile(r"0x[0-9a-f]+"), "<addr>"),
    (re.compile(r"/dev/pts/\d+|/tmp/\S+"), "<place>"),
    (re.compile(r"\[[a-z ]*\d+\.\d+s( ago)?\]"), "[stmt]"),
    # the sealed running tally of an open secret ballot is encrypted with a fresh nonce at every vote:
    # other bytes in every run whatever the votes (its plaintext is what the dump compares after close)
    (re.compile("b'(?:[^'\\\\]|\\\\.)*'|b\"(?:[^\"\\\\]|\\\\.)*\""), "<sealed>"),
]


def normalise(text: str) -> str:
    for rx, repl in NOISE:
        text = rx.sub(repl, text)
    return text


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


def run_election(ca, keys: KeyStore, plan: dict, work) -> tuple[str, list[int], dict]:
    """One secret election voted at the site; (database dump, relayed message sizes, result)."""
    db = Database(f"sqlite:///{work}/central.db", info={audit.INFO_KEY: secrets.token_bytes(32)})
    migrate.upgrade(db)
    with db.session() as s:
        for i in range(1, N + 1):
            s.add(Delegate(id=f"s{i}", name=f"Delegate {i}", seat=f"K{i}", summoned=True, site=SITE))
        s.flush()
        apply_checkins(s, [Passing(i, f"s{i}", Passage.IN, utcnow(), "door-s") for i in range(1, N + 1)])
    Assignments(db).assign_by_seat({f"K{i}": i for i in range(1, N + 1)}, actor="tech")
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    reader = KeypadReader("", keys, db, ballots)
    ballots.announce = reader.announce
    creds = pki.site_credentials(ca.dir, SITE)
    sizes: list[int] = []
    with BridgedVenue(ca.dir, [SITE], work_dir=work / "brokers", keepalive_s=5, restart_s=(1, 2)) as venue, \
            BaseStationSimulator(keys, link=work / "base.tty") as sim:
        registry = UnitRegistry(ca.dir, recheck_s=0.0)
        link = ControllerLink(
            venue_id=ca.venue, route=registry.site_of,
            signing_key=pki.load_signing_key(ca.controller_signing_key),
            broker=BrokerTarget("localhost", venue.central.port, str(ca.ca_cert), str(ca.controller_cert),
                                str(ca.controller_key)))
        relays = SiteKeypads(link, reader, registry).start()
        reader.start()
        link.start()
        cfg = parse_config({
            "venue": {"id": ca.venue},
            "site": {"id": SITE, "data_dir": str(work / "gw"), "signing_key_file": str(creds.signing_key),
                     "controller_key_file": str(creds.controller_pub), "heartbeat_s": 3600},
            "broker": {"host": "localhost", "port": venue.sites[SITE].port, "ca_file": str(creds.ca_cert),
                       "cert_file": str(creds.cert), "key_file": str(creds.key), "keepalive_s": 5},
            "keypads": {"port": str(sim.port), "retry_s": 0.1, "batch_ms": 20}}, GatewayConfig)
        gateway = Gateway(cfg)
        store = gateway.outbox.add

        def add(kind, build):  # the size of every signed message the gateway relays
            def sized(boot, seq):
                data = build(boot, seq)
                sizes.append(len(data))
                return data
            return store(kind, sized)

        gateway.outbox.add = add
        gateway.start()
        try:
            wait_for(lambda: gateway.publisher.stats.connected and gateway.relay.connected.is_set(), 20,
                     "the gateway on the site broker and the base station")
            wait_for(lambda: sim.wait_host_frames(1, timeout=0.1), 20, "the relay's hello request answered")
            time.sleep(1.0)  # the bridge subscribed to the site's replies
            bid = ballots.create("Board", BallotKind.ELECTION, options=["A", "B", "C", "D"], seats=2,
                                 secret=True, actor="chair")
            ballots.open(bid, actor="chair")
            assert sim.wait_host_frames(2, timeout=20), "the ballot never reached the site's keypads"
            for n, kid in enumerate(sorted(plan), start=1):  # one at a time: both runs take the same path
                sim.vote(kid, bid, plan[kid])
                assert sim.wait_acks(n, timeout=20), f"no receipt for keypad {kid}"
            wait_for(lambda: gateway.outbox.depth() == 0, 20, "the gateway's outbox emptied by the acks")
            result = ballots.close(bid, actor="chair").as_dict()
        finally:
            gateway.stop()
            relays.stop()
            reader.stop()
            link.stop()
        trace = [f.nbytes for f in sim.sent if f.kind == "vote"]
    raw = db.engine.raw_connection()
    try:
        dump = "\n".join(raw.driver_connection.iterdump())
    finally:
        raw.close()
        db.dispose()
    assert len(set(trace)) == 1  # every vote frame on the site's line has the same length
    return dump, sizes, result


def test_a_secret_election_at_a_site_cannot_be_linked(site_ca, tmp_path, caplog):
    keys = KeyStore.generate(range(1, N + 1))
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")

    def path_log() -> list[str]:
        return sorted(normalise(r.getMessage()) for r in caplog.records if r.name.startswith(VOTE_PATH))

    (tmp_path / "a").mkdir()
    dump_a, sizes_a, result_a = run_election(site_ca, keys, PLAN, tmp_path / "a")
    logs_a = path_log()
    caplog.clear()
    (tmp_path / "b").mkdir()
    dump_b, sizes_b, result_b = run_election(site_ca, keys, SWAPPED, tmp_path / "b")
    logs_b = path_log()

    assert result_a == result_b and result_a["cast"] == N and result_a["blank"] == 1
    assert result_a["counts"] == {"A": 2, "B": 2, "C": 1, "D": 2}
    assert "s1" in dump_a and "ballot_participation" in dump_a  # who voted is kept, apart
    assert normalise(dump_a) == normalise(dump_b)
    assert len(logs_a) > 20 and logs_a == logs_b
    assert sorted(sizes_a) == sorted(sizes_b) and sizes_a  # what crossed the bridge, by size

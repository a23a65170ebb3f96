"""Keypad fixtures: a migrated SQLite controller database with a checked-in roster bound to keypads,
pairing keys, a base-station simulator on a real pty and the controller's reader on its slave side."""

from __future__ import annotations

import logging
import secrets
import time

import pytest

from congress.keypads.keystore import KeyStore
from congress.keypads.simulator import BaseStationSimulator
from controller import audit
from controller.checkins.attendance import Passing, QuorumPolicy, apply_checkins
from controller.storage import migrate
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, Passage
from controller.voting.assignment import Assignments
from controller.voting.ballots import Ballots
from controller.voting.keypad_reader import KeypadReader

KEYPADS = list(range(1, 21))


def wait_for(cond, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def make_venue(db: Database, n: int, *, present: int | None = None) -> None:
    """Delegates d0001.. in seats, keypad i bound to delegate i, the first ``present`` checked in."""
    with db.session() as s:
        for i in range(1, n + 1):
            s.add(Delegate(id=f"d{i:04d}", name=f"Delegate {i}", seat=f"S{i:04d}"))
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, n + 1)}, actor="tech")
    with db.session() as s:
        now = utcnow()
        apply_checkins(s, [Passing(i, f"d{i:04d}", Passage.IN, now, "door-1")
                           for i in range(1, (present or n) + 1)])


@pytest.fixture
def keys():
    return KeyStore.generate(KEYPADS, base_id=7)


@pytest.fixture
def kdb(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/controller.storage.database",
                        info={audit.INFO_KEY: secrets.token_bytes(32)}, hide_parameters=True)
    migrate.upgrade(database)
    make_venue(database, len(KEYPADS), present=18)
    yield database
    database.dispose()


@pytest.fixture
def sim(keys, tmp_path):
    s = BaseStationSimulator(keys, link=tmp_path / "base.tty").start()
    yield s
    s.stop()


@pytest.fixture
def ballots(kdb):
    return Ballots(kdb, QuorumPolicy.parse("majority"))


@pytest.fixture
def reader(sim, keys, kdb, ballots, caplog):
    caplog.set_level(logging.DEBUG)
    r = KeypadReader(sim.port, keys, kdb, ballots, retry_s=0.05)
    ballots.announce = r.announce
    r.start()
    assert r.connected.wait(10), "reader did not open the pty"
    wait_for(lambda: r.base_hello is not None, what="base station hello")
    yield r
    r.stop()

"""A ballot opened or closed by ``congress controller ballot`` (another process on the same database) is
announced to the keypads by the running controller's reader, on the real pty line, once, without any
page request; a timed ballot that the controller's timer closes is announced as well."""

from __future__ import annotations

import os
import subprocess
import sys

from congress.config import load_config
from congress.config.controller import ControllerConfig
from congress.keypads import protocol as p
from congress.keypads.simulator import BaseStationSimulator
from controller.app import create_app, open_database
from controller.storage import migrate
from controller.voting.tables import BallotKind
from tests.controller.test_controller_cli import write_config

from .conftest import KEYPADS, make_venue, wait_for


def _announces(sim, bid: int) -> list[p.BallotState]:
    return [f.state for f in list(sim.host_frames) if isinstance(f, p.BallotAnnounce) and f.ballot_no == bid]


def _cli(cfg: str, *args: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    done = subprocess.run([sys.executable, "-m", "congress", "controller", "ballot", *args, "--config", cfg],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def test_ballots_opened_and_closed_by_the_command_reach_the_keypads(tmp_path, keys):
    cfg = write_config(tmp_path, f"sqlite:///{tmp_path}/congress.db")
    keys.save(tmp_path / "keypads.json")
    with open(cfg, "a") as fh:
        fh.write(f'[keypads]\nport = "{tmp_path / "base.tty"}"\nkeys_file = "keypads.json"\nretry_s = 0.05\n'
                 '[attendance]\nquorum = "majority"\n')
    config = load_config(cfg, ControllerConfig)
    db = open_database(config)
    migrate.upgrade(db)
    make_venue(db, len(KEYPADS), present=18)
    with BaseStationSimulator(keys, link=tmp_path / "base.tty") as sim:
        app = create_app(config, {"TESTING": True}, db=db)
        svc = app.extensions["congress"]
        voting = svc.voting.start()
        try:
            assert voting.reader.connected.wait(10)
            motion = svc.ballots.create("Opened from the command line", BallotKind.MOTION, actor="chair")
            timed = svc.ballots.create("Timed from the command line", BallotKind.MOTION, actor="chair")

            _cli(cfg, "open", str(motion))
            wait_for(lambda: _announces(sim, motion) == [p.BallotState.OPEN], what="the opening announced")
            ctr = sim.vote(1, motion, {1})  # the keypads know the ballot: a vote counts
            assert sim.wait_acks(1) and sim.acks[(1, ctr)].status == p.AckStatus.ACCEPTED
            _cli(cfg, "close", str(motion))
            wait_for(lambda: p.BallotState.CLOSED in _announces(sim, motion), what="the closing announced")

            _cli(cfg, "open", str(timed), "--minutes", "0.02")  # one second: the controller's timer closes it
            wait_for(lambda: p.BallotState.CLOSED in _announces(sim, timed), what="the timer's close")
            assert svc.ballots.get(timed).status.value == "closed"
            # Each change went out once, though the timer read the database many times meanwhile.
            assert _announces(sim, motion) == [p.BallotState.OPEN, p.BallotState.CLOSED]
            assert _announces(sim, timed) == [p.BallotState.OPEN, p.BallotState.CLOSED]
        finally:
            voting.stop()
            db.dispose()

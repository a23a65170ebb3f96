"""The controller's [keypads] table: create_app builds ballots and the reader into the app's services."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from congress.keypads import protocol as p
from congress.keypads.simulator import BaseStationSimulator
from controller.app import create_app
from controller.voting.tables import BallotKind

from .conftest import wait_for

_spec = importlib.util.spec_from_file_location(
    "congress_controller_test_support_kp", Path(__file__).resolve().parents[1] / "controller" / "conftest.py"
)
_support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_support)


def test_attach_runs_the_reader_from_the_configuration(tmp_path, kdb, keys):
    keys.save(tmp_path / "keypads.json")
    with BaseStationSimulator(keys, link=tmp_path / "base.tty") as sim:
        table = {"port": str(tmp_path / "base.tty"), "keys_file": "keypads.json", "retry_s": 0.05}
        cfg = _support.controller_config(tmp_path, keypads=table, attendance={"quorum": "majority"})
        cfg = cfg.resolve_paths(tmp_path)
        app = create_app(cfg, {"TESTING": True}, db=kdb)
        svc = app.extensions["congress"]
        voting = svc.voting.start()
        reader = voting.reader
        assert reader is not None and svc.keypads is reader
        try:
            assert reader.connected.wait(10)
            ballots = svc.ballots
            bid = ballots.create("Wired", BallotKind.MOTION, actor="chair")
            ballots.open(bid, actor="chair")
            assert sim.wait_host_frames(2)
            assert any(isinstance(f, p.BallotAnnounce) for f in sim.host_frames)
            sim.vote(1, bid, {1})
            assert sim.wait_acks(1)
            assert ballots.progress(bid)["received"] == 1
            ballots.extend(bid, 1, actor="chair")  # now closes within a second or so
            wait_for(lambda: ballots.get(bid).status.value == "closed", what="the ballot timer")
            assert ballots.get(bid).result["counts"]["Yes"] == 1
        finally:
            voting.stop()


def test_without_a_keypads_table_there_is_no_reader(tmp_path, kdb):
    cfg = _support.controller_config(tmp_path)
    app = create_app(cfg, {"TESTING": True}, db=kdb)
    svc = app.extensions["congress"]
    assert svc.voting.reader is None and svc.ballots is svc.voting.ballots and svc.keypads is None

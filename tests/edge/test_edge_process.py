"""The door unit as its own process (`congress edge run`): kill -9 mid-stream, clean SIGTERM, selftest."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from edge_controller_stand_in import ControllerStandIn
from edge_env import enroll, install_gallery, playlist, unit_tables, write_config

from congress import wire
from congress.cli import main
from congress.config import load_config
from congress.config.edge import EdgeConfig

KNOWN = {f"D-{i:02d}": f"celebs/id{i:02d}" for i in (1, 2, 3, 5, 6)}
PROBES = ["celebs/id01/img2.jpg", "celebs/id02/img27.jpg", "celebs/id03/img48.jpg", "celebs/id05/img17.jpg",
          "celebs/id06/img14.jpg"]


@pytest.fixture(scope="module")
def analyzer():
    from edge.engine import EngineAnalyzer

    return EngineAnalyzer.load()


def start(config, log):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "congress", "edge", "run", "--config", str(config)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)


def test_kill_9_mid_stream_loses_nothing_and_duplicates_nothing(tmp_path, venue_ca, broker, analyzer,
                                                                 faces_dir):
    pl = playlist(tmp_path / "door.txt", [(p, 4) for p in PROBES])
    path = write_config(tmp_path / "door-1.toml", unit_tables(tmp_path, venue_ca, broker, "door-1", pl,
                                                               camera={"fps": 8.0}))
    cfg = load_config(path, EdgeConfig)
    install_gallery(cfg, *enroll(analyzer, {d: [sorted((faces_dir / p).iterdir())[0]]
                                            for d, p in KNOWN.items()}))
    ctl = ControllerStandIn(venue_ca, broker, acking=False)  # acks held back: events stay in the outbox
    log = open(tmp_path / "unit.log", "wb")  # noqa: SIM115
    try:
        proc = start(path, log)
        assert ctl.wait_for(lambda c: len(c.checkins) >= 2, timeout=90), (tmp_path / "unit.log").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The broker publishes the unit's last will: a signed, retained "offline" status.
        assert ctl.wait_for(lambda c: any(s.state is wire.UnitState.OFFLINE for s in c.statuses), timeout=30)
        received_run1 = set(ctl.checkins)
        committed = stored_events(cfg.unit.data_dir / "outbox.db")  # what run 1 had committed
        ctl.acking = True
        proc = start(path, log)
        # Run 2 (a new boot id) replays the stream again: a restarted unit has forgotten whom it saw.
        assert ctl.wait_for(lambda c: len(c.checkins) >= len(committed) + len(PROBES), timeout=120)
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0  # clean stop on SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        ctl.close()
    (boot1,) = {b for b, _ in committed}
    assert sorted(s for _, s in committed) == list(range(1, len(committed) + 1))  # gapless, none reused
    assert received_run1 <= {("door-1", b, s) for b, s in committed}  # published only after commit
    run1 = {k: m for k, m in ctl.checkins.items() if k[1] == boot1}
    run2 = {k: m for k, m in ctl.checkins.items() if k[1] != boot1}
    assert {(k[1], k[2]) for k in run1} == set(committed)  # every committed event arrived: none lost
    for (b, seq), body in committed.items():  # a re-sent event is the same event
        assert (run1[("door-1", b, seq)].delegate_id, run1[("door-1", b, seq)].mono_ms) == body
    assert len({k[1] for k in run2}) == 1 and sorted(k[2] for k in run2) == list(range(1, len(PROBES) + 1))
    assert sorted(m.delegate_id for m in run2.values()) == sorted(KNOWN)
    assert ctl.deliveries >= len(ctl.checkins)  # at least once on the wire, once in the store
    assert stored_events(cfg.unit.data_dir / "outbox.db") == {}  # every event acknowledged


def stored_events(db_path) -> dict:
    """(boot, seq) -> (delegate, mono_ms) of the events in a unit's outbox, read as a bystander."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT boot_id, seq, payload FROM events").fetchall()
    finally:
        db.close()
    out = {}
    for boot, seq, payload in rows:
        body = json.loads(payload)["body"]
        out[(boot, seq)] = (body["delegate_id"], body["mono_ms"])
    return out


def test_selftest_reports_each_part(tmp_path, venue_ca, broker, capsys, faces_dir):
    pl = playlist(tmp_path / "door.txt", [("single/obama_240p.jpg", 1)])
    path = write_config(tmp_path / "door-1.toml", unit_tables(tmp_path, venue_ca, broker, "door-1", pl))
    assert main(["edge", "selftest", "--config", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    status = {c["name"]: c["status"] for c in out["checks"]}
    assert status["camera"] == status["models"] == status["broker"] == status["gpio"] == "pass"
    assert status["keys"] == status["outbox"] == "pass"
    assert status["gallery"] == "warn" and status["clock"] in ("pass", "warn")
    assert "1 face(s)" in next(c["detail"] for c in out["checks"] if c["name"] == "models")
    broker.stop()
    (tmp_path / "door.txt").unlink()
    assert main(["edge", "selftest", "--config", str(path)]) == 1
    text = capsys.readouterr().out
    assert "FAIL  camera" in text and "FAIL  broker" in text and "fix:" in text
    # A stored gallery sealed to another unit's key (wrong card): named, with the fix.
    from congress import gallery_crypto, gallery_keys

    other = gallery_keys.read_public(venue_ca.unit("door-2").gallery_pub)
    plain = gallery_crypto.encode(["D-1"], np.ones((1, 128), np.float32))
    blobs = gallery_crypto.seal_parts(other, venue_ca.venue, "door-1", 2, [plain])
    (tmp_path / "door-1-data" / "gallery.sealed").write_bytes(gallery_crypto.pack(blobs))
    assert main(["edge", "selftest", "--config", str(path)]) == 1
    text = capsys.readouterr().out
    assert "FAIL  gallery  stored gallery does not open" in text and "flash the unit again" in text


def test_systemd_ready_watchdog_and_stopping(tmp_path, venue_ca, broker, analyzer, faces_dir):
    import socket

    pl = playlist(tmp_path / "door.txt", [("single/obama_240p.jpg", 2), ("no_face/coins.jpg", 2)])
    path = write_config(tmp_path / "door-1.toml", unit_tables(tmp_path, venue_ca, broker, "door-1", pl,
                                                               camera={"loop": True}))
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(60)
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="1000000")
    with open(tmp_path / "unit.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "congress", "edge", "run", "--config", str(path)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            seen: list[str] = []
            while seen.count("WATCHDOG=1") < 2:
                seen += sock.recv(4096).decode().split("\n")
            assert seen[0] == "READY=1" and any(s.startswith("STATUS=door north ready") for s in seen)
            proc.send_signal(signal.SIGTERM)
            while "STOPPING=1" not in seen:
                seen += sock.recv(4096).decode().split("\n")
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()


def test_restart_command_exits_for_systemd_to_restart(tmp_path, venue_ca, broker, faces_dir):
    pl = playlist(tmp_path / "door.txt", [("no_face/coins.jpg", 1)])
    path = write_config(tmp_path / "door-1.toml", unit_tables(tmp_path, venue_ca, broker, "door-1", pl,
                                                               camera={"loop": True}))
    ctl = ControllerStandIn(venue_ca, broker)
    with open(tmp_path / "unit.log", "wb") as log:
        proc = start(path, log)
        try:
            ready = wire.UnitState.READY
            assert ctl.wait_for(lambda c: any(s.state is ready for s in c.statuses), timeout=60)
            boot = next(s.boot for s in ctl.statuses if s.state is ready)
            ctl.publish(wire.UnitCommand(venue=venue_ca.venue, unit="door-1", boot=ctl.counter.boot,
                                         seq=ctl.counter.next(), unit_boot=boot,
                                         command=wire.Command.RESTART))
            assert proc.wait(30) == 75  # not 0: systemd's Restart=on-failure starts it again
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            ctl.close()

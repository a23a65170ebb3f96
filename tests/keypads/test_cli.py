"""``congress keypads pair`` and ``congress keypads simulate`` as a technician runs them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from congress.cli import main
from congress.keypads.keystore import KeyStore
from controller.voting.keypad_reader import KeypadReader
from controller.voting.tables import BallotKind

from .conftest import wait_for


def test_pair_writes_a_private_key_file_and_adds(tmp_path, capsys):
    path = tmp_path / "keys.json"
    assert main(["keypads", "pair", "--keys", str(path), "--count", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["keypads"] == 20 and stat.S_IMODE(path.stat().st_mode) == 0o600
    before = KeyStore.load(path).key(3)
    assert main(["keypads", "pair", "--keys", str(path), "--count", "5"]) == 2  # refuses to overwrite
    assert "exists" in capsys.readouterr().err
    assert main(["keypads", "pair", "--keys", str(path), "--add", "0", "--json"]) == 2
    assert main(["keypads", "pair", "--keys", str(path), "--add", "3", "21", "--json"]) == 0
    after = KeyStore.load(path)
    assert len(after) == 21 and after.key(3) != before


def test_simulate_votes_through_the_reader_and_keeps_counters(tmp_path, kdb, ballots):
    keys_path = tmp_path / "keys.json"
    assert main(["keypads", "pair", "--keys", str(keys_path), "--count", "20"]) == 0
    keys = KeyStore.load(keys_path)
    link = tmp_path / "base.tty"
    bid = ballots.create("CLI motion", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"1": [1], "2": [2], "3": [3], "19": [1]}))

    def run():
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        return subprocess.Popen(
            [sys.executable, "-m", "congress", "keypads", "simulate", "--keys", str(keys_path), "--pty",
             "--link", str(link), "--vote", str(bid), "--plan", str(plan), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    for round_ in (1, 2):
        proc = run()
        first = json.loads(proc.stdout.readline())
        assert first["port"].startswith("/dev/pts/") and first["keypads"] == 20
        wait_for(link.exists, what="pty link")
        reader = KeypadReader(str(link), keys, kdb, ballots, retry_s=0.05).start()
        try:
            out, err = proc.communicate(timeout=60)
        finally:
            reader.stop()
        report = json.loads(out.strip().splitlines()[-1])
        assert proc.returncode == 0, err
        assert report["sent"] == report["acked"] == 4
        # The second run continues the counters, so its frames are not replays; the same choices
        # again in a named ballot are simply accepted (no change).
        assert report["statuses"] == {"accepted": 3, "not_eligible": 1}, round_
        assert all(len(code) == 4 for code in report["receipts"].values())
    counters = json.loads((tmp_path / "keys.json.counters.json").read_text())
    assert counters["1"] == 2
    assert ballots.progress(bid)["received"] == 3


@pytest.mark.parametrize("args", [["--keypads", "99"], []])
def test_simulate_refuses_bad_arguments(tmp_path, args, capsys):
    keys_path = tmp_path / "keys.json"
    main(["keypads", "pair", "--keys", str(keys_path), "--count", "3"])
    assert main(["keypads", "simulate", "--keys", str(keys_path), *args]) == 2
    assert "error" in capsys.readouterr().err


def test_assign_by_seat_plan_and_health(tmp_path, capsys):
    from controller import audit
    from controller.storage import migrate
    from controller.storage.database import Database
    from controller.storage.tables import AuditEntry, Delegate

    data = tmp_path / "data"
    cfg = tmp_path / "controller.toml"
    cfg.write_text(f"""data_dir = "{data}"
[venue]
id = "test-venue"
[database]
url = "sqlite:///{tmp_path}/c.db"
[broker]
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "c.key"
""")
    db = Database(f"sqlite:///{tmp_path}/c.db", info={audit.INFO_KEY: audit.load_key(data)})
    migrate.upgrade(db)
    with db.session() as s:
        s.add_all([Delegate(id=f"d{i}", name=f"D {i}", seat=f"A{i}") for i in range(1, 4)])
    seats = tmp_path / "seats.csv"
    seats.write_text("seat,keypad\nA1,11\nA2,12\nA9,19\nA3,x\nA3,11\n")
    assert main(["keypads", "assign", "--config", str(cfg), "--seats", str(seats), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["bound"] == 2
    assert {p["row"] for p in out["problems"] if "row" in p} == {5, 6}
    assert any(p.get("seat") == "A9" for p in out["problems"])
    with db.session() as s:
        assert len(s.query(AuditEntry).filter_by(action="keypad.bind").all()) == 2
    db.dispose()
    assert main(["keypads", "health", "--config", str(cfg), "--json"]) == 0
    health = json.loads(capsys.readouterr().out)
    assert [k["keypad_id"] for k in health["keypads"]] == [11, 12]
    assert health["keypads"][0]["alarm"] == "never heard" and health["alarms"] == 2

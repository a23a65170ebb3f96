"""``congress controller migrate|user`` and ``congress audit verify`` through the real command line."""

from __future__ import annotations

import io
import json

from sqlalchemy import text

from congress.cli import main
from congress.config import load_config
from congress.config.controller import ControllerConfig
from controller import audit
from controller.app import open_database
from tests.controller.conftest import FAST_HASH


def write_config(tmp_path, url):
    p = tmp_path / "controller.toml"
    p.write_text(
        f"""data_dir = "data"
[venue]
id = "test-venue"
[database]
url = "{url}"
[broker]
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "c.key"
[security]
argon2_memory_kib = {FAST_HASH["memory_kib"]}
argon2_time_cost = {FAST_HASH["time_cost"]}
"""
    )
    return str(p)


def test_migrate_users_and_audit_verify(tmp_path, storage_url, capsys, monkeypatch):
    cfg = write_config(tmp_path, storage_url)
    assert main(["controller", "migrate", "--config", cfg, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["to"] is not None
    assert main(["controller", "migrate", "--config", cfg]) == 0  # idempotent

    monkeypatch.setattr("sys.stdin", io.StringIO("a good long password\n"))
    assert (
        main(["controller", "user", "add", "ana", "--role", "chair", "--password-stdin", "--config", cfg])
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        main(["controller", "user", "add", "bo", "--role", "admin", "--password-stdin", "--config", cfg]) == 1
    )
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setenv("CONGRESS_NEW_PASSWORD", "another long password")
    assert main(["controller", "user", "add", "cy", "--role", "observer", "--config", cfg]) == 0
    assert main(["controller", "user", "disable", "cy", "--config", cfg]) == 0
    capsys.readouterr()
    assert main(["controller", "user", "list", "--config", cfg, "--json"]) == 0
    users = json.loads(capsys.readouterr().out)["users"]
    assert users == [
        {"name": "ana", "role": "chair", "active": True},
        {"name": "cy", "role": "observer", "active": False},
    ]

    assert main(["audit", "verify", "--config", cfg, "--json"]) == 0
    good = json.loads(capsys.readouterr().out)
    assert good["ok"] and good["rows"] == 3

    db = open_database(load_config(cfg, ControllerConfig))  # same audit key file as the command
    try:
        with db.engine.begin() as c:
            audit.drop_append_only_guard(c)  # an attacker with full database rights
            c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
        with db.session() as s:
            assert audit.verify(s).first_bad_seq == 2
    finally:
        db.dispose()
    assert main(["audit", "verify", "--config", cfg, "--json"]) == 3
    bad = json.loads(capsys.readouterr().out)
    assert not bad["ok"] and bad["first_bad_seq"] == 2
    assert main(["audit", "verify", "--config", cfg]) == 3
    assert "BROKEN at row 2" in capsys.readouterr().out


def test_password_never_from_argv():
    from congress.cli import build_parser

    help_text = build_parser().parse_args(
        ["controller", "user", "add", "x", "--role", "admin", "--config", "c"]
    )
    assert not hasattr(help_text, "password")


def test_bench_live_delivers_every_event(capsys):
    assert (
        main(["controller", "bench-live", "--clients", "3", "--events", "5", "--rate", "50", "--json"]) == 0
    )
    r = json.loads(capsys.readouterr().out)
    assert r["delivered"] == r["expected"] == 15 and r["lost"] == 0
    assert r["p99_ms"] >= r["p50_ms"] > 0


def test_run_serves_until_sigterm(tmp_path):
    import signal
    import subprocess
    import sys
    import urllib.request

    from congress.broker import free_port

    port = free_port()
    cfg = write_config(tmp_path, f"sqlite:///{tmp_path}/run.db")
    with open(cfg, "a") as f:
        f.write(f"[web]\nport = {port}\n")
    exe = [sys.executable, "-m", "congress"]
    refused = subprocess.run(
        [*exe, "controller", "run", "--config", cfg, "--no-ingest"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "congress controller migrate" in refused.stderr
    assert main(["controller", "migrate", "--config", cfg]) == 0
    with subprocess.Popen(
        [*exe, "controller", "run", "--config", cfg, "--no-ingest"], stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            for line in proc.stderr:
                if "controller page at" in line:
                    break
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as r:
                assert r.status == 200 and b"csrf-token" in r.read()
                assert r.headers["X-Frame-Options"] == "DENY"
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0


def test_upgrading_an_older_database_is_recorded_and_keeps_the_chain_verifiable(tmp_path, capsys):
    """A database from before the sealed audit head (revision 0017) has an unsealed head after the
    upgrade; the migrate command records the upgrade in the audit trail, which seals it, so
    ``congress audit verify`` holds right after (before, it reported the chain broken)."""
    from alembic import command

    from controller import audit
    from controller.storage import migrate

    cfg = write_config(tmp_path, f"sqlite:///{tmp_path}/old.db")
    assert main(["controller", "migrate", "--config", cfg]) == 0
    db = open_database(load_config(cfg, ControllerConfig))
    try:
        with db.session() as s:
            audit.record(s, "t", "test.before", {"n": 1})
        with db.engine.begin() as conn:
            command.downgrade(migrate._config(conn), "0016")  # as a venue's database of last month
    finally:
        db.dispose()
    capsys.readouterr()
    assert main(["controller", "migrate", "--config", cfg, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["from"] == "0016"
    assert main(["audit", "verify", "--config", cfg, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"]
    db = open_database(load_config(cfg, ControllerConfig))
    try:
        with db.session() as s:
            last = audit.recent(s, limit=1)[0]
        assert last.action == "storage.migrate" and json.loads(last.detail)["from"] == "0016"
    finally:
        db.dispose()

"""Cutting the audit chain short is detected: the sealed head and the anchor outside the database.

The attacker has full rights on the database (SQLite and PostgreSQL) but not the audit key or the
data directory: they delete the newest rows and rewind the head row to the row before, or delete
everything. ``congress audit verify`` must say so.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from congress.cli import main
from congress.config import load_config
from congress.config.controller import ControllerConfig
from controller import audit
from controller.app import open_database
from controller.audit import anchor
from controller.storage import migrate
from tests.controller.test_controller_cli import write_config


def configured(tmp_path, storage_url):
    cfg = write_config(tmp_path, storage_url)
    db = open_database(load_config(cfg, ControllerConfig))
    migrate.upgrade(db)
    return cfg, db


def fill(db, n: int) -> None:
    for i in range(n):  # one commit each, as the page's requests do
        with db.session() as s:
            audit.record(s, "admin", "test.action", {"i": i})


def as_attacker(db, *sql: str) -> None:
    with db.engine.begin() as c:
        audit.drop_append_only_guard(c)
        for statement in sql:
            c.execute(text(statement))


def verify_cli(cfg, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["audit", "verify", "--config", cfg, "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_deleting_the_newest_rows_and_rewinding_the_head_is_detected(tmp_path, storage_url, capsys):
    cfg, db = configured(tmp_path, storage_url)
    try:
        fill(db, 6)
        assert verify_cli(cfg, capsys) == (0, {"ok": True, "rows": 6, "first_bad_seq": None, "reason": ""})
        with db.session() as s:
            keep = s.execute(text("SELECT row_hash FROM audit_log WHERE seq = 4")).scalar_one()
        as_attacker(db, "DELETE FROM audit_log WHERE seq > 4",
                    f"UPDATE audit_head SET seq = 4, last_hash = '{keep}'")
        code, out = verify_cli(cfg, capsys)
        assert code == 3 and not out["ok"] and "seal" in out["reason"]
        # Even with the head's old seal put back (read from an earlier copy), the anchor still names row 6.
        with db.session() as s:
            mac = anchor.seal(s.info[audit.INFO_KEY], 4, keep)
        as_attacker(db, f"UPDATE audit_head SET head_mac = '{mac}'")
        code, out = verify_cli(cfg, capsys)
        assert code == 3 and out["first_bad_seq"] == 5 and "anchor" in out["reason"]
    finally:
        db.dispose()


def test_deleting_everything_is_an_error_not_an_empty_chain(tmp_path, storage_url, capsys):
    cfg, db = configured(tmp_path, storage_url)
    try:
        fill(db, 3)
        as_attacker(db, "DELETE FROM audit_log", "DELETE FROM audit_head")
        code, out = verify_cli(cfg, capsys)
        assert code == 3 and out["rows"] == 0 and "chain is empty" in out["reason"]
        # The controller writing again afterwards starts a new chain; the anchor does not follow it.
        fill(db, 1)
        code, out = verify_cli(cfg, capsys)
        assert code == 3 and "anchor" in out["reason"]
    finally:
        db.dispose()


def test_the_anchor_follows_commits_only_and_never_goes_back(tmp_path, storage_url):
    _, db = configured(tmp_path, storage_url)
    path = tmp_path / "data" / anchor.ANCHOR_FILE
    try:
        fill(db, 2)
        assert anchor.read(path).seq == 2
        try:
            with db.session() as s:
                audit.record(s, "admin", "doomed", {})
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert anchor.read(path).seq == 2  # a rolled-back row never reaches the anchor
        assert not anchor.advance(path, b"k" * 32, 1, "0" * 64)  # never backwards
        with db.session() as s:
            head = audit.head(s)
            assert head.seq == 2 and audit.fingerprint(s) == head.fingerprint
        assert json.loads(path.read_text())["fingerprint"] == head.fingerprint
    finally:
        db.dispose()


def test_a_printed_fingerprint_is_checked(tmp_path, storage_url, capsys):
    cfg, db = configured(tmp_path, storage_url)
    try:
        fill(db, 3)
        with db.session() as s:
            printed = audit.fingerprint(s)  # as on the minutes of a ballot closed now
        fill(db, 2)
        assert verify_cli(cfg, capsys, "--expect", printed)[0] == 0
        wrong = printed[:-1] + ("0" if printed[-1] != "0" else "1")
        code, out = verify_cli(cfg, capsys, "--expect", wrong)
        assert code == 3 and "fingerprint" in out["reason"]
        assert main(["audit", "verify", "--config", cfg, "--expect", "nonsense"]) == 1
    finally:
        db.dispose()


def test_a_replaced_anchor_file_is_refused(tmp_path, storage_url, capsys):
    cfg, db = configured(tmp_path, storage_url)
    try:
        fill(db, 2)
        path = tmp_path / "data" / anchor.ANCHOR_FILE
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "seq": 1}))  # without the key, the seal cannot follow
        code, out = verify_cli(cfg, capsys)
        assert code == 3 and "seal" in out["reason"]
    finally:
        db.dispose()


def test_the_fingerprint_kept_at_a_ballot_close_is_checked_by_verify(app, client, login_as):
    from controller.voting.tables import BallotKind

    login_as("observer")
    svc = app.extensions["congress"]
    bid = svc.ballots.create("Adopt the agenda", BallotKind.MOTION, actor="test")
    svc.ballots.open(bid, actor="test", allow_without_quorum=True)
    svc.ballots.close(bid, actor="test")
    kept = svc.ballots.get(bid).result["audit_head"]
    with svc.db.session() as s:
        audit.record(s, "test", "later.action", {})  # the chain goes on after the close
    with svc.db.session() as s:
        assert audit.verify(s, expect=kept["fingerprint"]).ok
        wrong = kept["fingerprint"][:-1] + ("0" if kept["fingerprint"][-1] != "0" else "1")
        assert not audit.verify(s, expect=wrong).ok
    assert kept["fingerprint"] in client.get(f"/ballots/{bid}").get_data(as_text=True)

"""Audit chain on both backends: appends verify, raw-SQL tampering is found at the right row."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from controller import audit
from controller.storage.database import Database


def _fill(db, n=5):
    with db.session() as s:
        for i in range(n):
            audit.record(s, "admin", "test.action", {"i": i})


def _verify(db):
    with db.session() as s:
        return audit.verify(s)


def test_chain_verifies(db):
    _fill(db)
    r = _verify(db)
    assert r.ok and r.rows == 5 and r.first_bad_seq is None


def test_rollback_leaves_no_gap(db):
    _fill(db, 2)
    try:
        with db.session() as s:
            audit.record(s, "admin", "doomed", {})
            raise RuntimeError("abort the transaction")
    except RuntimeError:
        pass
    _fill(db, 1)
    assert _verify(db).ok and _verify(db).rows == 3


def tamper(db, sql, params=None):
    """Act as an attacker with full database rights: drop the append-only triggers, then edit."""
    with db.engine.begin() as c:
        audit.drop_append_only_guard(c)
        c.execute(text(sql), params or {})


def test_database_refuses_update_and_delete(db):
    _fill(db, 2)
    for sql in ("UPDATE audit_log SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as c:
            c.execute(text(sql))
    assert _verify(db).ok and _verify(db).rows == 2


def test_updated_row_is_detected(db):
    _fill(db)
    tamper(db, "UPDATE audit_log SET detail = :d WHERE seq = 3", {"d": json.dumps({"i": 99})})
    r = _verify(db)
    assert not r.ok and r.first_bad_seq == 3 and "altered" in r.reason


def test_deleted_row_is_detected(db):
    _fill(db)
    tamper(db, "DELETE FROM audit_log WHERE seq = 2")
    r = _verify(db)
    assert not r.ok and r.first_bad_seq == 2


def test_deleted_newest_row_is_detected(db):
    _fill(db)
    tamper(db, "DELETE FROM audit_log WHERE seq = 5")
    r = _verify(db)
    assert not r.ok and r.first_bad_seq == 5


def test_recomputed_plain_hash_does_not_pass(db):
    """An attacker who rewrites actor and patches row_hash without the key is still caught."""
    _fill(db)
    tamper(db, "UPDATE audit_log SET actor = 'mallory', row_hash = :h WHERE seq = 4", {"h": "f" * 64})
    assert _verify(db).first_bad_seq == 4


def test_wrong_key_fails_at_first_row(db, storage_url):
    _fill(db, 2)
    other = Database(storage_url, info={audit.INFO_KEY: b"k" * 32})
    try:
        with other.session() as s:
            assert audit.verify(s).first_bad_seq == 1
    finally:
        other.dispose()


def test_concurrent_writers_form_one_chain(db):
    errors = []

    def worker(k):
        try:
            for i in range(10):
                with db.session() as s:
                    audit.record(s, f"w{k}", "concurrent", {"i": i})
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,), name=f"audit-w{k}") for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    r = _verify(db)
    assert r.ok and r.rows == 40


def test_key_file_is_created_private(tmp_path, monkeypatch):
    monkeypatch.delenv("CONGRESS_AUDIT_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    k1 = audit.load_key(tmp_path)
    assert len(k1) == 32 and audit.load_key(tmp_path) == k1
    assert (tmp_path / "audit.key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("CONGRESS_AUDIT_KEY", "ab" * 32)
    assert audit.load_key(tmp_path) == b"\xab" * 32

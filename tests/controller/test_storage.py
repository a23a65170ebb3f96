"""Storage on both backends: migrations reach the models, SQLite pragmas, UTC timestamps, URLs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from congress.errors import ConfigError
from controller.storage import migrate
from controller.storage.database import Database, normalise_url, utcnow
from controller.storage.tables import Role, User, WebSession


def test_migrations_reach_the_models(db):
    assert migrate.current(db) == migrate.head()
    assert migrate.pending_changes(db) == [], (
        "a model change has no migration: python -m controller.storage.migrate")
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "web_sessions", "audit_log", "audit_head", "unit_health"} <= tables


def test_migrate_twice_is_a_no_op(db):
    again = migrate.upgrade(db)
    assert again == {"from": migrate.head(), "to": migrate.head()}


def test_utc_timestamps_round_trip(db):
    when = dt.datetime(2026, 5, 1, 10, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with db.session() as s:
        s.add(User(name="ana", role=Role.CHAIR, password_hash="x", created_at=when))
    with db.session() as s:
        u = s.scalars(select(User)).one()
        assert u.created_at == when and u.created_at.tzinfo is not None
        assert u.created_at.utcoffset() == dt.timedelta(0)
        assert u.role is Role.CHAIR


def test_naive_timestamps_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"), db.session() as s:
        s.add(User(name="bo", role=Role.ADMIN, password_hash="x", created_at=dt.datetime(2026, 1, 1)))
        s.flush()


def test_foreign_keys_are_enforced(db):
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(WebSession(id="a" * 64, user_id=999, csrf_token="t", created_at=utcnow()))
        s.flush()


def test_unique_names(db):
    with db.session() as s:
        s.add(User(name="cy", role=Role.OBSERVER, password_hash="x"))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(User(name="cy", role=Role.ADMIN, password_hash="y"))


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    d = Database(f"sqlite:///{tmp_path}/w.db")
    try:
        with d.engine.connect() as c:
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        d.dispose()


def test_urls():
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="only SQLite and PostgreSQL"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="not a database URL"):
        normalise_url("not a url")


def test_upgrade_keeps_existing_rows(storage_url, audit_key):
    """An older database with data is upgraded in place (0003 -> head adds non-null columns)."""
    from controller import audit

    d = Database(storage_url, info={audit.INFO_KEY: audit_key})
    try:
        assert migrate.upgrade(d, "0003") == {"from": None, "to": "0003"}
        with d.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO unit_health (unit_id, online, boot_id, outbox_depth, versions, detail, "
                    "alarm) VALUES ('door-9', true, 'b', 4, '{}', '{}', '')"
                )
            )
        assert migrate.upgrade(d)["to"] == migrate.head()
        assert migrate.pending_changes(d) == []
        with d.engine.connect() as c:
            row = c.execute(text("SELECT state, last_seq, outbox_depth FROM unit_health")).one()
        assert tuple(row) == ("", 0, 4)
    finally:
        d.dispose()

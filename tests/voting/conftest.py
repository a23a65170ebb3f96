"""Voting fixtures: a migrated database on SQLite and PostgreSQL, a roster with check-ins and keypads.

PostgreSQL comes from the controller tests' ``PgServer`` (the local server when reachable, else a
private one started with initdb/pg_ctl); this area uses its own database, dropped at the end.
"""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

import pytest

from controller import audit
from controller.checkins.attendance import Passing, apply_checkins
from controller.storage import migrate
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, Passage

_spec = importlib.util.spec_from_file_location(
    "congress_controller_test_support", Path(__file__).resolve().parents[1] / "controller" / "conftest.py"
)
_support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_support)


@pytest.fixture(scope="session")
def voting_pg(tmp_path_factory):
    server = _support.PgServer(tmp_path_factory.mktemp("pg-voting"))
    server.start()
    name = f"congress_voting_{secrets.token_hex(4)}"
    server.create_database(name)
    try:
        yield server, server.url(name)
    finally:
        server.drop_database(name)
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/voting.db"
    else:
        server, url = request.getfixturevalue("voting_pg")
        server.reset_schema(url)
    database = Database(url, info={audit.INFO_KEY: secrets.token_bytes(32)})
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/voting.db", info={audit.INFO_KEY: secrets.token_bytes(32)})
    migrate.upgrade(database)
    yield database
    database.dispose()


class Roster:
    """Delegates d001..dNNN in seats S001..; check-ins through the attendance module."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._seq = 0

    def add(self, n: int, *, summoned: bool = True) -> list[str]:
        ids = []
        with self.db.session() as s:
            for i in range(n):
                did = f"d{i + 1:04d}"
                s.add(Delegate(id=did, name=f"Delegate {i + 1}", seat=f"S{i + 1:04d}", summoned=summoned))
                ids.append(did)
        return ids

    def check_in(self, ids, passage: Passage = Passage.IN) -> None:
        with self.db.session() as s:
            events = []
            for did in ids:
                self._seq += 1
                events.append(Passing(self._seq, did, passage, utcnow(), "door-1"))
            apply_checkins(s, events)


@pytest.fixture
def roster(db):
    return Roster(db)


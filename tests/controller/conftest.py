"""Controller test fixtures: storage on SQLite and PostgreSQL, the Flask app and a logged-in client.

``storage_url`` is parametrised over ``sqlite`` and ``postgresql``; ``db`` is a migrated
:class:`controller.db.Database` on it. PostgreSQL is :class:`PgServer`: the server on 127.0.0.1:5432
when reachable, else a private one started with initdb/pg_ctl on a free port. Each pytest
process works in its own database, created at start and dropped at the end; each test gets an empty
``public`` schema.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from controller import audit, migrate
from controller.db import Database

BACKENDS = ("sqlite", "postgresql")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
LOCAL_PG = os.environ.get("CONGRESS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


class PgServer:
    """A PostgreSQL server for the tests: the local one if it answers, else a private one."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port: int | None = None
        self.private = False
        self._run_as: list[str] = []

    def _admin_url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        try:
            psycopg.connect(LOCAL_PG, connect_timeout=3).close()
            self.port, self._admin_db = 5432, "test"
            return
        except psycopg.OperationalError:
            pass
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"no PostgreSQL reachable and no initdb in {PG_BIN}; install postgresql")
        self.private, self._admin_db = True, "postgres"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if run_as:
            # pytest's temporary directories are private to root; the server runs as postgres.
            self.workdir = Path(tempfile.mkdtemp(prefix="congress-pg-"))
            shutil.chown(self.workdir, "postgres")
        data = self.workdir / "data"
        subprocess.run(
            [
                *run_as,
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        opts = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *run_as,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-w",
                "-l",
                str(self.workdir / "log"),
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self._run_as = run_as

    def stop(self) -> None:
        if self.private:
            subprocess.run(
                [
                    *self._run_as,
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.workdir / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                check=False,
                capture_output=True,
            )

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> None:
        with psycopg.connect(self._admin_url(self._admin_db), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self._admin_url(self._admin_db), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def reset_schema(self, url: str) -> None:
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as c:
            c.execute("DROP SCHEMA public CASCADE")
            c.execute("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> Iterator[PgServer]:
    server = PgServer(tmp_path_factory.mktemp("pg"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_database(pg_server) -> Iterator[str]:
    """A private database for this pytest process; its URL."""
    name = f"congress_test_{secrets.token_hex(4)}"
    pg_server.create_database(name)
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def storage_url(request, tmp_path) -> str:
    """A URL of an empty database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/congress.db"
    url = request.getfixturevalue("pg_database")
    request.getfixturevalue("pg_server").reset_schema(url)
    return url


@pytest.fixture
def audit_key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def db(storage_url, audit_key) -> Iterator[Database]:
    """A migrated database (both backends) whose sessions carry an audit key."""
    database = Database(storage_url, info={audit.INFO_KEY: audit_key})
    migrate.upgrade(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sqlite_db(tmp_path, audit_key) -> Iterator[Database]:
    """A migrated SQLite database only (for the web tests that need no second backend)."""
    database = Database(f"sqlite:///{tmp_path}/web.db", info={audit.INFO_KEY: audit_key})
    migrate.upgrade(database)
    try:
        yield database
    finally:
        database.dispose()

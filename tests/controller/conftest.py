"""Controller test fixtures: storage on SQLite and PostgreSQL, the Flask app and a logged-in client.

``storage_url`` is parametrised over ``sqlite`` and ``postgresql``; ``db`` is a migrated
:class:`controller.storage.database.Database` on it. PostgreSQL is :class:`PgServer`: the server on
127.0.0.1:5432
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

from controller import audit
from controller.storage import migrate
from controller.storage.database import Database

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
        self.start_private()

    def start_private(self, extra: str = "") -> None:
        """A private server on a free port whatever else runs; ``extra`` adds server options (tests
        that need their own settings, e.g. ``-c wal_level=logical``, never touch a shared server)."""
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
        opts = f"{opts} {extra}".strip()
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


# --- the web app -------------------------------------------------------------------------------------

PASSWORD = "correct horse battery"
#: Cheaper Argon2 parameters for the web tests (the real profile is exercised by tests of auth itself).
FAST_HASH = {"memory_kib": 8192, "time_cost": 1}


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One Argon2 hash of :data:`PASSWORD`, computed once (hashing is slow on purpose)."""
    from controller.accounts.auth import make_hasher

    return make_hasher(**FAST_HASH).hash(PASSWORD)


def controller_config(tmp_path, **overrides):
    """A ControllerConfig for tests (broker files need not exist unless the ingest runs)."""
    from congress.config import parse_config
    from congress.config.controller import ControllerConfig

    data = {
        # English pages: most tests read English text; tests of the Vietnamese pages ask for "vi".
        "venue": {"id": "test-venue", "name": "Test Congress", "language": "en"},
        "broker": {"ca_file": "ca.pem", "cert_file": "c.pem", "key_file": "c.key"},
        "data_dir": str(tmp_path / "data"),
        "security": {
            "argon2_memory_kib": FAST_HASH["memory_kib"],
            "argon2_time_cost": FAST_HASH["time_cost"],
        },
    }
    for key, value in overrides.items():
        data[key] = value
    return parse_config(data, ControllerConfig)


@pytest.fixture
def app(sqlite_db, tmp_path, password_hash, venue_ca):
    """The controller app on SQLite with one account per role, named after the role; its CA folder is
    the test venue CA (the badge sheet signs with the controller key there)."""
    from controller.app import create_app
    from controller.storage.tables import Role, User

    with sqlite_db.session() as s:
        for role in Role:
            s.add(User(name=role.value, role=role, password_hash=password_hash))
    cfg = controller_config(tmp_path, ca_dir=str(venue_ca.dir))
    return create_app(cfg, {"TESTING": True}, db=sqlite_db)


@pytest.fixture
def client(app):
    c = app.test_client()
    c.environ_base["wsgi.url_scheme"] = "https"  # cookies are Secure
    return c


def page_csrf(client, path: str = "/login") -> str:
    """The CSRF token a page carries in its ``<meta name="csrf-token">``."""
    import re

    html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, f"{path} has no CSRF meta tag"
    return m.group(1)


def login(client, name: str, password: str = PASSWORD):
    """Log ``client`` in; return the response of the login POST."""
    token = page_csrf(client, "/login")
    return client.post("/login", data={"csrf_token": token, "name": name, "password": password})


@pytest.fixture
def login_as(client):
    """``login_as(role)`` logs the test client in and returns the session's CSRF token."""

    def do(name: str) -> str:
        r = login(client, name)
        assert r.status_code == 302, r.get_data(as_text=True)
        return page_csrf(client, "/")

    return do


def read_badge_codes(pdf_path, tmp_path, dpi: int = 200) -> list[str]:
    """Render the first page of a badge sheet as a printer would and read each card's QR code on its
    own, as a door camera sees one badge at a time (OpenCV's ArUco-based decoder, as the door units)."""
    import subprocess

    import cv2

    from controller.delegates import badges as b

    stem = tmp_path / "badge-page"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1", str(pdf_path),
                    str(stem)], check=True)
    page = cv2.imread(str(next(tmp_path.glob("badge-page*.png"))), cv2.IMREAD_GRAYSCALE)
    scale = dpi / 72
    left, bottom = (b.PAGE_W - b.COLS * b.CARD_W) / 2, (b.PAGE_H - b.ROWS * b.CARD_H) / 2
    found = []
    for row in range(b.ROWS):
        for col in range(b.COLS):
            x0 = int((left + col * b.CARD_W) * scale)
            y0 = int((b.PAGE_H - bottom - (row + 1) * b.CARD_H) * scale)
            card = page[y0 : y0 + int(b.CARD_H * scale), x0 : x0 + int(b.CARD_W * scale)]
            text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(card)
            if text:
                found.append(text)
    return found

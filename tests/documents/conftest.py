"""Programme and documents fixtures: a migrated database on SQLite and PostgreSQL with a roster, the
controller app with one account per role, badge tokens for delegates, and a library on disk.

PostgreSQL comes from the controller tests' ``PgServer`` (the local server when reachable, else a
private one); this area uses its own database, its schema emptied for each test.
"""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

import pytest

from controller import audit
from controller.storage import migrate
from controller.storage.database import Database
from controller.storage.tables import Delegate

_spec = importlib.util.spec_from_file_location(
    "congress_controller_test_support_documents",
    Path(__file__).resolve().parents[1] / "controller" / "conftest.py",
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

DELEGATES = [
    ("D-0001", "Nguyễn Văn An", "Hà Nội"),
    ("D-0002", "Trần Thị Bình", "Hà Nội"),
    ("D-0003", "Lê Hoàng Cường", "Đà Nẵng"),
    ("D-0004", "Phạm Thị Dung", "Huế"),
    ("D-0005", "Đặng Quốc Ê", "Huế"),
]


@pytest.fixture(scope="session")
def documents_pg(tmp_path_factory):
    server = support.PgServer(tmp_path_factory.mktemp("pg-documents"))
    server.start()
    name = f"congress_documents_{secrets.token_hex(4)}"
    server.create_database(name)
    try:
        yield server, server.url(name)
    finally:
        server.drop_database(name)
        server.stop()


def _roster(db: Database) -> None:
    with db.session() as s:
        s.add_all(Delegate(id=i, name=n, delegation=g, consent=False) for i, n, g in DELEGATES)


@pytest.fixture
def sqlite_db(tmp_path):
    """The programme database on SQLite only (file checks that do not depend on the backend)."""
    database = Database(
        f"sqlite:///{tmp_path / 'file-checks.db'}", info={audit.INFO_KEY: secrets.token_bytes(32)}
    )
    migrate.upgrade(database)
    _roster(database)
    yield database
    database.dispose()


@pytest.fixture(params=("sqlite", "postgresql"))
def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'programme.db'}"
    else:
        server, url = request.getfixturevalue("documents_pg")
        server.reset_schema(url)
    database = Database(url, info={audit.INFO_KEY: secrets.token_bytes(32)})
    migrate.upgrade(database)
    _roster(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def password_hash() -> str:
    from controller.accounts.auth import make_hasher

    return make_hasher(**support.FAST_HASH).hash(support.PASSWORD)


@pytest.fixture
def app(tmp_path, venue_ca, password_hash):
    """The controller app on SQLite, one account per role (named after it), the test venue CA."""
    from controller.app import create_app
    from controller.storage.tables import Role, User

    database = Database(f"sqlite:///{tmp_path / 'app.db'}", info={audit.INFO_KEY: secrets.token_bytes(32)})
    migrate.upgrade(database)
    _roster(database)
    with database.session() as s:
        for role in Role:
            s.add(User(name=role.value, role=role, password_hash=password_hash))
    cfg = support.controller_config(tmp_path, ca_dir=str(venue_ca.dir))
    application = create_app(cfg, {"TESTING": True}, db=database)
    yield application
    database.dispose()


@pytest.fixture
def client(app):
    c = app.test_client()
    c.environ_base["wsgi.url_scheme"] = "https"
    return c


@pytest.fixture
def login_as(client):
    def do(name: str) -> str:
        r = support.login(client, name)
        assert r.status_code == 302, r.get_data(as_text=True)
        return support.page_csrf(client, "/")

    return do


@pytest.fixture
def badge(venue_ca):
    """``badge(delegate_id)``: the delegate's signed badge token (what the portal presents)."""
    from congress import badge_token, pki

    key = pki.load_signing_key(venue_ca.controller_signing_key)
    return lambda delegate_id, venue=venue_ca.venue: badge_token.issue(key, venue, delegate_id)

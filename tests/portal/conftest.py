"""Portal fixtures: the controller app on SQLite with a roster and one staff account per role, a
portal client per delegate (``sign_in``), on the test venue CA (its controller key signs badges)."""

from __future__ import annotations

import importlib.util
import re
import secrets
from pathlib import Path

import pytest

from controller import audit
from controller.storage import migrate
from controller.storage.database import Database
from controller.storage.tables import Delegate

_spec = importlib.util.spec_from_file_location(
    "congress_controller_test_support_portal",
    Path(__file__).resolve().parents[1] / "controller" / "conftest.py",
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

DELEGATES = [
    ("D-0001", "Nguyễn Văn An", "Hà Nội", "A1"),
    ("D-0002", "Trần Thị Bình", "Hà Nội", "A2"),
    ("D-0003", "Lê Hoàng Cường", "Đà Nẵng", "B1"),
    ("D-0004", "Phạm Thị Dung", "Huế", None),
]
PIN = "4821"


def roster(db: Database) -> None:
    with db.session() as s:
        s.add_all(Delegate(id=i, name=n, delegation=g, seat=seat, consent=False)
                  for i, n, g, seat in DELEGATES)


@pytest.fixture(scope="session")
def password_hash() -> str:
    from controller.accounts.auth import make_hasher

    return make_hasher(**support.FAST_HASH).hash(support.PASSWORD)


@pytest.fixture
def app(tmp_path, venue_ca, password_hash):
    from controller.app import create_app
    from controller.storage.tables import Role, User

    database = Database(f"sqlite:///{tmp_path / 'app.db'}", info={audit.INFO_KEY: secrets.token_bytes(32)})
    migrate.upgrade(database)
    roster(database)
    with database.session() as s:
        for role in Role:
            s.add(User(name=role.value, role=role, password_hash=password_hash))
    cfg = support.controller_config(tmp_path, ca_dir=str(venue_ca.dir))
    application = create_app(cfg, {"TESTING": True}, db=database)
    yield application
    database.dispose()


def new_client(app):
    c = app.test_client()
    c.environ_base["wsgi.url_scheme"] = "https"  # cookies are Secure
    return c


@pytest.fixture
def client(app):
    return new_client(app)


@pytest.fixture
def login_as(client):
    def do(name: str) -> str:
        r = support.login(client, name)
        assert r.status_code == 302, r.get_data(as_text=True)
        return support.page_csrf(client, "/")

    return do


def portal_csrf(client, path: str = "/p/signin") -> str:
    html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, f"{path} has no CSRF meta tag"
    return m.group(1)


def code_of(app, delegate_id: str) -> str:
    from controller.app import services

    with app.app_context():
        return services().portal.auth.code_for(delegate_id)


def sign_in(app, client, delegate_id: str = "D-0001", pin: str = PIN) -> str:
    """Sign ``client`` in as the delegate (setting the PIN the first time); the session's CSRF token."""
    pre = portal_csrf(client)
    code = code_of(app, delegate_id)
    who = client.post("/p/signin/check", json={"badge": code}, headers={"X-CSRF-Token": pre}).get_json()
    r = client.post("/p/signin", json={"badge": code, "pin": pin, "new_pin": not who["has_pin"]},
                    headers={"X-CSRF-Token": pre})
    assert r.status_code == 200, r.get_json()
    return portal_csrf(client, "/p/")


@pytest.fixture
def delegate(app, client):
    """``client`` signed in as D-0001; its CSRF token."""
    return sign_in(app, client)

"""Login, rate limits, sessions, cookies, security headers, no inline script, account management."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import select, update

from controller import audit
from controller.app import create_app
from controller.storage.tables import AuditEntry, User, WebSession
from tests.controller.conftest import PASSWORD, controller_config, login, page_csrf
from tests.controller.test_login_throttle import hold_login_clock

TEMPLATES = Path(__file__).resolve().parents[2] / "controller" / "web" / "templates"


def actions(db) -> list[str]:
    with db.session() as s:
        return [a for a in s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))]


def test_login_sets_a_hardened_cookie_and_audits(client, sqlite_db):
    r = login(client, "chair")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("congress_session="))
    for attr in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert attr in cookie
    assert client.get("/api/summary").status_code == 200
    assert "login.ok" in actions(sqlite_db)


def test_wrong_password_and_unknown_account(client, sqlite_db):
    assert login(client, "chair", "not the password").status_code == 401
    assert login(client, "nobody", PASSWORD).status_code == 401
    assert client.get("/api/summary").status_code == 401
    assert actions(sqlite_db).count("login.failed") == 2


def test_account_is_throttled_even_with_the_right_password(app, client, sqlite_db):
    hold_login_clock(app)
    for _ in range(5):
        assert login(client, "observer", "guess guess guess").status_code == 401
    r = login(client, "observer", PASSWORD)
    assert r.status_code == 429 and b"too many failed logins" in r.data
    assert "login.throttled" in actions(sqlite_db)
    assert login(client, "chair", PASSWORD).status_code == 302  # other accounts are not slowed


def test_address_is_throttled_across_accounts(app, client):
    hold_login_clock(app)
    attacker = app.test_client()
    attacker.environ_base.update({"wsgi.url_scheme": "https", "REMOTE_ADDR": "10.9.9.9"})
    for i in range(20):
        assert login(attacker, f"guess{i}", "whatever whatever").status_code == 401
    assert login(attacker, "admin", PASSWORD).status_code == 429
    assert login(client, "admin", PASSWORD).status_code == 302  # another address still gets in


def test_login_redirect_stays_on_this_site(client):
    token = page_csrf(client)
    data = {"csrf_token": token, "name": "admin", "password": PASSWORD}
    r = client.post("/login?next=//evil.example/x", data=data)
    assert r.headers["Location"] == "/"
    client.delete_cookie("congress_session")
    token = page_csrf(client)
    r = client.post("/login?next=/devices", data=data | {"csrf_token": token})
    assert r.headers["Location"] == "/devices"


def test_login_needs_its_csrf_token(client):
    client.get("/login")
    r = client.post("/login", data={"name": "admin", "password": PASSWORD})
    assert r.status_code == 400 and client.get("/api/summary").status_code == 401


def test_logout_ends_the_session_for_good(client, login_as, sqlite_db):
    token = login_as("technician")
    stolen = client.get_cookie("congress_session").value
    assert client.post("/logout", headers={"X-CSRF-Token": token}).status_code == 302
    client.set_cookie("congress_session", stolen)
    assert client.get("/api/summary").status_code == 401
    assert "logout" in actions(sqlite_db)


def test_idle_session_expires(client, login_as, sqlite_db):
    login_as("chair")
    with sqlite_db.session() as s:
        s.execute(update(WebSession).values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)))
    assert client.get("/api/summary").status_code == 401
    with sqlite_db.session() as s:
        assert s.scalars(select(WebSession)).all() == []


def test_security_headers(client, login_as):
    login_as("admin")
    for path in ("/", "/login", "/api/summary", "/static/app.js"):
        r = client.get(path)
        h = r.headers
        r.close()
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert h["X-Frame-Options"] == "DENY"
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in h  # plain HTTP configuration


def test_hsts_when_served_over_tls(tmp_path, sqlite_db):
    tls = {"tls_cert": str(tmp_path / "c.pem"), "tls_key": str(tmp_path / "k.pem")}
    cfg = controller_config(tmp_path, web=tls)
    app = create_app(cfg, {"TESTING": True}, db=sqlite_db)
    assert "max-age=" in app.test_client().get("/login").headers["Strict-Transport-Security"]


def test_no_inline_script_or_handlers_in_templates():
    for f in TEMPLATES.rglob("*.html"):
        html = f.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            # a JSON data block (the page's translations) is never executed; anything else comes by src
            assert "src=" in tag or 'type="application/json"' in tag, f"{f.name}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{f.name}: inline event handler"
        assert not re.search(r"\sstyle\s*=", html), f"{f.name}: inline style (CSP forbids it)"
        assert "http://" not in html and "https://" not in html, f"{f.name}: external asset"


def test_admin_manages_accounts(client, login_as, sqlite_db, tmp_path):
    token = login_as("admin")
    r = client.post(
        "/users/add", data={"csrf_token": token, "name": "dana", "role": "chair", "password": "short"}
    )
    assert r.status_code == 400 and b"at least 10 characters" in r.data
    r = client.post(
        "/users/add",
        data={"csrf_token": token, "name": "dana", "role": "chair", "password": "long enough pw"},
    )
    assert r.status_code == 302
    with sqlite_db.session() as s:
        dana = s.scalar(select(User).where(User.name == "dana"))
        me = s.scalar(select(User).where(User.name == "admin"))
    other = create_app(controller_config(tmp_path / "other"), {"TESTING": True}, db=sqlite_db).test_client()
    other.environ_base["wsgi.url_scheme"] = "https"
    assert login(other, "dana", "long enough pw").status_code == 302
    r = client.post(f"/users/{dana.id}/role", data={"csrf_token": token, "role": "observer"})
    assert r.status_code == 302
    assert other.get("/api/summary").status_code == 401, "a role change ends the account's sessions"
    r = client.post(f"/users/{me.id}/role", data={"csrf_token": token, "role": "observer"})
    assert r.status_code == 400 and b"your own role" in r.data
    r = client.post(f"/users/{dana.id}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 302 and login(other, "dana", "long enough pw").status_code == 401
    assert {"user.add", "user.role", "user.disable"} <= set(actions(sqlite_db))
    with sqlite_db.session() as s:
        assert audit.verify(s).ok


def test_everyone_changes_their_own_password(app, client, login_as, sqlite_db):
    token = login_as("observer")
    form = {"csrf_token": token, "current": "wrong wrong wrong", "new": "a new long password", "repeat": "x"}
    assert client.post("/account/password", data=form).status_code == 400  # repeat differs
    form["repeat"] = form["new"]
    r = client.post("/account/password", data=form)
    assert r.status_code == 400 and b"current password is wrong" in r.data
    form["current"] = PASSWORD
    r = client.post("/account/password", data=form)
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert client.get("/api/summary").status_code == 401, "the change ends the session"
    assert login(client, "observer", PASSWORD).status_code == 401
    assert login(client, "observer", "a new long password").status_code == 302
    assert "user.password" in actions(sqlite_db)

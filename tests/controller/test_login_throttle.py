"""Login throttling delays a guesser per (address, account) and never locks the real person out.

The clock is held in the tests (``LoginLimits.clock``): they assert which attempts are refused and how
many audit rows are written, never how long anything took.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy import func, select

from congress.cli import main
from controller.accounts import auth
from controller.storage.tables import AuditEntry, LoginAttempt, Role, User
from tests.controller.conftest import FAST_HASH, PASSWORD, login
from tests.controller.test_controller_cli import write_config

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
ATTACKER, ADMIN_DESK = "10.66.0.9", "10.0.0.2"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def _login_rows(db) -> dict[str, int]:
    with db.session() as s:
        q = select(AuditEntry.action, func.count()).where(AuditEntry.action.like("login.%"))
        return dict(s.execute(q.group_by(AuditEntry.action)).all())


def _try(db, limits, name, password, ip, hasher):
    with db.session() as s:
        try:
            auth.authenticate(s, name, password, ip, limits, hasher=hasher)
            return "ok"
        except auth.LoginRefused as exc:
            return "throttled" if exc.throttled else "wrong"


def test_400_guesses_are_slowed_summarised_and_the_admin_still_gets_in(db):
    """An attacker hammers the known admin account for 400 s, one guess a second (both backends)."""
    hasher = auth.make_hasher(**FAST_HASH)
    with db.session() as s:
        s.add(User(name="admin", role=Role.ADMIN, password_hash=hasher.hash(PASSWORD)))
    clock = Clock()
    limits = auth.LoginLimits(clock=clock)
    outcomes = []
    for _ in range(400):
        outcomes.append(_try(db, limits, "admin", "guess guess guess", ATTACKER, hasher))
        clock.now += dt.timedelta(seconds=1)
    checked = outcomes.count("wrong")
    # 5 free, then 1, 2, 4 ... 60 s apart: 16 password checks in 400 s, not 400.
    assert 5 < checked <= 20 and outcomes.count("throttled") == 400 - checked
    assert _try(db, limits, "admin", PASSWORD, ATTACKER, hasher) == "throttled"  # no password check
    rows = _login_rows(db)
    assert rows.get("login.failed") == checked and rows.get("login.throttled") == 1
    assert _try(db, limits, "admin", PASSWORD, ADMIN_DESK, hasher) == "ok"  # the real admin gets in
    clock.now = T0 + dt.timedelta(minutes=15, seconds=10)  # a new window: one more summary row
    _try(db, limits, "admin", "guess guess guess", ATTACKER, hasher)
    assert _try(db, limits, "admin", "guess guess guess", ATTACKER, hasher) == "throttled"
    assert _login_rows(db).get("login.throttled") == 2
    with db.session() as s:
        last = s.scalars(select(AuditEntry).where(AuditEntry.action == "login.throttled")
                         .order_by(AuditEntry.seq.desc())).first()
        assert json.loads(last.detail)["refused_in_previous_window"] == 400 - checked + 1
    # The admin's own success on that address resets its pair; an unlock forgets the failures.
    with db.session() as s:
        assert auth.unlock_user(s, s.scalar(select(User)), limits, actor="cli") > 0
    assert _try(db, limits, "admin", PASSWORD, ATTACKER, hasher) == "ok"


def test_spraying_from_one_address_waits_seconds_not_a_lock(db):
    hasher = auth.make_hasher(**FAST_HASH)
    with db.session() as s:
        s.add(User(name="chair", role=Role.CHAIR, password_hash=hasher.hash(PASSWORD)))
    clock = Clock()
    limits = auth.LoginLimits(clock=clock)
    for i in range(20):
        assert _try(db, limits, f"guess{i}", "whatever whatever", ATTACKER, hasher) == "wrong"
    assert _try(db, limits, "chair", PASSWORD, ATTACKER, hasher) == "throttled"
    clock.now += dt.timedelta(seconds=5)  # the per-address delay is at most 5 s
    assert _try(db, limits, "chair", PASSWORD, ATTACKER, hasher) == "ok"


def hold_login_clock(app) -> Clock:
    """Hold the login throttle's clock still in ``app`` (refusals then do not depend on speed)."""
    svc = app.extensions["congress"]
    clock = Clock()
    svc.limits = dataclasses.replace(svc.limits, clock=clock)
    return clock


def test_the_page_answers_429_with_retry_after_and_other_addresses_log_in(app, client, sqlite_db):
    hold_login_clock(app)
    attacker = app.test_client()
    attacker.environ_base.update({"wsgi.url_scheme": "https", "REMOTE_ADDR": ATTACKER})
    statuses = [login(attacker, "admin", "not the password").status_code for _ in range(400)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    r = login(attacker, "admin", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "too many failed logins" in r.get_data(as_text=True)
    assert _login_rows(sqlite_db) == {"login.failed": 5, "login.throttled": 1}
    assert login(client, "admin", PASSWORD).status_code == 302  # the real admin, from another address


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(app, sqlite_db):
    from controller.app import create_app

    cfg = app.extensions["congress"].config
    behind = create_app(cfg.model_copy(update={"security": cfg.security.model_copy(
        update={"trusted_proxies": ["10.0.0.5", "fd00::/64"]})}), {"TESTING": True}, db=sqlite_db)
    hold_login_clock(behind)

    def via_proxy(proxy: str, forwarded: str):
        c = behind.test_client()
        c.environ_base.update({"wsgi.url_scheme": "https", "REMOTE_ADDR": proxy,
                               "HTTP_X_FORWARDED_FOR": forwarded})
        return c

    attacker = via_proxy("10.0.0.5", f"1.2.3.4, {ATTACKER}")  # the left entry is the client's own say
    for _ in range(25):
        login(attacker, "admin", "not the password")
    assert login(via_proxy("10.0.0.5", "198.51.100.7"), "admin", PASSWORD).status_code == 302
    with sqlite_db.session() as s:
        ips = set(s.scalars(select(LoginAttempt.ip)))
    assert ips == {ATTACKER, "198.51.100.7"}
    # From an address that is not a trusted proxy the header is ignored: rotating it gains nothing.
    spoofer = [via_proxy("10.77.0.1", f"203.0.113.{i}") for i in range(7)]
    statuses = [login(c, "observer", "not the password").status_code for c in spoofer]
    assert statuses == [401] * 5 + [429] * 2


def test_unlock_command_forgets_failures(tmp_path, storage_url, capsys, monkeypatch):
    cfg = write_config(tmp_path, storage_url)
    assert main(["controller", "migrate", "--config", cfg]) == 0
    monkeypatch.setenv("CONGRESS_NEW_PASSWORD", PASSWORD)
    assert main(["controller", "user", "add", "admin", "--role", "admin", "--config", cfg]) == 0
    from congress.config import load_config
    from congress.config.controller import ControllerConfig
    from controller.app import open_database

    db = open_database(load_config(cfg, ControllerConfig))
    try:
        with db.session() as s:
            s.add_all([LoginAttempt(name="admin", ip=ATTACKER, at=T0, ok=False) for _ in range(9)])
        capsys.readouterr()
        assert main(["controller", "user", "unlock", "admin", "--config", cfg, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["action"] == "unlock"
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 0
            assert s.scalar(select(AuditEntry.action).order_by(AuditEntry.seq.desc())) == "user.unlock"
    finally:
        db.dispose()
    assert main(["controller", "user", "unlock", "nobody", "--config", cfg]) == 1


def test_trusted_proxies_must_be_addresses(tmp_path):
    import pytest

    from congress.errors import ConfigError
    from tests.controller.conftest import controller_config

    assert controller_config(tmp_path, security={"trusted_proxies": ["10.0.0.0/24", "::1"]})
    with pytest.raises(ConfigError, match="trusted_proxies"):
        controller_config(tmp_path, security={"trusted_proxies": ["proxy.example"]})

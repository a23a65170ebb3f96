"""Languages of the controller page: Vietnamese by default at a Vietnamese venue, English on request,
per device (cookie) and per request (``?lang=``); plural forms; venue-time formats; the catalogues are
complete and current (``msgfmt --statistics``, ``scripts/i18n.py check``)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from controller.app import create_app
from tests.controller.conftest import controller_config, page_csrf

ROOT = Path(__file__).resolve().parents[2]
VI_PO = ROOT / "controller/web/translations/vi/LC_MESSAGES/messages.po"


@pytest.fixture
def vi_app(app):
    """The test app at a Vietnamese venue (the default language of the configuration)."""
    cfg = controller_config(Path(app.extensions["congress"].config.data_dir).parent,
                            venue={"id": "test-venue", "name": "Đại hội thử"},
                            ca_dir=str(app.extensions["congress"].config.ca_dir))
    assert cfg.venue.language == "vi" and cfg.venue.timezone == "Asia/Ho_Chi_Minh"
    return create_app(cfg, {"TESTING": True}, db=app.extensions["congress"].db)


@pytest.fixture
def vi_client(vi_app):
    c = vi_app.test_client()
    c.environ_base["wsgi.url_scheme"] = "https"
    return c


def html_of(client, path):
    r = client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.status
    return r.get_data(as_text=True)


def test_vietnamese_by_default_english_on_request(vi_client):
    page = html_of(vi_client, "/login")
    assert '<html lang="vi"' in page and "Đăng nhập" in page and "Log in" not in page
    page = html_of(vi_client, "/login?lang=en")
    assert '<html lang="en"' in page and "Log in" in page and "Đăng nhập" not in page
    # ?lang= holds for that request only: the device is still Vietnamese
    assert "Đăng nhập" in html_of(vi_client, "/login")


def test_switch_sets_the_device_language(vi_client):
    token = page_csrf(vi_client, "/login")
    r = vi_client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/login"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert "congress_lang=en" in r.headers["Set-Cookie"]
    assert "Log in" in html_of(vi_client, "/login")
    r = vi_client.post("/language", data={"csrf_token": token, "lang": "fr", "next": "/login"})
    assert r.status_code == 400
    r = vi_client.post("/language", data={"csrf_token": token, "lang": "vi", "next": "https://evil.example/"})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
    assert "Đăng nhập" in html_of(vi_client, "/login")


def test_switch_needs_the_csrf_token(vi_client):
    assert vi_client.post("/language", data={"lang": "en"}).status_code == 400


def test_every_page_carries_the_switch(vi_client, client, login_as):
    assert 'action="/language"' in html_of(vi_client, "/login")
    login_as("admin")
    for path in ("/", "/attendance", "/devices", "/delegates", "/audit", "/users", "/account"):
        page = html_of(client, path)
        assert 'action="/language"' in page and 'lang="vi"' in page and "Tiếng Việt" in page, path


def test_plural_forms(client, login_as, app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"):
        with force_locale("en"):
            assert [ngettext("%(num)d photo", "%(num)d photos", n) for n in (1, 2)] == ["1 photo", "2 photos"]
        with force_locale("vi"):  # Vietnamese has one form
            assert [ngettext("%(num)d photo", "%(num)d photos", n) for n in (1, 2)] == ["1 ảnh", "2 ảnh"]


def test_times_in_the_venue_zone(app):
    from controller.web import i18n

    at = dt.datetime(2026, 12, 1, 7, 5, 9, tzinfo=dt.UTC)  # 14:05:09 in Hanoi
    with app.test_request_context("/?lang=vi"):
        assert i18n.format_when(at) == "14:05:09 01/12/2026"
        assert i18n.format_when(at.replace(tzinfo=None)) == "14:05:09 01/12/2026"  # naive = UTC
        assert i18n.format_when("2026-12-01T07:05:09Z", "time") == "14:05:09"
        assert i18n.format_when(at, "date_long") == "ngày 01 tháng 12 năm 2026"
        assert i18n.zone_label(at) == "Asia/Ho_Chi_Minh (UTC+07:00)"
        assert i18n.format_number(5000) == "5.000"
        assert i18n.format_when(None) == ""
    with app.test_request_context("/?lang=en"):
        assert i18n.format_when(at) == "1 Dec 2026, 14:05:09"
        assert i18n.format_number(5000) == "5,000"


def test_scripts_get_their_strings_translated(vi_client):
    page = html_of(vi_client, "/login")
    found = re.search(r'<script type="application/json" id="i18n">(.*?)</script>', page, re.S)
    data = json.loads(found.group(1))
    assert data["lang"] == "vi" and data["tz"] == "Asia/Ho_Chi_Minh" and data["nplurals"] == 1
    assert data["messages"]["Nobody is waiting."] == "Không có ai đang chờ."
    assert data["plurals"]["%(num)d alarm"] == ["%(num)d cảnh báo", "%(num)d cảnh báo"]


def test_messages_from_library_code_are_translated_on_the_page(app):
    from congress.i18n import M_, N_, P_
    from controller.web.i18n import translate

    refused = P_("%(num)d photo", "%(num)d photos", 3)
    assert str(refused) == "3 photos"  # the command line stays English
    with app.test_request_context("/?lang=vi"):
        assert translate(refused) == "3 ảnh"
        assert translate(N_("badge only")) == "chỉ dùng thẻ"
        assert translate(M_("Ballot %(id)s", id=7)) == "Biểu quyết số 7"
        assert translate(None) == ""


def test_vietnamese_catalogue_is_complete():
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt is missing: scripts/setup-system.sh installs the Debian package gettext"
    r = subprocess.run([msgfmt, "--check", "--statistics", "-o", "/dev/null", str(VI_PO)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\d+ translated messages?\.\n", r.stderr), r.stderr  # no fuzzy, no untranslated


def test_catalogues_hold_every_marked_string():
    r = subprocess.run([sys.executable, str(ROOT / "scripts/i18n.py"), "check"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, "catalogues out of date; see docs/translations.md:\n" + r.stdout + r.stderr


def test_compiled_catalogues_are_current():
    for po in (ROOT / "controller/web/translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} is stale: run make setup"


def test_error_pages_are_styled_and_translated(vi_client, client, login_as):
    r = vi_client.get("/no-such-page", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "Trang này không tồn tại" in r.get_data(as_text=True)
    assert 'href="/static/app.css"' in r.get_data(as_text=True)
    assert vi_client.get("/no-such-page", headers={"Accept": "application/json"}).get_json()["error"]
    login_as("observer")
    r = client.get("/users", headers={"Accept": "text/html"})
    page = r.get_data(as_text=True)
    assert r.status_code == 403 and "You may not open this page" in page and "observer" in page
    assert client.get("/users", headers={"Accept": "application/json"}).status_code == 403


def test_projector_roll_call(client, login_as):
    login_as("observer")
    page = html_of(client, "/projector/attendance?lang=vi")
    assert "Điểm danh đại biểu" in page and "Tổng số đại biểu được triệu tập" in page
    assert 'id="present"' in page and "projector.css" in page


def test_the_account_keeps_its_language_across_devices(vi_app, password_hash):
    from controller.storage.tables import Role, User

    db = vi_app.extensions["congress"].db
    with db.session() as s:
        s.add(User(name="guest", role=Role.OBSERVER, password_hash=password_hash))
    laptop, tablet = vi_app.test_client(), vi_app.test_client()
    for c in (laptop, tablet):
        c.environ_base["wsgi.url_scheme"] = "https"
    from tests.controller.conftest import login

    assert login(laptop, "guest").status_code == 302
    token = page_csrf(laptop, "/")
    laptop.post("/language", data={"csrf_token": token, "lang": "en", "next": "/"})
    with db.session() as s:
        assert s.query(User).filter_by(name="guest").one().language == "en"
    # a new device without a choice of its own follows the account
    assert login(tablet, "guest").status_code == 302
    assert "Dashboard" in html_of(tablet, "/") and "Tổng quan" not in html_of(tablet, "/")
    # the hall projector's bookmark stays Vietnamese whoever is logged in
    assert "Điểm danh đại biểu" in html_of(tablet, "/projector/attendance?lang=vi")


def test_every_script_string_reaches_the_page():
    """The page's script catalogue holds every _()/ngettext() of the scripts, also calls with
    parameters (which the extractor reports differently)."""
    from babel.messages.extract import extract_from_dir

    from controller.web.i18n import WEB_DIR, script_msgids

    singles, plurals = script_msgids(WEB_DIR / "static")
    found = {m for _f, _l, m, _c, _x in extract_from_dir(
        WEB_DIR / "static", [("vendor/**", "ignore"), ("*.js", "javascript")],
        keywords={"_": None, "ngettext": (1, 2)})}
    assert found == set(singles) | set(plurals)
    assert "%(door)s: %(count)s arrivals" in singles


def test_audit_names_every_actor_the_same_way(app, client, login_as):
    from controller import audit

    with app.extensions["congress"].db.session() as s:
        for actor in ("chair", "user:chair", "cli", "cli:admin", "system", "someone-gone"):
            audit.record(s, actor, "test.who", {})
    login_as("admin")
    page = html_of(client, "/audit")
    cells = re.findall(r'<td title="([^"]*)">([^<]*)</td>', page)
    shown = {raw: text for raw, text in cells}
    assert shown["chair"] == shown["user:chair"] == "chair (chair)"
    assert shown["cli"] == "command line" and shown["cli:admin"] == "admin (command line)"
    assert shown["system"] == "system" and shown["someone-gone"] == "someone-gone"
    assert shown["admin"] == "admin (administrator)"  # the login itself


def test_a_message_inside_a_message_is_translated(app):
    from congress.i18n import M_
    from controller.web.i18n import translate

    inner = M_("face too small (%(px)s px wide, need %(min)s); use a closer or larger photo", px=30, min=48)
    outer = M_("%(file)s: %(problem)s", file="ảnh.jpg", problem=inner)
    assert str(outer) == "ảnh.jpg: face too small (30 px wide, need 48); use a closer or larger photo"
    with app.test_request_context("/?lang=vi"):
        assert translate(outer) == ("ảnh.jpg: khuôn mặt quá nhỏ (rộng 30 px, cần 48); "
                                    "hãy dùng ảnh chụp gần hơn hoặc lớn hơn")


def test_refusals_are_translated(vi_client):
    token = page_csrf(vi_client, "/login")
    r = vi_client.post("/login", data={"csrf_token": token, "name": "admin", "password": "wrong-password"})
    assert r.status_code == 401 and "sai tên tài khoản hoặc mật khẩu" in r.get_data(as_text=True)

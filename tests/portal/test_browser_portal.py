"""The delegates' app in a real headless Chromium against the real controller (cheroot), at tablet
(768 x 1024) and phone (390 x 844) sizes: sign in with the code printed under the badge and a new
PIN, confirm attendance; sign out and come back to the sign-in page.

Served on http://127.0.0.1 (a secure context for the service worker, as the venue's TLS port is)
with ``secure_cookies = false``."""

from __future__ import annotations

import shutil

import pytest

from congress.broker import free_port
from controller.app import open_database
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Role, User
from tests.controller.conftest import controller_config
from tests.portal.conftest import PIN, roster

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
SIZES = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def controller(tmp_path, venue_ca, password_hash):
    cfg = controller_config(
        tmp_path,
        venue={"id": "test-venue", "name": "Đại hội thử", "language": "vi"},
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        ca_dir=str(venue_ca.dir),
        web={"host": "127.0.0.1", "port": free_port(), "threads": 16, "max_live_clients": 8},
        security={"argon2_memory_kib": 8192, "argon2_time_cost": 1, "secure_cookies": False},
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    roster(db)
    with db.session() as s:
        s.add(User(name="chu-toa", role=Role.CHAIR, password_hash=password_hash))
        s.add(User(name="ky-thuat", role=Role.TECHNICIAN, password_hash=password_hash))
    db.dispose()
    server = ControllerServer(cfg, with_ingest=False).start()
    yield server
    server.stop()


@pytest.fixture
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def code_for(server, delegate_id: str) -> str:
    with server.app.app_context():
        from controller.app import services

        return services().portal.auth.code_for(delegate_id)


def new_page(browser, size: str, lang: str = "vi"):
    context = browser.new_context(viewport=SIZES[size], locale=lang)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return context, page


def sign_in_with_code(page, base: str, code: str, *, first: bool = True) -> None:
    page.goto(base + "/p/")
    page.wait_for_url(base + "/p/signin")
    page.fill("#code", code)
    page.click("#code-next")
    page.wait_for_selector("#step-pin:not([hidden])")
    page.fill("#pin", PIN)
    if first:
        page.fill("#pin2", PIN)
    page.click("#signin")
    page.wait_for_url(base + "/p/")


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_with_the_badge_code_and_sign_out(controller, browser, size):
    base = controller.url
    context, page = new_page(browser, size)
    sign_in_with_code(page, base, code_for(controller, "D-0001").lower())
    assert page.locator("#me").inner_text().startswith("Nguyễn Văn An")
    page.click(".tabs a[data-tab=profile]")
    page.wait_for_selector("#pin-change")
    assert page.inner_text("#view h1") == "Nguyễn Văn An"
    assert "Đăng xuất" in page.inner_text("header")  # Vietnamese, the venue's language
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # Confirm attendance before the congress.
    page.click(".tabs a[data-tab=attendance]")
    page.click("#confirm-attending")
    page.wait_for_selector("#attendance-state.ok")
    assert "Bạn đã xác nhận sẽ tham dự" in page.inner_text("#attendance-state")
    with controller.app.app_context():
        from controller.app import services

        assert services().portal.confirmations.of("D-0001")["answer"] == "attending"
    page.click("#signout")
    page.wait_for_url(base + "/p/signin")
    page.goto(base + "/p/")
    page.wait_for_url(base + "/p/signin")
    assert page.problems == []
    context.close()

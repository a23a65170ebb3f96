"""The ballot pages as a new user meets them, in a real headless Chromium against the real controller
server, at 1080p (the hall projector, a desk) and on a tablet: the new-ballot form (checkboxes beside
their labels, secret or named but not both, a motion with candidates refused with the reason), rule
text that reads right, long candidate names never cut, twelve candidates on a 1080p projector, a
timed ballot's countdown in the venue's time and its close without a stale notice, the list that
follows the live feed, the confirmation before closing, and the least-privileged role for a new
account. The CSP forbids inline script and style, so a console error fails a test."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from zoneinfo import ZoneInfo

import pytest

from congress.broker import free_port
from controller.app import open_database
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Role, User
from controller.voting.tables import BallotKind
from tests.browser import wait_true

from .conftest import Roster, _support

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
VIEWPORTS = {"1080p": {"width": 1920, "height": 1080}, "tablet": {"width": 768, "height": 1024}}
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
#: Twelve candidates, some with long names (the chart once cut them from the left: "…ong name indeed").
CANDIDATES = [
    "Nguyễn Thị Phương Thảo", "Trần Văn Bình", "Lê Hoàng Minh Khôi Nguyên Vũ Trường Giang (đoàn Hà Nội)",
    "Phạm Thu Hà", "Hoàng Đức Anh", "Vũ Ngọc Ánh", "Đặng Quốc Bảo Long name indeed of the delegation",
    "Bùi Thị Lan", "Đỗ Mạnh Hùng", "Hồ Xuân Hương", "Ngô Bảo Châu", "Dương Thị Thu Trang",
]


@pytest.fixture
def server(tmp_path):
    cfg = _support.controller_config(
        tmp_path,
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        web={"host": "127.0.0.1", "port": free_port(), "threads": 16, "max_live_clients": 6},
        security={"argon2_memory_kib": 8192, "argon2_time_cost": 1, "secure_cookies": False},
        attendance={"quorum": "majority"},
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    from controller.accounts.auth import make_hasher

    with db.session() as s:
        s.add(User(name="admin", role=Role.ADMIN,
                   password_hash=make_hasher(**_support.FAST_HASH).hash(_support.PASSWORD)))
    roster = Roster(db)
    roster.check_in(roster.add(10))
    db.dispose()
    srv = ControllerServer(cfg, with_ingest=False).start()
    yield srv
    srv.stop()


@pytest.fixture(params=list(VIEWPORTS))
def page(request, server):
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_context(viewport=VIEWPORTS[request.param]).new_page()
        pg.viewport_name = request.param
        pg.console_errors = []
        pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
        pg.goto(server.url + "/login")
        pg.fill("#name", "admin")
        pg.fill("#password", _support.PASSWORD)
        pg.click("#login")
        pg.wait_for_url(server.url + "/")
        try:
            yield pg
        finally:
            browser.close()
        assert pg.console_errors == []


def _box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect();"
                                           " return {x: r.x, y: r.y, w: r.width, h: r.height}; }")


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_new_ballot_form_reads_right(server, page):
    page.goto(server.url + "/ballots")
    checks = page.locator("form.new-ballot label.check")
    assert checks.count() == 5
    for i in range(checks.count()):
        label = checks.nth(i)
        box = label.locator("input").bounding_box()
        text = label.locator("span").bounding_box()
        assert box["height"] <= 28 and box["width"] <= 28  # a normal box, not a 44 px wide block
        assert box["x"] + box["width"] <= text["x"]  # beside its label, not above it
        middle = box["y"] + box["height"] / 2
        assert text["y"] <= middle <= text["y"] + text["height"]
    # Secret or named: one choice, never both.
    page.check("input[name=secrecy][value=secret]")
    page.check("input[name=secrecy][value=named]")
    assert not page.is_checked("input[name=secrecy][value=secret]")
    _no_sideways_scroll(page)
    # A motion with candidates is refused, with the reason, and the form keeps what was typed.
    page.fill("input[name=title]", "Chọn dự thảo")
    page.fill("textarea[name=candidates]", "Dự thảo A\nDự thảo B")
    page.click("text=Create draft")
    alert = page.locator("p.error[role=alert]")
    assert "takes no candidates" in alert.inner_text()
    assert page.input_value("textarea[name=candidates]") == "Dự thảo A\nDự thảo B"
    assert server.services.ballots.list() == []
    # The refusal is a 400 response, which the browser reports on its console: expected here.
    assert [e for e in page.console_errors if "400" not in e] == []
    page.console_errors.clear()
    # A new account starts with the least-privileged role.
    page.goto(server.url + "/users")
    assert page.input_value("#new-role") == "observer"


def test_rule_text_and_close_confirmation(server, page):
    page.goto(server.url + "/ballots")
    page.fill("input[name=title]", "Thông qua chương trình")
    page.click("text=Create draft")
    page.wait_for_selector("text=ballot created (draft)")
    assert "more yes than no votes" in page.inner_text("p.rule")
    page.click("text=Open ballot")
    page.wait_for_selector("text=ballot open")
    page.click("#close-ballot")
    page.wait_for_selector("#confirm-close")
    assert "cannot be undone" in page.inner_text("main")
    page.click("#cancel-close")
    page.wait_for_selector("#close-ballot")
    assert server.services.ballots.get(1).status.value == "open"
    page.click("#close-ballot")
    page.click("#confirm-close")
    page.wait_for_selector("text=ballot closed")
    assert server.services.ballots.get(1).status.value == "closed"
    outcome = page.inner_text("section.card p .rule")
    assert "more yes than no votes" in outcome and "majority of" not in outcome
    _no_sideways_scroll(page)


def _names_whole(page, selector: str, names: list[str]) -> None:
    shown = page.eval_on_selector_all(selector, "els => els.map(e => ({text: e.innerText.trim(),"
                                                " cut: e.scrollWidth > e.clientWidth + 1,"
                                                " left: e.getBoundingClientRect().left,"
                                                " right: e.getBoundingClientRect().right}))")
    assert [s["text"] for s in shown] == names
    width = page.evaluate("window.innerWidth")
    for s in shown:
        assert not s["cut"] and s["left"] >= 0 and s["right"] <= width, s


def test_twelve_long_candidates_fit_and_are_never_cut(server, page):
    ballots = server.services.ballots
    bid = ballots.create("Bầu Ban Chấp hành", BallotKind.ELECTION, options=CANDIDATES, seats=5, actor="test")
    ballots.open(bid, actor="test")
    page.goto(f"{server.url}/ballots/{bid}/projector")
    _names_whole(page, "ol.options .name", CANDIDATES)
    assert page.locator("ol.options .no").all_inner_texts() == [str(i) for i in range(1, 13)]
    if page.viewport_name == "1080p":  # the hall screen: everything on one screen, nothing below it
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    ballots.close(bid, actor="test")
    page.wait_for_selector("ol.bars.big")  # the projector reloads itself when the ballot closes
    _names_whole(page, "ol.bars .name", CANDIDATES)
    if page.viewport_name == "1080p":
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    _no_sideways_scroll(page)
    page.goto(f"{server.url}/ballots/{bid}")
    _names_whole(page, "ol.bars .name", CANDIDATES)
    _no_sideways_scroll(page)


def test_timed_ballot_counts_down_in_venue_time_and_closes_cleanly(server, page):
    ballots = server.services.ballots
    bid = ballots.create("Biểu quyết có thời hạn", BallotKind.MOTION, actor="test")
    ballots.open(bid, actor="test", duration_s=5)
    closes = ballots.get(bid).closes_at
    page.goto(f"{server.url}/ballots/{bid}?done=opened")
    assert page.is_visible("text=ballot open")
    assert re.fullmatch(r"0:0[0-5]", page.inner_text("#time-left"))
    assert page.inner_text("#closes-at") == closes.astimezone(ZONE).strftime("%H:%M:%S")
    assert "+00:00" not in page.inner_text("main") and "T0" not in page.inner_text("#countdown")
    first = page.inner_text("#time-left")
    wait_true(page, "document.getElementById('time-left').textContent !== arg", arg=first)  # it counts down
    # The ballot timer closes it; the page reloads without the notice and without a countdown.
    page.wait_for_selector("#ballot[data-status=closed]", timeout=20000)
    text = page.inner_text("main")
    assert "ballot open" not in text and "left" not in text and "Closed at" in text
    assert "?done" not in page.url
    closed = ballots.get(bid).closed_at.astimezone(ZONE)
    assert closed.strftime("%H:%M:%S") in text and dt.datetime.now(ZONE).year == closed.year


def test_ballot_list_follows_the_live_feed(server, page):
    page.goto(server.url + "/ballots")
    page.wait_for_selector("text=No ballots yet.")
    ballots = server.services.ballots
    page.wait_for_timeout(500)  # the page joins the feed
    bid = ballots.create("Kiến nghị mới", BallotKind.MOTION, actor="test")
    page.wait_for_selector("#ballot-rows td.name:has-text('Kiến nghị mới')", timeout=10000)
    ballots.open(bid, actor="test")
    page.wait_for_selector(f"#ballot-rows tr[data-ballot='{bid}'] td.status-open", timeout=10000)
    _no_sideways_scroll(page)


def test_hall_screen_follows_the_agenda_and_the_ballots_on_one_live_connection(server, page):
    """The hall screen runs the programme's script and the ballots' script; both follow the one feed."""
    svc = server.services
    with svc.db.session() as s:
        svc.programme.session_row(s, "S1", date=dt.date(2026, 12, 2), title="Phiên chính thức")
    ref = svc.programme.add_item("3", "S1", "Báo cáo chính trị", actor="test")
    # Count the page's own EventSources (not the connections: the browser reopens a feed the server
    # ended, and that is still one): a second script with a feed of its own would make two.
    page.add_init_script(
        "window.EventSource = class extends window.EventSource {"
        " constructor(...a) { super(...a); window.feedsMade = (window.feedsMade || 0) + 1; } };")
    joined: list[str] = []
    page.on("response", lambda r: r.url.startswith(server.url + "/events") and joined.append(r.url))
    page.goto(server.url + "/hall")
    page.wait_for_selector("#hall")  # nothing to vote on: the agenda
    deadline = time.monotonic() + 10
    while not joined and time.monotonic() < deadline:  # the page has joined the feed
        page.wait_for_timeout(50)
    assert joined
    svc.programme.move(ref, revision=svc.programme.now()["revision"], actor="test")
    wait_true(page, "document.getElementById('now-title').textContent.includes('Báo cáo chính trị')")
    assert page.evaluate("window.feedsMade") == 1  # the programme's handler, on the one connection
    bid = svc.ballots.create("Thông qua báo cáo", BallotKind.MOTION, actor="test")
    svc.programme.link_ballot(ref, bid, actor="test")
    svc.ballots.open(bid, actor="test")
    page.wait_for_selector("#ballot[data-status=open]", timeout=10000)  # the ballots' handler reloaded it
    assert page.inner_text("#agenda-item") == "3. Báo cáo chính trị"
    wait_true(page, "document.getElementById('received') !== null")
    assert page.evaluate("window.feedsMade") == 1  # the ballot's page: again one of its own

"""The delegates' app in a real headless Chromium against the real controller (cheroot), at tablet
(768 x 1024) and phone (390 x 844) sizes: sign in with the code printed under the badge and a new
PIN, confirm attendance; sign out and come back to the sign-in page.

Served on http://127.0.0.1 (a secure context for the service worker, as the venue's TLS port is)
with ``secure_cookies = false``."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from congress import fonts
from congress.broker import free_port
from controller.app import open_database
from controller.documents.samples import text_pdf
from controller.programme.agenda import Programme
from controller.programme.importer import import_file
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Role, User
from tests.controller.conftest import PASSWORD, controller_config
from tests.portal.conftest import PIN, roster

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PROGRAMME = """
[[session]]
code = "S2"
day = 2026-12-02
title = "Phiên chính thức"
[[item]]
number = "3"
session = "S2"
title = "Báo cáo chính trị"
[[item]]
number = "4"
session = "S2"
title = "Thảo luận"
"""
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
    import_file(Programme(db), PROGRAMME.encode(), "toml", zone="Asia/Ho_Chi_Minh", actor="setup")
    db.dispose()
    server = ControllerServer(cfg, with_ingest=False).start()
    with server.app.app_context():
        from controller.app import services

        svc = services()
        item = next(i["ref"] for d in svc.programme.outline() for s in d["sessions"] for i in s["items"]
                    if i["number"] == "3")
        pdf = text_pdf(2, title="Dự thảo Báo cáo chính trị", font_path=str(fonts.regular()))
        server.doc = svc.documents.add("Dự thảo Báo cáo chính trị", item_ref=item, filename="bao-cao.pdf",
                                       data=pdf, actor="user:chu-toa")
        server.item = item
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



def wait_true(page, expression: str, timeout_s: float = 10.0) -> None:
    """Poll ``expression`` in the page until it is true. Evaluated over the DevTools protocol, which the
    page's Content-Security-Policy does not cover (Playwright's own string predicates are compiled
    inside the page, which the policy, script-src 'self' without eval, refuses at times)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if page.evaluate(f"() => Boolean({expression})"):
                return
        except PlaywrightError:
            pass  # a navigation in progress: ask again
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s} s: {expression}")
        time.sleep(0.1)

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


def services_of(server):
    from controller.app import services

    with server.app.app_context():
        return services()


@pytest.mark.parametrize("size", SIZES)
def test_follow_the_agenda_read_offline_and_sign_out_clears_the_cache(controller, browser, size):
    base = controller.url
    context, page = new_page(browser, size)
    sign_in_with_code(page, base, code_for(controller, "D-0002"))
    # The app saves the programme and the documents for offline reading, with progress.
    page.wait_for_selector("#sync[data-state=complete]", timeout=20000)
    assert page.get_attribute("#sync", "data-done") == "1" == page.get_attribute("#sync", "data-total")
    wait_true(page, "navigator.serviceWorker.controller !== null")

    # Now on the agenda follows the chair live.
    page.click(".tabs a[data-tab=now]")
    page.wait_for_selector("#now h1")
    wait_true(page, "document.getElementById('net').dataset.state === 'live'")
    svc = services_of(controller)
    svc.programme.move(controller.item, revision=svc.programme.now()["revision"], actor="user:chu-toa")
    page.wait_for_selector("#now-title", timeout=10000)
    assert page.inner_text("#now-title") == "3. Báo cáo chính trị"
    page.click("#now-documents a.doc-title")
    page.wait_for_selector(".reader[data-rendered=yes]", timeout=20000)
    assert page.get_attribute(".reader", "data-pages") == "2"
    assert page.locator(".pages canvas").count() == 2

    # The network goes: the app and the document still open, from the device.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".reader[data-rendered=yes]", timeout=20000)
    assert page.locator(".pages canvas").count() == 2
    text = page.locator(".page[data-page='1'] .paragraphs").text_content()
    assert "Dự thảo Báo cáo chính trị" in text  # the text layer, with its diacritics
    page.click(".tabs a[data-tab=programme]")
    page.wait_for_selector("#programme li[data-item]")
    assert "Báo cáo chính trị" in page.inner_text("#programme")

    # Back online, sign out: nothing of the app is left on the device.
    context.set_offline(False)
    page.click("#signout")
    page.wait_for_url(base + "/p/signin")
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    context.set_offline(True)
    from playwright.sync_api import Error as PlaywrightError

    with pytest.raises(PlaywrightError):
        page.goto(base + f"/p/#doc/{controller.doc}")
    context.set_offline(False)
    # Offline, the browser reports the requests that could not go out (the live stream, counts).
    assert all("net::ERR_" in p or "Failed to fetch" in p for p in page.problems), page.problems
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_notice_arrives_live_with_its_count_and_staff_see_who_read_it(controller, browser, size):
    base = controller.url
    context, page = new_page(browser, size)
    sign_in_with_code(page, base, code_for(controller, "D-0003"))
    wait_true(page, "document.getElementById('net').dataset.state === 'live'")
    svc = services_of(controller)
    nid = svc.portal.notices.send("Đổi giờ họp", "Phiên chiều bắt đầu lúc 14:30", urgent=True,
                                  actor="user:chu-toa")
    page.wait_for_selector("#toast:not([hidden])", timeout=5000)
    assert "Đổi giờ họp" in page.inner_text("#toast")
    assert page.inner_text("#notice-count") == "1"
    page.click(".tabs a[data-tab=notices]")
    page.click(f"li[data-notice='{nid}'] .notice-title")
    page.wait_for_selector("#notice-count[hidden]", state="attached")
    assert "14:30" in page.inner_text(f"li[data-notice='{nid}']")
    # The organiser sees who has read it.
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    sp = staff.new_page()
    sp.goto(base + "/login")
    sp.fill("#name", "chu-toa")
    sp.fill("#password", PASSWORD)
    sp.click("#login")
    sp.wait_for_url(base + "/")
    sp.goto(base + f"/portal/notices/{nid}")
    assert "Lê Hoàng Cường" in sp.inner_text("#read-by")
    assert "Lê Hoàng Cường" not in sp.inner_text("#not-read")
    staff.close()
    assert page.problems == []
    context.close()


def staff_page(browser, base):
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    sp = staff.new_page()
    sp.goto(base + "/login")
    sp.fill("#name", "chu-toa")
    sp.fill("#password", PASSWORD)
    sp.click("#login")
    sp.wait_for_url(base + "/")
    return staff, sp


@pytest.mark.parametrize("size", SIZES)
def test_comment_on_a_paragraph_and_ask_to_speak(controller, browser, size):
    base = controller.url
    svc = services_of(controller)
    svc.programme.move(controller.item, revision=svc.programme.now()["revision"], actor="user:chu-toa")
    context, page = new_page(browser, size)
    sign_in_with_code(page, base, code_for(controller, "D-0004"))
    # Ask to speak on the item now on the agenda.
    page.click(".tabs a[data-tab=now]")
    page.wait_for_selector("#view[data-shown=now] #speak-button")
    page.click("#speak-button")
    page.wait_for_selector("#speak-state.ok")
    staff, sp = staff_page(browser, base)
    sp.goto(base + "/portal/speakers")
    assert "Phạm Thị Dung" in sp.inner_text("#speakers")
    # Comment on the third paragraph of page 1 of the item's document.
    page.click("#now-documents a.doc-title")
    page.wait_for_selector(".reader[data-rendered=yes]", timeout=20000)
    page.click(".page[data-page='1'] summary")
    para = page.locator(".page[data-page='1'] li[data-paragraph='2']")
    para.locator(".comment-open").click()
    para.locator("textarea").fill("Đề nghị làm rõ chỉ tiêu tăng trưởng")
    para.locator("button[type=submit]").click()
    para.locator(".status.ok").wait_for()
    sp.goto(base + "/portal/feedback")
    row = sp.locator("#feedback-rows tr", has_text="Đề nghị làm rõ chỉ tiêu tăng trưởng")
    assert "trang 1, đoạn 2" in row.inner_text() and "Phạm Thị Dung" in row.inner_text()
    # The chair's queue follows live: a second delegate asks to speak while the page is open.
    sp.goto(base + "/portal/speakers")
    wait_true(sp, "document.getElementById('live-state') && "
              "document.getElementById('live-state').classList.contains('on')")
    svc.portal.feedback.request_to_speak("D-0001", controller.item)
    sp.wait_for_selector("#speakers li[data-delegate='D-0001']", timeout=10000)
    assert page.problems == []
    staff.close()
    context.close()


def test_a_revoked_tablet_forgets_its_documents_within_seconds(controller, browser):
    base = controller.url
    context, page = new_page(browser, "tablet")
    sign_in_with_code(page, base, code_for(controller, "D-0001"))
    page.wait_for_selector("#sync[data-state=complete]", timeout=20000)
    wait_true(page, "document.getElementById('net').dataset.state === 'live'")
    assert page.evaluate("caches.keys().then(k => k.length)") >= 1
    svc = services_of(controller)
    session = next(s["public_id"] for s in svc.portal.auth.sessions() if s["delegate_id"] == "D-0001")
    svc.portal.auth.revoke(session, actor="user:ky-thuat")
    # The revocation reaches the open page live; it wipes the device and returns to the sign-in page.
    page.wait_for_url(base + "/p/signin", timeout=10000)
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    r = page.request.get(base + f"/d/{controller.doc}/file")
    assert r.status == 404  # the cookie no longer reads anything
    context.close()


AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
TABS = ("now", "programme", "documents", "notices", "feedback", "attendance", "candidates", "results",
        "profile")


def axe_violations(pg) -> list[dict]:
    pg.evaluate(AXE.read_text(encoding="utf-8") + ";true")  # DevTools evaluation: the page's CSP stays on
    result = pg.evaluate("""() => axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact,
                                 nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })))""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("size", SIZES)
def test_axe_and_no_sideways_scrolling_on_every_section(controller, browser, size):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: make setup copies it from the npm package axe-core")
    base = controller.url
    context, page = new_page(browser, size)
    page.goto(base + "/p/signin")
    problems = {"signin": axe_violations(page)}
    lists = services_of(controller).candidates
    lists.create_list("Ban Chấp hành", actor="user:chu-toa")
    lists.accept(lists.nominate("Ban Chấp hành", "Phạm Thị Dung", actor="user:chu-toa", biography="Kỹ sư."),
                 actor="user:chu-toa")
    lists.nominate("Ban Chấp hành", "Trần Thị Bình", actor="user:chu-toa", delegate_id="D-0002")
    sign_in_with_code(page, base, code_for(controller, "D-0002"))
    for tab in TABS:
        page.click(f".tabs a[data-tab={tab}]")
        page.wait_for_selector(f"#view[data-shown={tab}]")
        problems[tab] = axe_violations(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), tab
    page.goto(base + f"/p/#doc/{controller.doc}")
    page.wait_for_selector(".reader[data-rendered=yes]", timeout=20000)
    problems["reader"] = axe_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
    context.close()

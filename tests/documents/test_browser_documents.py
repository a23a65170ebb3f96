"""A real headless Chromium against the real controller (cheroot, HTTPS): the chair uploads a document
to an agenda item, sees it on the programme, moves the agenda and watches the hall projector follow
live; the printed QR sheet is rendered and its code decoded and verified; a delegate opens the
document with their badge token and their watermark is read back from the rendered page. The pages
are checked at phone, tablet and desktop widths (nothing wider than the screen)."""

from __future__ import annotations

import pytest
import zxingcpp

from congress import badge_token, document_token, pki
from controller.app import open_database
from controller.documents import mark, survival
from controller.documents.samples import text_pdf
from controller.documents.tables import WatermarkHolder
from controller.programme.agenda import Programme
from controller.programme.importer import import_file
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from tests.browser import fits, https_web, log_in, new_page, wait_true
from tests.controller.conftest import PASSWORD, controller_config

pytestmark = pytest.mark.browser
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


@pytest.fixture
def controller(tmp_path, venue_ca, password_hash):
    cfg = controller_config(
        tmp_path,
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        ca_dir=str(venue_ca.dir),
        web=https_web(venue_ca),
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    with db.session() as s:
        s.add(User(name="chu-toa", role=Role.CHAIR, password_hash=password_hash))
        s.add(Delegate(id="D-0042", name="Nguyễn Thị Ánh Tuyết", delegation="Hà Nội", consent=False))
    import_file(Programme(db), PROGRAMME.encode(), "toml", zone="Asia/Ho_Chi_Minh", actor="setup")
    db.dispose()
    server = ControllerServer(cfg, with_ingest=False).start()
    yield server
    server.stop()


def test_upload_agenda_projector_qr_and_a_delegates_watermark(
    controller, browser_context, venue_ca, tmp_path
):
    base = controller.url
    staff = browser_context()
    page = new_page(staff, responses=True)
    log_in(page, base, "chu-toa", PASSWORD)

    # Upload a document to agenda item 3 through the library page (XHR with a progress bar).
    pdf = tmp_path / "bao-cao.pdf"
    pdf.write_bytes(text_pdf(3, title="Dự thảo Báo cáo chính trị"))
    page.goto(base + "/documents")
    page.fill("#upload input[name=title]", "Dự thảo Báo cáo chính trị")
    page.select_option("#upload select[name=item]", label="3. Báo cáo chính trị")
    page.set_input_files("#upload input[name=file]", str(pdf))
    page.fill("#upload input[name=note]", "bản đầu")
    page.click("#upload button[type=submit]")
    page.wait_for_url(base + "/documents/*", timeout=20000)
    ref = page.url.rsplit("/", 1)[1]
    assert "v1 (current)" in page.inner_text("main")

    # The hall projector follows the agenda live.
    projector = new_page(staff, responses=True)
    projector.goto(base + "/projector")
    projector.evaluate("window.__sameDocument = true")
    page.goto(base + "/programme")
    row = page.locator("tr:has-text('Báo cáo chính trị')").first
    assert "Dự thảo Báo cáo chính trị" in row.inner_text()  # the document is on the agenda
    projector.wait_for_selector("#live-state, #hall", state="attached")
    projector.wait_for_timeout(500)  # let the projector's live feed connect
    row.locator("button.move").click()
    page.wait_for_selector("tr.current:has-text('Báo cáo chính trị')", timeout=10000)
    wait_true(projector, "document.getElementById('now-title').textContent.includes('3. Báo cáo chính trị')",
              15)
    assert projector.evaluate("window.__sameDocument") is True
    projector.reload()
    assert "Dự thảo Báo cáo chính trị" in projector.inner_text("#now-docs")

    # The printed QR sheet: render it, decode the document's code, check it offline and follow it.
    sheet = staff.request.get(base + "/documents/qr-sheet.pdf")
    assert sheet.ok
    img = survival.render(sheet.body(), 150)
    codes = [r.text for r in zxingcpp.read_barcodes(img)]
    public_key = pki.load_signing_key(venue_ca.controller_signing_key).public_key()
    claims = [document_token.verify(c, public_key, venue_ca.venue) for c in codes]
    doc_codes = [
        (c, cl) for c, cl in zip(codes, claims, strict=True) if cl.kind is document_token.Kind.DOCUMENT
    ]
    assert [cl.ref for _, cl in doc_codes] == [ref] and doc_codes[0][1].version == 1
    page.goto(base + "/q/" + document_token.from_scanned(doc_codes[0][0]))
    assert "Genuine code for version 1" in page.inner_text("main")

    # A delegate opens it with their badge token and finds their own watermark on the page.
    token = badge_token.issue(pki.load_signing_key(venue_ca.controller_signing_key), venue_ca.venue, "D-0042")
    tablet = browser_context(
        {"width": 820, "height": 1180}, extra_http_headers={"Authorization": f"Badge {token}"}
    )
    listed = tablet.request.get(base + "/d").json()["documents"]
    assert [d["ref"] for d in listed] == [ref]
    copy = tablet.request.get(base + listed[0]["file"])
    assert copy.ok and copy.headers["content-type"] == "application/pdf"
    found = mark.decode(survival.render(copy.body(), 110))
    assert found is not None
    with controller.db.session() as s:
        holder = s.get(WatermarkHolder, found.number)
    assert holder.holder_id == "D-0042" and holder.name == "Nguyễn Thị Ánh Tuyết"
    text_band = survival.render(copy.body(), 150)[-40:]
    assert (text_band < 100).sum() > 300  # the visible band with the delegate's name is drawn
    page.goto(base + f"/documents/{ref}")
    assert "Nguyễn Thị Ánh Tuyết" in page.inner_text("#openers")

    # Phone, tablet and desktop widths: nothing wider than the screen.
    for width in (390, 820, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/programme", "/documents", f"/documents/{ref}"):
            page.goto(base + path)
            assert fits(page), (path, width)
        projector.set_viewport_size({"width": width, "height": 900})
        assert fits(projector), ("/projector", width)
        page.screenshot(path=str(tmp_path / f"programme-{width}.png"), full_page=True)
    assert page.console_errors == [], page.console_errors
    assert projector.console_errors == [], projector.console_errors


def _item_ref(server, number: str) -> str:
    with server.app.app_context():
        from controller.app import services

        outline = services().programme.outline()
        items = (i for d in outline for s in d["sessions"] for i in s["items"])
        return next(i["ref"] for i in items if i["number"] == number)


def test_the_projector_lists_the_documents_of_the_item_on_the_agenda_live(controller, browser_context):
    """Moving the agenda or uploading, replacing and withdrawing a document of the item on the agenda
    changes the projector's list of documents without reloading it (it kept the list of its first load)."""
    from controller.app import services

    base = controller.url
    staff = browser_context()
    page = new_page(staff, responses=True)
    log_in(page, base, "chu-toa", PASSWORD)
    three, four = _item_ref(controller, "3"), _item_ref(controller, "4")
    with controller.app.app_context():
        svc = services()
        svc.programme.move(three, revision=svc.programme.now()["revision"], actor="t")
        report = svc.documents.add("Dự thảo Báo cáo chính trị", item_ref=three, data=text_pdf(2), actor="t")
    projector = new_page(staff, responses=True)
    projector.goto(base + "/projector")
    projector.evaluate("window.__sameDocument = true")
    assert projector.inner_text("#now-docs") == "Dự thảo Báo cáo chính trị · v1"
    projector.wait_for_timeout(500)  # let the projector's live feed connect (as the test above)

    def listed() -> str:
        return projector.evaluate("document.getElementById('now-docs').innerText")

    with controller.app.app_context():
        svc = services()
        svc.programme.move(four, revision=svc.programme.now()["revision"], actor="t")
    wait_true(projector, "document.getElementById('now-title').textContent.startsWith('4.')", 15)
    wait_true(projector, "document.getElementById('now-docs').children.length === 0", 15)
    with controller.app.app_context():
        speech = services().documents.add("Tham luận của đoàn Hà Nội", item_ref=four, data=text_pdf(1),
                                          actor="t")
    wait_true(projector, "document.getElementById('now-docs').innerText.includes('Tham luận')", 15)
    with controller.app.app_context():
        services().documents.add_version(speech, text_pdf(2), note="bản sửa", actor="t")
    wait_true(projector, "document.getElementById('now-docs').innerText.includes('v2')", 15)
    assert listed() == "Tham luận của đoàn Hà Nội · v2"
    vi = new_page(staff)  # in Vietnamese, the live list's words are the catalogue's
    vi.goto(base + "/projector?lang=vi")
    vi.wait_for_timeout(500)
    with controller.app.app_context():
        services().documents.add_version(speech, text_pdf(1), note="bản sửa lần hai", actor="t")
    wait_true(vi, "document.getElementById('now-docs').innerText.includes('3')", 15)
    assert vi.inner_text("#now-docs") == "Tham luận của đoàn Hà Nội · bản 3"
    with controller.app.app_context():
        services().documents.withdraw(speech, actor="t")
        svc = services()
        svc.programme.move(three, revision=svc.programme.now()["revision"], actor="t")
    wait_true(projector, "document.getElementById('now-docs').innerText.includes('Dự thảo')", 15)
    assert listed() == "Dự thảo Báo cáo chính trị · v1"
    assert report and projector.evaluate("window.__sameDocument") is True
    assert projector.console_errors == [], projector.console_errors


def test_an_upload_goes_once_and_a_refusal_replaces_the_progress_bar(controller, browser_context, tmp_path):
    """A second press of Upload while the file goes does not store the document twice; a refused file
    shows its reason, not a bar left at 100 % (which read as a success), and the form can send again."""
    from tests.documents.corpus import encrypted

    base = controller.url
    page = new_page(browser_context())
    log_in(page, base, "chu-toa", PASSWORD)
    page.goto(base + "/documents")
    bad, good = tmp_path / "khoa.pdf", tmp_path / "bao-cao.pdf"
    bad.write_bytes(encrypted(text_pdf(2)))
    good.write_bytes(text_pdf(40, title="Dự thảo Báo cáo chính trị"))
    page.fill("#upload input[name=title]", "Dự thảo Báo cáo chính trị")
    page.set_input_files("#upload input[name=file]", str(bad))
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#upload-error:not([hidden])")
    assert "password" in page.inner_text("#upload-error")
    assert page.locator("#upload .progress").is_hidden()
    assert page.locator("#upload button[type=submit]").is_enabled()
    page.set_input_files("#upload input[name=file]", str(good))
    page.dblclick("#upload button[type=submit]")
    page.wait_for_url(base + "/documents/*", timeout=20000)
    page.goto(base + "/documents")
    assert page.locator("#library tbody tr").count() == 1, page.inner_text("#library")
    with controller.app.app_context():
        from controller.app import services
        from controller.documents.access import Reader, ReaderKind

        staff = Reader(ReaderKind.STAFF, "t", "t", secretariat=True)
        assert [d.title for d in services().documents.documents(staff)] == ["Dự thảo Báo cáo chính trị"]


def test_the_projectors_roll_call_fits_a_1080p_screen(controller, browser_context):
    """The four figures of a session's roll call stand in one row, and the quorum line under them is on
    the screen (the fourth figure wrapped to a second row and pushed the quorum below 1080 px)."""
    from controller.app import services
    from tests.browser import FULL_HD

    base = controller.url
    with controller.app.app_context():
        svc = services()
        svc.programme.move(_item_ref(controller, "3"), revision=svc.programme.now()["revision"], actor="t")
        svc.rollcalls.open_session("S2", actor="t")
    context = browser_context(FULL_HD, locale="vi")
    page = new_page(context)
    log_in(page, base, "chu-toa", PASSWORD)
    page.goto(base + "/projector")
    page.wait_for_selector("#rollcall:not([hidden])")
    tops = page.evaluate(
        "[...document.querySelectorAll('.roll-figures dd')].map((e) => e.getBoundingClientRect().top)"
    )
    assert len(tops) == 4 and max(tops) - min(tops) < 2, tops
    bottom = page.evaluate("document.getElementById('rc-quorate').getBoundingClientRect().bottom")
    assert bottom <= FULL_HD["height"], bottom
    assert fits(page)


def test_a_scanned_code_opens_the_document_in_the_delegates_app(controller, browser_context):
    """A delegate's phone that scanned a printed code goes on to the document in the delegates' app
    (the page linked the bare file, which a phone not signed in got as a JSON error), and an agenda
    item's code links the programme there (it only said to open it)."""
    from controller.app import services
    from tests.browser import PHONE
    from tests.portal.test_browser_portal import code_for, sign_in_with_code

    base = controller.url
    with controller.app.app_context():
        svc = services()
        three = _item_ref(controller, "3")
        ref = svc.documents.add("Dự thảo Báo cáo chính trị", item_ref=three, data=text_pdf(2), actor="t")
        doc_code = svc.documents.qr_text(ref, 1).rsplit("/q/", 1)[1]
        item_code = svc.documents.item_qr_text(three).rsplit("/q/", 1)[1]
    phone = new_page(browser_context(PHONE, locale="vi"), page_errors=True)
    sign_in_with_code(phone, base, code_for(controller, "D-0042"))
    phone.goto(base + "/q/" + item_code)
    assert phone.get_attribute("#open", "href") == "/p/#programme"
    phone.goto(base + "/q/" + doc_code)
    phone.click("#open")
    phone.wait_for_url(base + f"/p/#doc/{ref}")
    phone.wait_for_selector(".reader[data-rendered=yes]", timeout=20000)
    assert phone.get_attribute(".reader", "data-pages") == "2"
    # (the app's service worker is refused the test venue's certificate: not an error of the page)
    problems = [e for e in phone.console_errors if "SSL certificate" not in e]
    assert problems == [], problems


def test_a_chair_on_a_phone_reaches_the_agenda_buttons_and_a_copy(controller, browser_context):
    """At phone width the programme's row actions (Now on the agenda, Edit) and a document's "Open my
    copy" are there (the phone layout hid every table's fifth column and after, so a chair on a phone
    could not move the agenda); the page itself does not scroll sideways."""
    from controller.app import services
    from tests.browser import PHONE

    base = controller.url
    with controller.app.app_context():
        ref = services().documents.add("Dự thảo", item_ref=_item_ref(controller, "3"), data=text_pdf(1),
                                       actor="t")
    page = new_page(browser_context(PHONE, locale="vi"), responses=True)
    log_in(page, base, "chu-toa", PASSWORD)
    page.goto(base + "/programme")
    row = page.locator("tr:has-text('Báo cáo chính trị')").first
    row.locator("button.move").scroll_into_view_if_needed()
    assert row.locator("button.move").is_visible() and row.locator("summary").is_visible()
    row.locator("button.move").click()
    page.wait_for_selector("tr.current:has-text('Báo cáo chính trị')", timeout=10000)
    assert fits(page)
    page.goto(base + f"/documents/{ref}")
    link = page.locator("#versions a[href$='/v/1/file']")
    link.scroll_into_view_if_needed()
    assert link.is_visible()
    assert fits(page)


def test_the_programme_page_follows_a_roll_call_taken_elsewhere(controller, browser_context):
    """A session opened on another chair's page (or from the command line) shows its roll call on every
    open programme page at once (the line appeared only after a reload)."""
    from controller.app import services

    base = controller.url
    page = new_page(browser_context(), responses=True)
    log_in(page, base, "chu-toa", PASSWORD)
    page.goto(base + "/programme")
    assert page.locator("#rc-line").is_hidden()
    page.evaluate("window.__sameDocument = true")
    # the live feed is connected once a move made elsewhere shows
    with controller.app.app_context():
        svc = services()
        svc.programme.move(_item_ref(controller, "3"), revision=svc.programme.now()["revision"], actor="t")
    wait_true(page, "document.getElementById('now-title').textContent.startsWith('3.')", 15)
    with controller.app.app_context():
        services().rollcalls.open_session("S2", actor="t")
    wait_true(page, "!document.getElementById('rc-line').hidden", 15)
    assert page.inner_text("#rc-line") == (
        "Roll call of Phiên chính thức: 0 present, 0 absent with leave, 1 absent without leave, "
        "of 1 summoned; quorum 1 (not reached)")
    assert page.evaluate("window.__sameDocument") is True
    assert page.console_errors == [], page.console_errors

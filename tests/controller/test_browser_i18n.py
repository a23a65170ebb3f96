"""Real headless Chromium against the real controller (HTTPS, cheroot), in both languages.

- the language switch on the page changes the page and the device keeps it;
- a Vietnamese page renders every character with the served Noto Sans (no fallback glyph, no box):
  each character of the page text is measured with "Noto Sans" backed by two different fallback
  fonts; a character the font lacks takes the fallback's width, which differs between the two;
- axe-core (npm package, injected into the page) finds no serious or critical violation on any page
  at phone (390 px), tablet (768 px) and desktop (1280 px) widths, and no page scrolls sideways;
- an Excel roster with Vietnamese names goes through the upload, the preview and the import;
- the projector screens keep their smallest text at 3 % of the screen height or more (32 px at 1080p,
  65 px at 4K: about 7 cm on a 2.5 m screen), the operator's language switch aside.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from controller.app import open_database
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from controller.voting.tables import BallotKind
from tests.controller.conftest import PASSWORD, controller_config
from tests.controller.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
WIDTHS = (390, 768, 1280)
MIN_TEXT = 0.03  # of the screen height, for the projector screens
DELEGATES = [
    ("D-01", "Nguyễn Thị Ngọc Ánh", "Đoàn Hà Nội", "A1", True),
    ("D-02", "Trần Đức Quỳnh", "Đoàn Huế", "A2", False),
    ("D-03", "Lê Văn Thưởng", "Đoàn Đắk Lắk", None, True),
    ("D-04", "Phạm Ỷ Lan", "Đoàn Hà Nội", None, False),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, venue_ca, password_hash):
    tmp = tmp_path_factory.mktemp("browser-i18n")
    cert_dir = venue_ca.dir / "broker" / "localhost"
    from congress.broker import free_port

    cfg = controller_config(
        tmp,
        venue={"id": "test-venue", "name": "Đại hội đại biểu lần thứ XIV"},
        database={"url": f"sqlite:///{tmp}/congress.db"},
        ca_dir=str(venue_ca.dir),
        web={
            "host": "127.0.0.1",
            "port": free_port(),
            "threads": 24,
            "max_live_clients": 16,
            "tls_cert": str(cert_dir / "cert.pem"),
            "tls_key": str(cert_dir / "key.pem"),
        },
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    with db.session() as s:
        s.add(User(name="admin", role=Role.ADMIN, password_hash=password_hash))
        for did, name, delegation, seat, consent in DELEGATES:
            s.add(Delegate(id=did, name=name, delegation=delegation, seat=seat, consent=consent))
    db.dispose()
    srv = ControllerServer(cfg, with_ingest=False).start()
    ballots = srv.app.extensions["congress"].ballots
    srv.motion = ballots.create("Thông qua chương trình Kỳ họp", BallotKind.MOTION, actor="admin")
    srv.election = ballots.create(
        "Bầu Ban kiểm phiếu",
        BallotKind.ELECTION,
        options=["Nguyễn Văn An", "Trần Thị Bích", "Lê Đức Thọ", "Hoàng Văn Thụ"],
        seats=2,
        actor="admin",
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
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


def new_page(browser, width=1280, height=900, **kw):
    context = browser.new_context(ignore_https_errors=True, viewport={"width": width, "height": height}, **kw)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    return pg


def log_in(pg, server, name="admin"):
    pg.goto(server.url + "/login")
    pg.fill("#name", name)
    pg.fill("#password", PASSWORD)
    pg.click("#login")
    pg.wait_for_url(server.url + "/")


@pytest.fixture
def page(browser, server):
    pg = new_page(browser)
    log_in(pg, server)
    yield pg
    pg.context.close()


def test_language_switch_on_the_page(page, server):
    assert page.get_attribute("html", "lang") == "vi"  # the venue's language
    assert "Tổng quan" in page.inner_text("nav")
    page.click("header .lang-switch button[value=en]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en" and "Dashboard" in page.inner_text("nav")
    page.goto(server.url + "/attendance")  # the device keeps its choice
    assert "Attendance over time" in page.inner_text("main")
    page.click("header .lang-switch button[value=vi]")
    page.wait_for_load_state()
    assert "Số đại biểu có mặt theo thời gian" in page.inner_text("main")
    assert page.console_errors == []


GLYPH_CHECK = """() => {
  const text = document.body.innerText;
  const chars = [...new Set([...text].filter((c) => c.trim()))];
  const ctx = document.createElement("canvas").getContext("2d");
  const width = (c, fallback) => {
    ctx.font = `40px "Noto Sans", ${fallback}`;
    return ctx.measureText(c).width;
  };
  const missing = chars.filter((c) => width(c, "serif") !== width(c, "monospace"));
  const faces = [...document.fonts].filter((f) => f.family.replace(/"/g, "") === "Noto Sans");
  return { chars: chars.length, missing, loaded: faces.filter((f) => f.status === "loaded").length,
           family: getComputedStyle(document.body).fontFamily };
}"""


@pytest.mark.parametrize("path", ["/", "/delegates", "/attendance", "/projector/attendance"])
def test_vietnamese_pages_render_with_the_served_font(page, server, path):
    page.goto(server.url + path + "?lang=vi")
    page.evaluate("document.fonts.ready.then(() => true)")
    found = page.evaluate(GLYPH_CHECK)
    assert found["family"].startswith('"Noto Sans"')
    assert found["loaded"] >= 1 and found["chars"] > 30
    assert found["missing"] == [], f"characters drawn with a fallback font on {path}: {found['missing']}"
    text = page.inner_text("body")
    assert any(c in text for c in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ")


def test_cjk_name_uses_the_fallback_font_not_boxes(page, server):
    srv_db = server.app.extensions["congress"].db
    with srv_db.session() as s:
        s.merge(Delegate(id="G-01", name="王小明", delegation="Khách mời quốc tế", consent=False))
    page.goto(server.url + "/delegates?q=G-01")
    page.evaluate("document.fonts.ready.then(() => true)")
    families = page.evaluate("""() => { const ctx = document.createElement('canvas').getContext('2d');
      const w = (f) => { ctx.font = `40px ${f}`; return ctx.measureText('王小明').width; };
      return [w('"Noto Sans SC", serif'), w('"Noto Sans SC", monospace')]; }""")
    assert families[0] == families[1]  # Noto Sans SC has the glyphs (loaded for them only)
    with srv_db.session() as s:
        s.delete(s.get(Delegate, "G-01"))


def pages_to_check(server) -> list[str]:
    return [
        "/login",
        "/",
        "/attendance",
        "/devices",
        "/delegates",
        "/delegates/D-01/edit",
        "/audit",
        "/users",
        "/account",
        "/ballots",
        f"/ballots/{server.motion}",
        f"/ballots/{server.election}",
        "/keypads",
        "/projector/attendance",
        f"/ballots/{server.motion}/projector",
        "/no-such-page",
    ]


def axe_violations(pg) -> list[dict]:
    pg.evaluate(AXE.read_text(encoding="utf-8") + ";true")  # DevTools evaluation: the page's CSP stays on
    result = pg.evaluate("""() => axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact,
                                 nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })))""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_axe_on_every_page_at_three_widths(browser, server, width):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: make setup copies it from the npm package axe-core")
    pg = new_page(browser, width=width, height=900 if width > 400 else 844)
    log_in(pg, server)
    problems, overflow = {}, {}
    for lang in ("vi", "en"):
        for path in pages_to_check(server):
            if path == "/login":
                continue
            pg.goto(server.url + path + ("&" if "?" in path else "?") + f"lang={lang}")
            pg.wait_for_load_state("networkidle")
            found = axe_violations(pg)
            if found:
                problems[f"{lang} {path}"] = found
            scroll = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if scroll > 1:
                overflow[f"{lang} {path}"] = scroll
    anonymous = new_page(browser, width=width)
    anonymous.goto(server.url + "/login")
    if found := axe_violations(anonymous):
        problems["/login"] = found
    anonymous.context.close()
    pg.context.close()
    assert problems == {}, problems
    assert overflow == {}, f"pages wider than the {width} px screen (px too wide): {overflow}"


def test_xlsx_roster_with_vietnamese_names_through_the_page(page, server, tmp_path):
    import unicodedata

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Mã đại biểu", "Họ và tên", "Đoàn", "Ghế", "Đồng ý"])
    people = [
        ("X-01", "Đặng Thị Ngọc Thịnh", "Đoàn Bà Rịa – Vũng Tàu", "C1"),
        ("X-02", "Huỳnh Tấn Phát", "Đoàn Bến Tre", "C2"),
        ("X-03", "Ưng Hoàng Phúc", "Đoàn Bến Tre", "C3"),
    ]
    for did, name, delegation, seat in people:
        sheet.append([did, unicodedata.normalize("NFD", name), delegation, seat, "không"])
    sheet.append(["X-04", "", "Đoàn Bến Tre", "C4", "không"])  # no name: refused
    path = tmp_path / "Danh sách đại biểu.xlsx"
    book.save(path)
    page.goto(server.url + "/delegates?lang=vi")
    page.set_input_files("input[name=roster]", str(path))
    page.click("form.upload button[type=submit]")
    page.wait_for_selector("text=Kiểm tra trước khi nhập tệp Danh sách đại biểu.xlsx")
    body = page.inner_text("main")
    assert "3 đại biểu mới" in body and "1 dòng bị từ chối" in body and "thiếu họ tên" in body
    page.click("button.confirm")
    page.wait_for_selector("#import-state:has-text('đã xong')", timeout=30000)
    page.goto(server.url + "/delegates?lang=vi&q=ben tre")
    rows = page.inner_text("table.delegates tbody")
    for _did, name, _delegation, _seat in people[1:]:
        assert name in rows  # NFC, as typed, found without accents
    page.goto(server.url + "/delegates?lang=vi&q=dang thi")
    assert "Đặng Thị Ngọc Thịnh" in page.inner_text("table.delegates tbody")
    assert page.console_errors == []


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_projector_text_is_legible_from_the_back(browser, server, size):
    pg = new_page(browser, width=size[0], height=size[1])
    log_in(pg, server)
    for path in ("/projector/attendance?lang=vi", f"/ballots/{server.motion}/projector?lang=vi"):
        pg.goto(server.url + path)
        smallest = pg.evaluate("""() => {
          let min = Infinity, where = "";
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            const el = walk.currentNode.parentElement;
            if (!walk.currentNode.textContent.trim() || el.closest(".operator") || !el.offsetParent) continue;
            const px = parseFloat(getComputedStyle(el).fontSize);
            if (px < min) {
              min = px;
              where = el.tagName + " " + walk.currentNode.textContent.trim().slice(0, 30);
            }
          }
          return { min, where };
        }""")
        assert smallest["min"] >= MIN_TEXT * size[1], f"{path} at {size}: {smallest}"
    pg.context.close()


def test_the_accessibility_check_can_fail(browser):
    pg = new_page(browser)
    pg.set_content('<html lang="vi"><title>x</title><body><main><h1>x</h1><button></button></main></body>'
                   "</html>")
    assert [v["id"] for v in axe_violations(pg)] == ["button-name"]
    pg.context.close()

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

import pytest

from controller.app import open_database
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from controller.voting.tables import BallotKind
from tests.browser import (
    WIDTHS,
    at_width,
    audit_pages,
    axe_violations,
    https_web,
    log_in,
    new_page,
    require_axe,
)
from tests.controller.conftest import PASSWORD, controller_config

pytestmark = pytest.mark.browser
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
    cfg = controller_config(
        tmp,
        venue={"id": "test-venue", "name": "Đại hội đại biểu lần thứ XIV"},
        database={"url": f"sqlite:///{tmp}/congress.db"},
        ca_dir=str(venue_ca.dir),
        web=https_web(venue_ca, threads=24, max_live_clients=16),
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
    lists = srv.app.extensions["congress"].candidates
    srv.candidate_list = lists.create_list("Ban Chấp hành", actor="admin")
    for name in ("Nguyễn Văn An", "Trần Thị Bích"):
        lists.accept(lists.nominate("Ban Chấp hành", name, actor="admin", biography="Sinh năm 1970."),
                     actor="admin")
    lists.nominate("Ban Chấp hành", "Lê Đức Thọ", actor="admin")
    yield srv
    srv.stop()


def admin_page(browser_context, server, viewport=None):
    """A page logged in as the admin."""
    pg = new_page(browser_context(viewport))
    log_in(pg, server.url, "admin", PASSWORD)
    return pg


@pytest.fixture
def page(browser_context, server):
    return admin_page(browser_context, server)


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
        "/candidates",
        f"/candidates/{server.candidate_list}",
        "/projector/attendance",
        f"/ballots/{server.motion}/projector",
        "/no-such-page",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_axe_on_every_page_at_three_widths(browser_context, server, width):
    require_axe()
    pg = admin_page(browser_context, server, at_width(width))
    paths = [path for path in pages_to_check(server) if path != "/login"]
    problems, overflow = audit_pages(pg, server.url, paths)
    anonymous = new_page(browser_context({"width": width, "height": 900}))
    anonymous.goto(server.url + "/login")
    if found := axe_violations(anonymous):
        problems["/login"] = found
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
def test_projector_text_is_legible_from_the_back(browser_context, server, size):
    pg = admin_page(browser_context, server, {"width": size[0], "height": size[1]})
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


def test_the_accessibility_check_can_fail(browser_context):
    pg = new_page(browser_context())
    pg.set_content('<html lang="vi"><title>x</title><body><main><h1>x</h1><button></button></main></body>'
                   "</html>")
    assert [v["id"] for v in axe_violations(pg)] == ["button-name"]

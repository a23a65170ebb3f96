"""The nominate form finds a delegate by a few letters without tones (the page carries no roster), on a
tablet and a phone: choosing a result fills in their number, the nomination takes the roster's name. The
CSP forbids inline script and style: a console error fails."""

from __future__ import annotations

import pytest

from controller.storage.tables import Delegate
from tests.browser import PHONE, TABLET, fits, log_in, new_page, wait_true

from .conftest import _support
from .test_browser_ballot_pages import server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_find_a_delegate_without_tones_and_nominate_them(server, browser_context, viewport):  # noqa: F811
    svc = server.app.extensions["congress"]
    with svc.db.session() as s:
        s.add(Delegate(id="HN-017", name="Trần Thị Bình", delegation="Đoàn Hà Nội", summoned=True))
    lid = svc.candidates.create_list("Ban Kiểm tra", actor="user:admin")
    page = new_page(browser_context(viewport=viewport))
    log_in(page, server.url, "admin", _support.PASSWORD)
    page.goto(server.url + f"/candidates/{lid}")
    page.fill("#delegate-search", "thi binh")
    wait_true(page, "document.querySelector(\"#delegate-results button[data-id='HN-017']\")")
    assert "Đoàn Hà Nội" in page.inner_text("#delegate-results")
    assert fits(page)
    page.click("#delegate-results button[data-id='HN-017']")
    assert page.input_value("#delegate-id") == "HN-017"
    assert "Trần Thị Bình" in page.inner_text("#delegate-results li.chosen")
    page.click("#nominate-button")
    page.wait_for_selector("p.notice[role=status]")
    row = page.locator("#candidate-rows tr[data-status=nominated]")
    assert "Trần Thị Bình" in row.inner_text() and "HN-017" in row.inner_text()
    page.fill("#delegate-search", "zzzz")
    wait_true(page, "document.querySelector('#delegate-results li.none')")
    assert fits(page) and page.console_errors == []

"""Printing from the delegates' app in a real headless Chromium: the Print button of the reader
reports the pages rendered, then opens the browser's print dialog (stubbed here, as headless
Chromium would block on it); the staff's document page then counts the pages printed."""

from __future__ import annotations

import pytest

from tests.browser import browser, browser_context, log_in, new_page, wait_true  # noqa: F401
from tests.controller.conftest import PASSWORD
from tests.portal.test_browser_portal import code_for, controller, sign_in_with_code  # noqa: F401

pytestmark = pytest.mark.browser
TABLET = {"width": 768, "height": 1024}


def test_print_from_the_reader_counts_on_the_staff_page(controller, browser_context):  # noqa: F811
    base = controller.url
    context = browser_context(viewport=TABLET, locale="vi")
    context.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    page = new_page(context, page_errors=True)
    sign_in_with_code(page, base, code_for(controller, "D-0001"))
    page.goto(f"{base}/p/#doc/{controller.doc}")
    page.wait_for_selector(".reader[data-rendered=yes]", timeout=20000)
    assert page.inner_text("#print") == "In"  # Vietnamese, the venue's language
    with page.expect_response(lambda r: r.url.endswith(f"/p/api/documents/{controller.doc}/printed")) as resp:
        page.click("#print")
    assert resp.value.status == 200
    wait_true(page, "window.__printed === 1")
    assert page.get_attribute(".reader", "data-reported") == "yes"
    assert page.console_errors == []
    # On paper: the pages only, as rendered (the watermark is drawn into them), one per sheet.
    page.emulate_media(media="print")
    assert page.locator(".pages canvas").first.is_visible()
    for hidden in ("#print", ".tabs", "header.bar", ".reader h1", ".page-text"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.evaluate("getComputedStyle(document.querySelector('.page')).breakAfter") == "page"

    staff = new_page(browser_context(locale="vi"))
    log_in(staff, base, "chu-toa", PASSWORD)
    staff.goto(f"{base}/documents/{controller.doc}")
    assert staff.inner_text("#pages-delivered") == "2"
    assert staff.inner_text("#pages-printed") == "2"
    assert staff.inner_text("#pages-not-printed") == "0"

"""The candidate list follows the live feed, in a real headless Chromium: the staff page of a list
(1080p) draws a delegate's nomination from their phone, the nominee's answer and the photo she sends
from hers without a reload, on the page's one live connection; the delegates' app draws a nomination
staff made of them without a reload. The live events name the list and the kind of change, never a person."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.browser import FULL_HD, fits, log_in, wait_true
from tests.browser import new_page as collecting_page
from tests.controller.conftest import PASSWORD

from .test_browser_portal import browser, code_for, controller, new_page, sign_in_with_code  # noqa: F401

pytestmark = pytest.mark.browser


def _jpeg() -> bytes:
    return cv2.imencode(".jpg", np.full((800, 640, 3), 110, np.uint8))[1].tobytes()


def _row(list_page, cid: int) -> str:
    return f"document.querySelector(\"#candidate-rows tr[data-candidate='{cid}']\")"


def test_the_staff_page_and_the_app_draw_nominations_and_answers_live(controller, browser):  # noqa: F811
    base = controller.url
    svc = controller.app.extensions["congress"]
    lists = svc.candidates
    lid = lists.create_list("Ban Chấp hành", actor="user:chu-toa")
    sub = svc.bus.subscribe()

    staff = collecting_page(browser.new_context(viewport=FULL_HD))
    log_in(staff, base, "chu-toa", PASSWORD)
    staff.goto(base + f"/candidates/{lid}")
    wait_true(staff, "document.getElementById('live-state').classList.contains('on')")
    staff.evaluate("() => { window.notReloaded = true; }")

    # An (the nominator) nominates Bình from her phone.
    context, an = new_page(browser, "phone")
    sign_in_with_code(an, base, code_for(controller, "D-0001"))
    an.click(".tabs a[data-tab=candidates]")
    an.wait_for_selector(f"#nominee-{lid}")
    an.fill(f"#nominee-{lid}", "binh")
    an.click(".nominate button.choice[data-id='D-0002']")
    an.fill(f"#bio-{lid}", "Giáo viên.")
    an.click(".nominate button[type=submit]")
    an.wait_for_selector("ul.candidates.mine li[data-candidate]")
    cid = lists.candidates("Ban Chấp hành")[-1].id
    wait_true(staff, _row(staff, cid))
    row = staff.locator(f"#candidate-rows tr[data-candidate='{cid}']")
    assert row.get_attribute("data-status") == "nominated"
    assert "Trần Thị Bình" in row.inner_text() and "Nguyễn Văn An" in row.inner_text()  # who nominated
    assert staff.evaluate("window.notReloaded === true")

    # Bình accepts on her phone: the staff page shows it, numbered, without a reload.
    context2, binh = new_page(browser, "phone")
    sign_in_with_code(binh, base, code_for(controller, "D-0002"))
    binh.click(".tabs a[data-tab=candidates]")
    binh.wait_for_selector("button.answer-accept")
    binh.click("button.answer-accept")
    wait_true(staff, _row(staff, cid) + ".dataset.status === 'accepted'")
    assert staff.locator(f"#candidate-rows tr[data-candidate='{cid}'] td.no").inner_text() == "1"
    assert staff.evaluate("window.notReloaded === true") and fits(staff)

    # She sends her own photo from the phone: her app and the staff page show it.
    mine_li = f"ol.candidates li[data-candidate='{cid}']"
    binh.wait_for_selector(f"{mine_li} details.own-photo summary")
    binh.click(f"{mine_li} details.own-photo summary")
    binh.set_input_files(f"#own-photo-{cid}", files=[{"name": "binh.jpg", "mimeType": "image/jpeg",
                                                    "buffer": _jpeg()}])
    binh.click(f"{mine_li} form.own-photo button[type=submit]")
    wait_true(binh, f"document.querySelector(\"{mine_li} img.photo\")")
    wait_true(staff, _row(staff, cid) + ".querySelector('img.thumb')")
    assert binh.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # Staff nominate An herself (the service, as the staff page does): her app draws it at once.
    an.wait_for_selector("#view[data-shown=candidates]")
    assert an.locator("button.answer-accept").count() == 0
    mine = lists.nominate("Ban Chấp hành", "Nguyễn Văn An", actor="user:chu-toa", delegate_id="D-0001")
    wait_true(an, f"document.querySelector(\"[data-candidate='{mine}'] button.answer-accept\")")
    wait_true(staff, _row(staff, mine))

    # The events name the list and the change only.
    events = []
    while (e := sub.get(timeout=0.2)) is not None:
        if e.kind == "candidates":
            events.append(e.data)
    sub.close()
    assert {"nominate", "accepted"} <= {e["change"] for e in events}
    assert all(set(e) == {"list", "change"} and e["list"] == lid for e in events)
    assert staff.console_errors == [] and an.problems == [] and binh.problems == []
    context.close()
    context2.close()

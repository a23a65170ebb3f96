"""Candidate lists in the delegates' app, in a real headless Chromium at phone width (390 x 844): a
delegate finds another by name and nominates them with a short biography; the nominee, on their own
phone, accepts; the list shows them numbered with the other candidates and their photos, also with the
network gone; the staff page names the delegate who nominated. No console error, no sideways scroll."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.browser import wait_true

from .test_browser_portal import browser, code_for, controller, new_page, sign_in_with_code  # noqa: F401

pytestmark = pytest.mark.browser


def _svc(server):
    return server.app.extensions["congress"]


def test_nominate_from_the_phone_and_the_nominee_accepts(controller, browser):  # noqa: F811
    base = controller.url
    lists = _svc(controller).candidates
    lid = lists.create_list("Ban Chấp hành", actor="user:chu-toa")
    first = lists.nominate("Ban Chấp hành", "Hoàng Văn Em", actor="user:chu-toa", biography="Kỹ sư.")
    lists.accept(first, actor="user:chu-toa")
    photo = cv2.imencode(".jpg", np.full((600, 480, 3), 90, np.uint8))[1].tobytes()
    lists.set_photo(first, photo, "em.jpg", actor="user:chu-toa")

    context, page = new_page(browser, "phone")
    sign_in_with_code(page, base, code_for(controller, "D-0001"))
    page.click(".tabs a[data-tab=candidates]")
    page.wait_for_selector("#view[data-shown=candidates] .candidate-list")
    assert page.inner_text(".candidate-list h2") == "Ban Chấp hành"
    assert page.locator(".candidate-list ol.candidates li.candidate img.photo").count() == 1
    page.fill(f"#nominee-{lid}", "binh")  # without tones
    page.wait_for_selector(".nominate button.choice[data-id='D-0002']")
    page.click(".nominate button.choice[data-id='D-0002']")
    assert "Trần Thị Bình" in page.inner_text(".nominate .chosen")
    page.fill(f"#bio-{lid}", "Giáo viên, 20 năm công tác.")
    page.click(".nominate button[type=submit]")
    page.wait_for_selector("ul.candidates.mine li[data-candidate]")
    assert "Trần Thị Bình" in page.inner_text("ul.candidates.mine")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    nominated = lists.candidates("Ban Chấp hành")[-1]
    assert (nominated.name, nominated.nominated_by, nominated.status.value) == (
        "Trần Thị Bình", "delegate:D-0001", "nominated")
    assert page.problems == []

    # Bình, on her own phone, accepts.
    context2, binh = new_page(browser, "phone")
    sign_in_with_code(binh, base, code_for(controller, "D-0002"))
    binh.click(".tabs a[data-tab=candidates]")
    binh.wait_for_selector("button.answer-accept")
    binh.click("button.answer-accept")
    binh.wait_for_selector(f"ol.candidates li[data-candidate='{nominated.id}']")
    numbers = binh.locator("ol.candidates li.candidate").evaluate_all(
        "(items) => items.map((li) => [li.dataset.number, li.querySelector('.name').textContent])")
    assert numbers == [["1", "Trần Thị Bình"], ["2", "Hoàng Văn Em"]]  # Bình before Em: given names
    assert "Giáo viên, 20 năm công tác." in binh.inner_text("ol.candidates")
    assert binh.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # She rewrites her biography herself.
    mine = f"ol.candidates li[data-candidate='{nominated.id}']"
    binh.click(f"{mine} details.own-bio summary")
    binh.fill(f"#own-bio-{nominated.id}", "Giáo viên Toán, Bí thư Chi bộ.")
    binh.click(f"{mine} form.own-bio button[type=submit]")
    binh.wait_for_selector(f"{mine} p.bio:has-text('Giáo viên Toán')")
    assert lists.get(nominated.id).biography == "Giáo viên Toán, Bí thư Chi bộ."

    # The network goes: the list and its photo still open from the device.
    wait_true(binh, "navigator.serviceWorker.controller !== null")
    binh.click(".tabs a[data-tab=candidates]")  # drawn again: saves the list and the photos
    wait_true(binh, "caches.open('portal-data').then((c) => c.match('/p/api/candidates')).then(Boolean)")
    context2.set_offline(True)
    binh.click(".tabs a[data-tab=profile]")
    binh.click(".tabs a[data-tab=candidates]")
    binh.wait_for_selector("#view[data-shown=candidates] ol.candidates li.candidate")
    assert binh.locator("ol.candidates li.candidate").count() == 2
    wait_true(binh, "document.querySelector('ol.candidates img.photo').naturalWidth > 0")
    context2.set_offline(False)
    assert all("net::ERR_" in p or "Failed to fetch" in p for p in binh.problems), binh.problems
    context2.close()
    context.close()

    # The staff page shows the nomination with the delegate who made it.
    context3 = browser.new_context(viewport={"width": 768, "height": 1024})
    staff = context3.new_page()
    staff.goto(base + "/login")
    staff.fill("#name", "chu-toa")
    from tests.controller.conftest import PASSWORD

    staff.fill("#password", PASSWORD)
    staff.click("#login")
    staff.wait_for_url(base + "/")
    staff.goto(base + f"/candidates/{lid}")
    row = staff.locator(f"tr[data-candidate='{nominated.id}']")
    assert "Nguyễn Văn An" in row.inner_text() and row.get_attribute("data-status") == "accepted"
    context3.close()

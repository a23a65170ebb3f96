"""The candidate-list page in a real headless Chromium against the real controller server, at 1080p and
at tablet width (768): nominate (one with a photo), record the answers, put the list to the congress,
create the election from the adopted list, and find the candidates numbered in Vietnamese order of
their given names on the list page, the ballot page (with biographies and photos) and the projector,
twelve of them fitting a 1080p screen. The CSP forbids inline script and style: a console error fails."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from congress.keypads.protocol import VoteFrame
from controller.voting.assignment import Assignments
from controller.voting.tables import BallotStatus

from .test_browser_ballot_pages import _box, _no_sideways_scroll, page, server  # noqa: F401

pytestmark = pytest.mark.browser
#: Typed on the page; the rest of the twelve are nominated through the service.
TYPED = [("Trần Văn Bình", "Sinh năm 1975, kỹ sư xây dựng.\nBí thư Chi bộ."), ("Nguyễn Thị Ánh", ""),
         ("Lê Văn An", "Giáo viên.")]
MORE = ["Phạm Thu Hà", "Hoàng Đức Anh", "Vũ Ngọc Ánh", "Bùi Thị Lan", "Đỗ Mạnh Hùng", "Hồ Xuân Hương",
        "Ngô Bảo Châu", "Dương Thị Thu Trang", "Lê Hoàng Minh Khôi Nguyên Vũ Trường Giang (đoàn Hà Nội)"]


def _svc(server):  # noqa: F811
    return server.app.extensions["congress"]


def _photo(tmp_path) -> str:
    img = np.zeros((800, 640, 3), np.uint8)
    img[:] = (60, 90, 160)
    path = tmp_path / "chan-dung.jpg"
    path.write_bytes(cv2.imencode(".jpg", img)[1].tobytes())
    return str(path)


def test_from_nomination_to_the_numbered_election(server, page, tmp_path):  # noqa: F811
    from congress.vietnamese import sorted_names

    svc = _svc(server)
    page.goto(server.url + "/ballots")
    page.click("header nav a[href='/candidates']")
    page.wait_for_url(server.url + "/candidates")
    page.fill("input[name=name]", "Ban Chấp hành")
    page.click("form[action='/candidates'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/candidates/\d+\?done=created"))
    lid = int(re.search(r"/candidates/(\d+)", page.url).group(1))
    for i, (name, bio) in enumerate(TYPED):
        page.fill("#nominate input[name=name]", name)
        page.fill("#nominate textarea[name=biography]", bio)
        if i == 0:
            page.set_input_files("#nominate input[name=photo]", _photo(tmp_path))
        page.click("#nominate-button")
        page.wait_for_selector("p.notice[role=status]")
    page.fill("#nominate input[name=delegate]", "d0001")  # a delegate, their name from the roster
    page.click("#nominate-button")
    page.wait_for_selector("p.notice[role=status]")
    for name in MORE:
        svc.candidates.nominate("Ban Chấp hành", name, actor="user:admin")
    page.reload()
    _no_sideways_scroll(page)
    # Everyone accepts, but Delegate 1 declines.
    while page.locator("tr[data-status=nominated]").count():
        row = page.locator("tr[data-status=nominated]").first
        declines = "Delegate 1" in row.inner_text()
        row.locator(f"button.answer-{'decline' if declines else 'accept'}").click()
        page.wait_for_selector("p.notice[role=status]")
    names = [n for n, _ in TYPED] + MORE
    expected = sorted_names(names, given_first=True)
    numbers = page.locator("#candidate-rows td.no").all_inner_texts()
    shown = page.locator("#candidate-rows td.name").all_inner_texts()
    assert numbers[:12] == [str(i) for i in range(1, 13)] and numbers[12] == ""
    assert [re.sub(r" \(d\d+\)$", "", s) for s in shown[:12]] == expected  # diacritics kept, given-name order
    assert expected[:3] == ["Lê Văn An", "Hoàng Đức Anh", "Nguyễn Thị Ánh"]
    assert page.locator("#candidate-rows img.thumb").count() == 1
    thumb = _box(page, "#candidate-rows img.thumb")
    assert thumb["w"] == 48 and thumb["h"] == 60
    natural = page.evaluate("document.querySelector('#candidate-rows img.thumb').naturalWidth")
    assert natural == 384  # 640 x 800 kept as 384 x 480

    # Withdrawing asks first; cancelling changes nothing.
    row = page.locator("tr[data-status=accepted]", has_text="Phạm Thu Hà")
    row.locator("button.reject").click()
    page.wait_for_selector("#confirm-withdraw")
    page.click(f"a.button[href$='/candidates/{lid}']")
    page.wait_for_url(re.compile(rf".*/candidates/{lid}$"))
    page.wait_for_selector("#candidate-rows")
    assert page.locator("tr[data-status=accepted]", has_text="Phạm Thu Hà").count() == 1

    # Put to the congress: the motion is linked, the list is fixed.
    page.click("#put-to-congress")
    page.wait_for_selector("#motion-link")
    assert page.locator("#nominate").count() == 0
    motion = svc.candidates.get_list(lid).motion_id
    Assignments(svc.db).assign_by_seat({f"S{i:04d}": i for i in range(1, 11)}, actor="tech")
    svc.ballots.open(motion, actor="user:admin")
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 1, motion, frozenset({1})) for k in range(1, 9)])
    svc.ballots.close(motion, actor="user:admin")
    page.reload()
    assert page.get_attribute("#motion-state", "id") and "adopted" in page.inner_text("#motion-state")

    # Create the election from the list: a ballot numbered as the list is.
    page.fill(".new-election input[name=seats]", "5")
    page.click("#create-election")
    page.wait_for_url(re.compile(r".*/ballots/\d+\?done=created"))
    bid = int(re.search(r"/ballots/(\d+)", page.url).group(1))
    b = svc.ballots.get(bid)
    assert b.options == expected and b.seats == 5 and b.status == BallotStatus.DRAFT
    cards = page.locator("#candidates ol.candidate-cards li")
    assert cards.count() == 12
    assert [c.get_attribute("data-number") for c in cards.all()] == [str(i) for i in range(1, 13)]
    assert "Sinh năm 1975" in page.text_content("#candidates")  # folded under "Biography"
    _no_sideways_scroll(page)
    page.goto(server.url + "/ballots")
    assert page.locator(f"a[href='/ballots/{bid}']").count() >= 1

    # The projector keeps names and numbers only, and twelve of them fit a 1080p screen.
    svc.ballots.open(bid, actor="user:admin")
    page.goto(server.url + f"/ballots/{bid}/projector")
    items = page.locator("ol.options li")
    assert items.count() == 12
    assert [items.nth(i).locator(".no").inner_text() for i in range(12)] == [str(i) for i in range(1, 13)]
    assert items.nth(0).locator(".name").inner_text() == "Lê Văn An"
    assert page.locator("img").count() == 0
    if page.viewport_name == "1080p":
        last = _box(page, "ol.options li:last-child")
        assert last["y"] + last["h"] <= 1080
    _no_sideways_scroll(page)

    # Once voting has begun nobody withdraws, and the page says why.
    page.goto(server.url + f"/candidates/{lid}")
    page.locator("tr[data-status=accepted]", has_text="Phạm Thu Hà").locator("button.reject").click()
    page.click("#confirm-withdraw")
    assert "can no longer withdraw" in page.inner_text("p.error[role=alert]")
    assert page.locator("tr[data-status=accepted]", has_text="Phạm Thu Hà").count() == 1
    page.console_errors[:] = [e for e in page.console_errors if "409 (CONFLICT)" not in e]  # that refusal

"""While the motion putting a candidate list to the congress is open, the projector and the hall screen
list the candidates with their numbers (names and numbers only), compact: fourteen, some with long names,
stay on a 1080p screen with the motion's options, its count and the named roll call; a tablet has no
sideways scrolling. The CSP forbids inline script and style: a console error fails."""

from __future__ import annotations

import pytest

from congress.vietnamese import sorted_names
from controller.voting.tables import BallotStatus
from tests.browser import FULL_HD, TABLET, fits, log_in, new_page, wait_true

from .conftest import _support
from .test_browser_ballot_pages import CANDIDATES, server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
NAMES = [*CANDIDATES, "Trịnh Công Sơn", "Lý Thường Kiệt"]


def _list_put_to_the_congress(srv) -> tuple[int, list[str]]:
    svc = srv.app.extensions["congress"]
    lists = svc.candidates
    for name in NAMES:
        lists.accept(lists.nominate("Ban Chấp hành", name, actor="user:admin"), actor="user:admin")
    declined = lists.nominate("Ban Chấp hành", "Người Từ Chối", actor="user:admin")
    lists.decline(declined, actor="user:admin")
    mid = lists.approval_motion(svc.ballots, "Ban Chấp hành", "Thông qua danh sách Ban Chấp hành",
                                actor="user:admin")
    return mid, sorted_names(NAMES, given_first=True)


def _bottom(page, selector: str) -> float:
    return page.eval_on_selector(selector, "e => e.getBoundingClientRect().bottom")


@pytest.mark.parametrize("viewport", [FULL_HD, TABLET], ids=["1080p", "tablet"])
def test_the_open_approval_motion_shows_the_numbered_list(server, browser_context, viewport):  # noqa: F811
    svc = server.app.extensions["congress"]
    mid, expected = _list_put_to_the_congress(server)
    svc.ballots.open(mid, actor="user:admin")
    page = new_page(browser_context(viewport=viewport))
    log_in(page, server.url, "admin", _support.PASSWORD)
    for path in (f"/ballots/{mid}/projector", "/hall"):
        page.goto(server.url + path)
        items = page.locator("#list-candidates ol.list-names li")
        assert items.count() == 14, path
        assert [items.nth(i).locator(".no").inner_text() for i in range(14)] == [str(i) for i in range(1, 15)]
        assert [items.nth(i).locator(".name").inner_text() for i in range(14)] == expected
        assert "Người Từ Chối" not in page.inner_text("main")  # a declined nomination is not on the list
        assert page.locator("main img").count() == 0
        assert "Ban Chấp hành" in page.inner_text("#list-candidates-head")
        assert fits(page), path
        if viewport is FULL_HD:
            wait_true(page, "document.getElementById('not-voted-list')")  # the named roll call, fitted below
            for selector in ("#list-candidates li:last-child", "ol.options li:last-child", "#received",
                             "#roll-live"):
                assert _bottom(page, selector) <= FULL_HD["height"], (path, selector)
            # Columns: the fourteen names take a few lines, not fourteen.
            first, last = (page.eval_on_selector(f"#list-candidates li:{x}",
                                                 "e => e.getBoundingClientRect().top")
                           for x in ("first-child", "last-child"))
            assert last - first < 7 * page.eval_on_selector("#list-candidates li", "e => e.offsetHeight")
    # Closed, the projector shows the result instead (the hall screen reloads itself on the close: leave it).
    page.goto("about:blank")
    svc.ballots.close(mid, actor="user:admin")
    assert svc.ballots.get(mid).status == BallotStatus.CLOSED
    page.goto(server.url + f"/ballots/{mid}/projector")
    assert page.locator("#list-candidates").count() == 0
    assert page.console_errors == []

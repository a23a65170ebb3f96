"""``congress demo --sites 2``: the demo venue with two satellite sites, each with its own broker bridged
to the central one; the controller's sites page shows both, their links up and their delegates. (Without
door cameras: the door units and faces are the one-site demo's test.) A real browser then watches both
sites' rows on the staff page and the projector while a site broker is killed -9 and started again."""

from __future__ import annotations

import time
import urllib.request

import pytest

from demo.photos import Person
from demo.stack import ADMIN, Stack
from demo.venue import prepare
from tests.browser import log_in, new_page


def test_two_site_venue_page_shows_both_sites(tmp_path):
    people = [Person(f"Person_{i}", (), ()) for i in range(9)]  # no photos: nothing to enroll
    venue = prepare(tmp_path / "venue", people, arriving=0, keypads=10, sites=2)
    assert venue.doors == ("door-1", "door-site-1", "door-site-2")
    assert venue.door_sites == {"door-site-1": "site-1", "door-site-2": "site-2"}
    assert venue.door("door-site-1").broker.port == venue.site_ports["site-1"] != venue.broker_port
    stack = Stack(venue)
    try:
        stack.start(doors=False)
        sites = stack.controller.services.sites
        deadline = time.monotonic() + 30
        while True:
            rows = {s.site: s for s in sites.overview().sites}
            if all(rows.get(f"site-{n}") and rows[f"site-{n}"].link == "up" for n in (1, 2)):
                break
            assert time.monotonic() < deadline, {k: v.link for k, v in rows.items()}
            time.sleep(0.2)
        assert {k: v.summoned for k, v in rows.items()} == {"": 3, "site-1": 3, "site-2": 3}
        client = stack.controller.app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        assert client.post("/login", data={"csrf_token": token, "name": "admin",
                                           "password": stack.password}).status_code == 302
        html = client.get("/sites").get_data(as_text=True)
        assert 'data-site="site-1"' in html and 'data-site="site-2"' in html
        assert html.count('class="link up"') == 2
        with urllib.request.urlopen(stack.url + "/login", timeout=10) as r:  # the real server is up too
            assert r.status == 200
    finally:
        stack.stop()


@pytest.mark.browser
def test_two_site_venue_in_a_real_browser(tmp_path, browser_context):
    """Headless Chromium on the demo's real server: the sites page and the projector show both sites;
    a site broker killed -9 turns its row to "link down since ..." on both without a reload, and back."""
    people = [Person(f"Person_{i}", (), ()) for i in range(9)]
    stack = Stack(prepare(tmp_path / "venue", people, arriving=0, keypads=10, sites=2))
    try:
        stack.start(doors=False)
        context = browser_context()
        staff = new_page(context)
        log_in(staff, stack.url, ADMIN, stack.password, start="/login?lang=en")
        staff.goto(stack.url + "/sites?lang=en")
        for site in ("site-1", "site-2"):
            staff.wait_for_selector(f"tr[data-site='{site}'] td.link.up", timeout=30000)
        assert staff.inner_text("#total-summoned") == "9"
        projector = new_page(context)
        projector.goto(stack.url + "/sites/projector?lang=en")
        assert projector.locator("#site-rows tr[data-site]").count() == 3  # central, site-1, site-2
        for pg in (staff, projector):
            pg.evaluate("window.__sameDocument = true")  # gone if the page reloads

        stack.site_brokers["site-2"].kill()  # the central broker sends the bridge's will
        for pg in (staff, projector):
            pg.wait_for_selector("tr[data-site='site-2'] td.link.down", timeout=60000)
            assert pg.evaluate("window.__sameDocument") is True
        assert "link down since" in projector.inner_text("tr[data-site='site-2']")
        assert staff.locator("tr[data-site='site-1'] td.link.up").count() == 1
        stack.site_brokers["site-2"].start()
        staff.wait_for_selector("tr[data-site='site-2'] td.link.up", timeout=60000)
        projector.wait_for_selector("tr[data-site='site-2'] td.link.up", timeout=60000)
        assert staff.console_errors + projector.console_errors == []
    finally:
        stack.stop()

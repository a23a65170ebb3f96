"""A real headless Chromium against the real controller server with a [keypads] table: the chair
creates and opens a ballot, the simulated keypads (on a pty) vote when the ballot is announced, the
count rises on the page without a reload, the chair closes it, and the projector view shows the
chart. The CSP forbids inline script, so a console error fails the test."""

from __future__ import annotations

import os
import shutil

import pytest

from congress.broker import free_port
from congress.keypads.keystore import KeyStore
from congress.keypads.simulator import BaseStationSimulator
from controller.app import open_database
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Role, User
from controller.voting.assignment import Assignments

from .conftest import Roster, _support

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
N = 30


@pytest.fixture
def venue(tmp_path):
    keys = KeyStore.generate(range(1, N + 1))
    keys.save(tmp_path / "keypads.json")
    sim = BaseStationSimulator(keys, link=tmp_path / "base.tty", auto_vote=True, seed=3).start()
    cfg = _support.controller_config(
        tmp_path,
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        web={"host": "127.0.0.1", "port": free_port(), "threads": 12, "max_live_clients": 4},
        security={"argon2_memory_kib": 8192, "argon2_time_cost": 1, "secure_cookies": False},
        attendance={"quorum": "majority"},
        keypads={"port": str(tmp_path / "base.tty"), "keys_file": str(tmp_path / "keypads.json"),
                 "retry_s": 0.05},
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    from controller.accounts.auth import make_hasher

    with db.session() as s:
        s.add(User(name="chair", role=Role.CHAIR,
                   password_hash=make_hasher(**_support.FAST_HASH).hash(_support.PASSWORD)))
    roster = Roster(db)
    ids = roster.add(N)
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, N + 1)}, actor="tech")
    roster.check_in(ids[: N - 2])
    db.dispose()
    server = ControllerServer(cfg, with_ingest=False).start()
    yield server, sim
    server.stop()
    sim.stop()


@pytest.fixture
def page():
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        pg.console_errors = []
        pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
        try:
            yield pg
        finally:
            browser.close()


def test_chair_runs_a_keypad_ballot_in_the_browser(venue, page):
    server, sim = venue
    base = server.url
    page.goto(base + "/ballots")
    page.fill("#name", "chair")
    page.fill("#password", _support.PASSWORD)
    page.click("#login")
    page.wait_for_url(base + "/ballots")
    page.fill("input[name=title]", "Adopt the agenda")
    page.click("text=Create draft")
    page.wait_for_selector("text=ballot created (draft)")
    page.click("text=Open ballot")
    page.wait_for_selector("text=ballot open")
    # The keypads vote when the ballot is announced; the count follows the live feed.
    from playwright.sync_api import expect

    expect(page.locator("#received")).to_have_text("28", timeout=20000)
    assert page.inner_text("#eligible") == "28"
    page.click("#close-ballot")
    page.click("#confirm-close")  # closing asks first
    page.wait_for_selector("text=ballot closed")
    assert page.locator("ol.bars svg.bar rect").count() == 3
    if os.environ.get("CONGRESS_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CONGRESS_SCREENSHOTS"], "ballot.png"), full_page=True)
    statuses = {a.status.name for a in sim.acks.values()}
    assert statuses == {"ACCEPTED", "NOT_ELIGIBLE"}  # the two delegates not checked in were refused
    page.goto(base + "/ballots/1/projector")
    assert "Adopt the agenda" in page.inner_text("h1")
    assert page.locator("ol.bars.big svg.bar rect").count() == 3
    if os.environ.get("CONGRESS_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CONGRESS_SCREENSHOTS"], "projector.png"))
    assert page.console_errors == []

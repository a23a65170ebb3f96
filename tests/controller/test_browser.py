"""A real headless Chromium against the real controller: HTTPS (cheroot), the ingest on a real Mosquitto
with client certificates, a simulated door unit publishing a signed check-in and a signed heartbeat.
The page logs in and shows both without a reload; the CSP allows no inline script, so any console
error about it fails the test."""

from __future__ import annotations

import shutil

import pytest

from congress import wire
from congress.broker import free_port
from controller.app import open_database
from controller.bench.sim_door import SimDoor
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from tests.controller.conftest import PASSWORD, controller_config

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def controller(tmp_path, venue_ca, broker, password_hash):
    cert_dir = venue_ca.dir / "broker" / "localhost"
    cfg = controller_config(
        tmp_path,
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        broker={
            "host": "localhost",
            "port": broker.port,
            "ca_file": str(venue_ca.ca_cert),
            "cert_file": str(venue_ca.controller_cert),
            "key_file": str(venue_ca.controller_key),
        },
        ca_dir=str(venue_ca.dir),
        web={
            "host": "127.0.0.1",
            "port": free_port(),
            "threads": 16,
            "max_live_clients": 8,
            "tls_cert": str(cert_dir / "cert.pem"),
            "tls_key": str(cert_dir / "key.pem"),
        },
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    with db.session() as s:
        s.add(User(name="tech", role=Role.TECHNICIAN, password_hash=password_hash))
        s.add(Delegate(id="D0042", name="Ada Lovelace", delegation="Analytical", seat="A1", consent=False))
    db.dispose()
    server = ControllerServer(cfg).start()
    yield server
    server.stop()


@pytest.fixture
def page(tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
        pg = context.new_page()
        pg.console_errors = []
        pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
        try:
            yield pg
        finally:
            browser.close()


def test_login_and_live_checkin_and_heartbeat(controller, page, venue_ca, broker, tmp_path):
    base = controller.url
    page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    page.fill("#name", "tech")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#feed", state="attached")
    page.wait_for_selector("#live-state.on", timeout=15000)
    assert page.inner_text("#present") == "0"
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    door = SimDoor(venue_ca.unit("door-1"), venue_id=venue_ca.venue, host="localhost", port=broker.port)
    door.start()
    try:
        door.checkin("D0042")
        page.wait_for_selector("#feed tr:has-text('Ada Lovelace')", timeout=20000)
        page.wait_for_function("document.getElementById('present').textContent === '1'", timeout=10000)
        assert page.evaluate("window.__sameDocument") is True
        row = page.inner_text("#feed tr:first-child")
        assert "Analytical" in row and "in" in row and "door-1" in row
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        page.goto(base + "/devices")
        page.wait_for_selector("#live-state.on", timeout=15000)
        page.evaluate("window.__sameDocument = true")
        creds = venue_ca.unit("door-1")
        from congress import pki

        beat = wire.UnitStatus(
            venue=venue_ca.venue,
            unit="door-1",
            boot="boot-b",
            seq=1,
            state=wire.UnitState.READY,
            uptime_s=12,
            outbox=3,
            gallery_version=1,
            temp_mc=48_000,
            software="edge-test",
            detail='{"fps": 12.5, "latency_ms": 19.0}',
        )
        door.publish_raw(beat.topic, wire.encode(beat, pki.load_signing_key(creds.signing_key)))
        page.wait_for_selector("#units tr[data-unit='door-1']:has-text('edge-test')", timeout=20000)
        assert page.evaluate("window.__sameDocument") is True
        assert "12.5" in page.inner_text("#units tr[data-unit='door-1']")
        assert page.inner_text("#ingest-connected") == "connected"
        assert int(page.inner_text("#ingest-stored")) >= 1
    finally:
        door.stop()
    response = page.request.get(base + "/api/summary")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert page.console_errors == []


def test_attendant_lane_and_check_in_by_hand(controller, page, venue_ca, broker):
    """A door unsure of a face asks staff; staff let the delegate in on the lane page, then check them
    out and in again by hand; the record shows those as by hand, under the account, and audits them."""
    from controller import audit

    base = controller.url
    page.goto(base + "/login")
    page.fill("#name", "tech")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#feed", state="attached")
    page.goto(base + "/lane")
    page.wait_for_selector("#live-state.on", timeout=15000)
    assert "Nobody is waiting." in page.inner_text("#lane")
    door = SimDoor(venue_ca.unit("door-1"), venue_id=venue_ca.venue, host="localhost", port=broker.port)
    door.start()
    try:
        door.checkin("D0042", method=wire.Method.ATTENDANT, score=0.51)
        card = page.wait_for_selector(".lane-card:has-text('Ada Lovelace')", timeout=20000)
        assert "door-1" in card.inner_text() and "0.51" in card.inner_text()
        card.query_selector("button.confirm").click()
        page.wait_for_selector("#lane:has-text('Nobody is waiting.')", timeout=20000)
    finally:
        door.stop()

    page.fill("#by-hand input[name=delegate_id]", "D0042")
    page.click("#by-hand-out")
    page.wait_for_selector("#by-hand .ok-msg", timeout=20000)
    assert page.inner_text("#by-hand .ok-msg") == "Ada Lovelace (D0042) checked out by hand."
    page.fill("#by-hand input[name=delegate_id]", "D9999")
    page.click("#by-hand-in")
    assert page.inner_text("#by-hand .error") == "no delegate with id D9999"
    page.goto(base + "/")
    page.wait_for_selector("#feed tr", timeout=15000)
    assert page.inner_text("#present") == "0"
    first = page.inner_text("#feed tr:first-child")
    assert "Ada Lovelace" in first and "out" in first and "by hand" in first and "staff:tech" in first
    assert "attendant" in page.inner_text("#feed tr:nth-child(2)")

    page.goto(base + "/lane")
    page.fill("#by-hand input[name=delegate_id]", "D0042")
    page.click("#by-hand-in")
    page.wait_for_selector("#by-hand .ok-msg", timeout=20000)
    page.goto(base + "/")
    page.wait_for_function("document.getElementById('present').textContent === '1'", timeout=10000)
    with controller.services.db.session() as s:
        rows = [(e.action, e.actor) for e in audit.recent(s)]
    assert ("lane.confirm", "tech") in rows and rows.count(("checkins.manual", "tech")) == 2
    # The only console line is the refused form's own answer (400) for the unknown delegate.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
    assert len(page.console_errors) == 1

"""A real headless Chromium against the real controller: HTTPS (cheroot), the ingest on a real Mosquitto
with client certificates, a simulated door unit publishing a signed check-in and a signed heartbeat.
The page logs in and shows both without a reload; the CSP allows no inline script, so any console
error about it fails the test."""

from __future__ import annotations

import pytest

from congress import wire
from controller.app import open_database
from controller.bench.sim_door import SimDoor
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from tests.browser import fill_login, https_web, log_in, new_page, wait_true
from tests.controller.conftest import PASSWORD, controller_config

pytestmark = pytest.mark.browser


@pytest.fixture
def controller(tmp_path, venue_ca, broker, password_hash):
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
        web=https_web(venue_ca),
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
def page(browser_context):
    return new_page(browser_context())


def test_login_and_live_checkin_and_heartbeat(controller, page, venue_ca, broker, tmp_path):
    base = controller.url
    page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    fill_login(page, "tech", PASSWORD)
    page.wait_for_selector("#feed", state="attached")
    page.wait_for_selector("#live-state.on", timeout=15000)
    assert page.inner_text("#present") == "0"
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    door = SimDoor(venue_ca.unit("door-1"), venue_id=venue_ca.venue, host="localhost", port=broker.port)
    door.start()
    try:
        door.checkin("D0042")
        page.wait_for_selector("#feed tr:has-text('Ada Lovelace')", timeout=20000)
        wait_true(page, "document.getElementById('present').textContent === '1'", 10)
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
    log_in(page, base, "tech", PASSWORD)
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
    wait_true(page, "document.getElementById('present').textContent === '1'", 10)
    with controller.services.db.session() as s:
        rows = [(e.action, e.actor) for e in audit.recent(s)]
    assert ("lane.confirm", "tech") in rows and rows.count(("checkins.manual", "tech")) == 2
    # The only console line is the refused form's own answer (400) for the unknown delegate.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
    assert len(page.console_errors) == 1

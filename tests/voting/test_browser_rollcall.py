"""The roll of an open named ballot on the projector and the hall screen, in a real headless Chromium
against the real controller server: keypad votes arrive from the simulated base station on a real pty
(and a paper ballot is issued), and the "not voted yet" names shrink on the 1080p projector and on
/hall without a reload, on the page's one live connection; with 1,500 delegates in 70 delegations the
projector shows counts per delegation, as many as fit and one line for the rest, and nothing runs off
a 1080p screen or sideways on a tablet; a secret ballot's live events (keypad votes over the pty, a
paper ballot) name nobody and the projector lists nobody. The CSP forbids inline script, so a console
error fails a test."""

from __future__ import annotations

import json
import os
import time

import pytest

from congress.broker import free_port
from congress.keypads.keystore import KeyStore
from congress.keypads.protocol import VoteFrame
from congress.keypads.simulator import BaseStationSimulator
from controller.app import open_database
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from controller.voting.assignment import Assignments
from controller.voting.paper import PaperBallots
from controller.voting.tables import BallotKind
from tests.browser import FULL_HD, TABLET, axe_violations, fits, log_in, new_page, require_axe, wait_true

from .conftest import Roster, _support

pytestmark = pytest.mark.browser
#: Twelve delegates of the small hall, in Vietnamese; keypad i is delegate i's.
NAMES = ["Nguyễn Thị Phương Thảo", "Trần Văn Bình", "Lê Hoàng Minh", "Phạm Thu Hà", "Hoàng Đức Anh",
         "Vũ Ngọc Ánh", "Đặng Quốc Bảo", "Bùi Thị Lan", "Đỗ Mạnh Hùng", "Hồ Xuân Hương", "Ngô Bảo Châu",
         "Dương Thị Thu Trang"]
PROVINCES = ["Hà Nội", "Thành phố Hồ Chí Minh", "Bà Rịa – Vũng Tàu", "Thừa Thiên Huế", "Đắk Lắk",
             "Quảng Ninh", "Cần Thơ", "Hải Phòng", "Đà Nẵng", "Nghệ An"]


def _venue(tmp_path, delegates: list[tuple[str, str]], *, keypads: bool):
    """A controller with ``delegates`` (name, delegation) all checked in, keypad i bound to the i-th;
    with ``keypads`` the base-station simulator on a pty (it votes only when told)."""
    n = len(delegates)
    sim = None
    extra = {}
    if keypads:
        keys = KeyStore.generate(range(1, n + 1))
        keys.save(tmp_path / "keypads.json")
        sim = BaseStationSimulator(keys, link=tmp_path / "base.tty", auto_vote=False, seed=5).start()
        extra["keypads"] = {"port": str(tmp_path / "base.tty"), "keys_file": str(tmp_path / "keypads.json"),
                            "retry_s": 0.05}
    cfg = _support.controller_config(
        tmp_path,
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        web={"host": "127.0.0.1", "port": free_port(), "threads": 16, "max_live_clients": 6},
        security={"argon2_memory_kib": 8192, "argon2_time_cost": 1, "secure_cookies": False},
        attendance={"quorum": "majority"},
        **extra,
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    from controller.accounts.auth import make_hasher

    with db.session() as s:
        s.add(User(name="chair", role=Role.CHAIR,
                   password_hash=make_hasher(**_support.FAST_HASH).hash(_support.PASSWORD)))
        for i, (name, delegation) in enumerate(delegates, 1):
            s.add(Delegate(id=f"d{i:04d}", name=name, delegation=delegation, seat=f"S{i:04d}"))
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, n + 1)}, actor="tech")
    Roster(db).check_in([f"d{i:04d}" for i in range(1, n + 1)])
    db.dispose()
    return ControllerServer(cfg, with_ingest=False).start(), sim


@pytest.fixture
def small_hall(tmp_path):
    server, sim = _venue(tmp_path, [(name, "Đoàn Hà Nội") for name in NAMES], keypads=True)
    yield server, sim
    server.stop()
    sim.stop()


@pytest.fixture
def big_hall(tmp_path):
    delegates = [(f"Đại biểu {i:04d} {PROVINCES[i % 10]}", f"Đoàn đại biểu {PROVINCES[i % 10]} {i % 70:02d}")
                 for i in range(1, 1501)]
    server, _ = _venue(tmp_path, delegates, keypads=False)
    yield server
    server.stop()


def _shown(page) -> list[str]:
    return page.eval_on_selector_all("#not-voted-list li", "els => els.map(e => e.textContent)")


def _on_screen(page) -> None:
    """Nothing below the bottom of the window, nothing wider than it, every listed line inside it."""
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    assert fits(page)
    bottoms = page.eval_on_selector_all("#not-voted-list li, #roll-live p",
                                        "els => els.map(e => e.getBoundingClientRect().bottom)")
    limit = page.evaluate("document.getElementById('roll-live').getBoundingClientRect().bottom")
    assert all(b <= limit + 1 for b in bottoms) and limit <= page.evaluate("window.innerHeight") + 1


def test_keypad_votes_shrink_the_not_voted_names_on_the_projector_and_the_hall(small_hall, browser_context):
    server, sim = small_hall
    ballots = server.services.ballots
    bid = ballots.create("Thông qua chương trình đại hội", BallotKind.MOTION, actor="test")
    ballots.open(bid, actor="test")
    context = browser_context(viewport=FULL_HD)
    projector = new_page(context, page_errors=True)
    log_in(projector, server.url, "chair", _support.PASSWORD)
    projector.goto(f"{server.url}/ballots/{bid}/projector?lang=vi")
    assert sorted(_shown(projector)) == sorted(NAMES)
    assert "12 đại biểu chưa biểu quyết" in projector.inner_text("#not-voted-head")
    hall = new_page(context, page_errors=True)
    hall.goto(f"{server.url}/hall?lang=vi")
    wait_true(hall, "document.querySelectorAll('#not-voted-list li').length === 12")
    for page in (projector, hall):  # a reload would drop this mark
        page.evaluate("() => { window.rollMark = 'kept'; }")
    for kid in (1, 2, 3, 4, 5):  # the keypads of the first five delegates, over the pty
        sim.vote(kid, bid, {1})
    assert sim.wait_acks(5)
    for page in (projector, hall):
        wait_true(page, "document.querySelectorAll('#not-voted-list li').length === 7")
        assert sorted(_shown(page)) == sorted(NAMES[5:])
        assert "7 đại biểu chưa biểu quyết" in page.inner_text("#not-voted-head")
        assert page.inner_text("#received") == "5"
        if os.environ.get("CONGRESS_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["CONGRESS_SCREENSHOTS"], "projector-roll.png"))
        assert "Trần Văn Bình (máy bấm)" in page.inner_text("#voted-line")
    PaperBallots(ballots).issue(bid, "d0012", actor="counter")  # her keypad failed: a paper ballot
    for page in (projector, hall):
        wait_true(page, "document.querySelectorAll('#not-voted-list li').length === 6")
        assert "Dương Thị Thu Trang" not in _shown(page)
        assert "Dương Thị Thu Trang (phiếu giấy)" in page.inner_text("#voted-line")
        assert page.evaluate("window.rollMark") == "kept"  # no reload: the live feed did it
        _on_screen(page)
    require_axe()
    assert axe_violations(projector) == []
    assert projector.console_errors == [] and hall.console_errors == []


def test_fifteen_hundred_delegates_stay_on_a_1080p_projector(big_hall, browser_context):
    server = big_hall
    svc = server.services
    bid = svc.ballots.create("Bầu Ban Chấp hành", BallotKind.ELECTION, seats=3,
                             options=[f"Ứng cử viên {i}" for i in range(1, 8)], actor="test")
    svc.ballots.open(bid, actor="test")
    context = browser_context(viewport=FULL_HD)
    page = new_page(context, page_errors=True)
    log_in(page, server.url, "chair", _support.PASSWORD)
    page.goto(f"{server.url}/ballots/{bid}/projector?lang=en")
    page.evaluate("document.fonts.ready.then(() => true)")
    wait_true(page, "document.querySelector('#not-voted-list li.more') !== null")

    def shown_total() -> int:
        lines = page.eval_on_selector_all(
            "#not-voted-list li", "els => els.map(e => e.classList.contains('more')"
            " ? Number(e.textContent.split(':').pop().replace(/[^0-9]/g, ''))"
            " : Number(e.querySelector('.n').textContent.replace(/[^0-9]/g, '')))")
        return sum(lines)

    assert page.locator("#not-voted-list.groups").count() == 1
    assert "1500 delegates have not voted yet" in page.inner_text("#not-voted-head")
    assert shown_total() == 1500  # the delegations shown and the line for the rest add up
    _on_screen(page)
    assert axe_violations(page) == []

    def vote(first: int, last: int) -> None:
        with svc.db.session() as s:
            svc.ballots.record_votes(s, [VoteFrame(k, 1, bid, frozenset({1, 2}))
                                         for k in range(first, last + 1)])
        svc.ballots.votes_committed({bid})

    vote(1, 1400)  # 100 left: too many names for the screen, still counts per delegation
    wait_true(page, "document.getElementById('received').textContent === '1400'")
    wait_true(page, "document.getElementById('not-voted-head').textContent.startsWith('100 ')")
    if os.environ.get("CONGRESS_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CONGRESS_SCREENSHOTS"], "projector-roll-groups.png"))
    assert page.locator("#not-voted-list.groups").count() == 1 and shown_total() == 100
    _on_screen(page)
    vote(1401, 1490)  # 10 left: their names
    wait_true(page, "document.querySelectorAll('#not-voted-list.names li').length === 10")
    assert sorted(_shown(page)) == sorted(f"Đại biểu {i:04d} {PROVINCES[i % 10]}" for i in range(1491, 1501))
    _on_screen(page)
    assert page.locator("#voted-line").inner_text().startswith("Voted: 1490 by keypad, 0 on paper")
    tablet = new_page(browser_context(viewport=TABLET), page_errors=True)  # a tablet opening it
    log_in(tablet, server.url, "chair", _support.PASSWORD)
    tablet.goto(f"{server.url}/hall?lang=vi")
    wait_true(tablet, "document.querySelectorAll('#not-voted-list li').length > 0")
    assert fits(tablet)
    assert page.console_errors == [] and tablet.console_errors == []


def test_a_secret_ballot_names_nobody_on_the_live_feed_or_the_projector(small_hall, browser_context):
    """Keypad votes over the pty and a paper ballot in a secret ballot: every live event the controller
    publishes meanwhile (any kind) carries no delegate name or number and no option; the projector
    counts and lists nobody."""
    server, sim = small_hall
    svc = server.services
    sub = svc.bus.subscribe()
    bid = svc.ballots.create("Bầu Trưởng Ban kiểm phiếu", BallotKind.ELECTION, options=["An", "Bình"],
                             seats=1, secret=True, actor="test")
    svc.ballots.open(bid, actor="test")
    page = new_page(browser_context(viewport=FULL_HD), page_errors=True)
    log_in(page, server.url, "chair", _support.PASSWORD)
    page.goto(f"{server.url}/ballots/{bid}/projector?lang=vi")
    for kid in range(1, 7):
        sim.vote(kid, bid, {1 if kid % 2 else 2})
    assert sim.wait_acks(6)
    PaperBallots(svc.ballots).issue(bid, "d0012", actor="counter")
    wait_true(page, "document.getElementById('received').textContent === '7'")
    assert page.locator("#roll-live").count() == 0
    text = page.inner_text("body")
    assert not [name for name in NAMES if name in text]
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1") and fits(page)
    events = []
    deadline = time.monotonic() + 10
    while not any(e.data.get("received") == 7 for e in events):  # the ballot timer flushes the last
        assert time.monotonic() < deadline, [e.data for e in events]
        if (e := sub.get(timeout=0.2)) is not None:
            events.append(e)
    sub.close()
    people = NAMES + [f"d{i:04d}" for i in range(1, 13)]
    for e in events:
        body = json.dumps(e.data, ensure_ascii=False)
        assert not [p for p in [*people, "An", "Bình"] if p in body], (e.kind, e.data)
        if e.kind == "ballot":
            assert set(e.data) <= {"ballot", "status", "received", "eligible", "closes_at"}, e.data
    assert any(e.kind == "ballot" and e.data.get("received") for e in events)
    assert page.console_errors == []

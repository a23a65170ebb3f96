"""Ballot and keypad pages: roles, CSRF, the chair's actions, results, exports, minutes, live events."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from congress.keypads.protocol import AckStatus, VoteFrame
from controller.storage.tables import AuditEntry, Role, User
from controller.voting.assignment import Assignments

from .conftest import Roster, _support


@pytest.fixture
def web(sqlite_db, tmp_path):
    from controller.accounts.auth import make_hasher
    from controller.app import create_app

    pw = make_hasher(**_support.FAST_HASH).hash(_support.PASSWORD)
    with sqlite_db.session() as s:
        for role in Role:
            s.add(User(name=role.value, role=role, password_hash=pw))
    roster = Roster(sqlite_db)
    ids = roster.add(6)
    Assignments(sqlite_db).assign_by_seat({f"S{i:04d}": i for i in range(1, 7)}, actor="tech")
    roster.check_in(ids[:5])
    app = create_app(_support.controller_config(tmp_path), {"TESTING": True}, db=sqlite_db)
    return app


def client_as(app, role: str | None):
    c = app.test_client()
    c.environ_base["wsgi.url_scheme"] = "https"
    token = None
    if role:
        assert _support.login(c, role).status_code == 302
        token = _support.page_csrf(c, "/")
    return c, token


def create(c, token, **form):
    data = {"csrf_token": token, "title": "Adopt the minutes", "kind": "motion", "rule": "simple",
            "base": "cast", "allow_change": "on", **form}
    return c.post("/ballots", data=data)


def test_roles_and_csrf(web):
    observer, otoken = client_as(web, "observer")
    chair, ctoken = client_as(web, "chair")
    tech, ttoken = client_as(web, "technician")
    anon, _ = client_as(web, None)
    assert anon.get("/ballots").status_code in (302, 401)
    assert observer.get("/ballots").status_code == 200
    assert create(observer, otoken).status_code == 403
    assert create(chair, "wrong-token").status_code == 400
    r = create(chair, ctoken)
    assert r.status_code == 302 and "/ballots/1" in r.headers["Location"]
    assert observer.get("/ballots/1").status_code == 200
    assert tech.post("/ballots/1/open", data={"csrf_token": ttoken}).status_code == 403
    assert chair.post("/ballots/1/open", data={}).status_code == 400  # no CSRF token
    assert chair.post("/ballots/1/open", data={"csrf_token": ctoken}).status_code == 302
    assert observer.get("/api/ballots/1").get_json()["status"] == "open"
    assert observer.get("/keypads").status_code == 403  # keypad health is for technicians
    assert tech.get("/keypads").status_code == 200


def test_chair_runs_a_ballot_and_everyone_reads_the_results(web):
    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    observer, _ = client_as(web, "observer")
    sub = svc.bus.subscribe()
    create(chair, token, title="Budget 2027")
    assert observer.get("/ballots/1/export.csv").status_code == 409  # no results before closing
    chair.post("/ballots/1/open", data={"csrf_token": token, "minutes": "5"})
    ballots = svc.ballots
    with svc.db.session() as s:
        statuses = ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset({c}))
                                            for k, c in ((1, 1), (2, 1), (3, 2), (4, 3), (6, 1))])
    assert statuses[-1] == AckStatus.NOT_ELIGIBLE  # delegate 6 is not checked in
    ballots.votes_committed({1})
    api = observer.get("/api/ballots/1").get_json()
    assert api["progress"]["received"] == 4 and api["progress"]["not_heard"] == [5]
    assert api["result"] is None  # nothing to watch while the ballot is open
    page = observer.get("/ballots/1").get_data(as_text=True)
    assert "Keypads not heard yet" in page and "<svg" not in page
    r = chair.post("/ballots/1/repoll", data={"csrf_token": token}, follow_redirects=True)
    assert "no keypad base station" in r.get_data(as_text=True)
    confirm = chair.post("/ballots/1/close", data={"csrf_token": token})
    assert confirm.status_code == 200 and 'name="confirmed" value="yes"' in confirm.get_data(as_text=True)
    assert observer.get("/api/ballots/1").get_json()["status"] == "open"  # not closed without confirming
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})

    events = []
    while (e := sub.get(timeout=0.1)) is not None:
        events.append(e)
    sub.close()
    progress = [e.data for e in events if "received" in e.data]
    assert progress and set(progress[0]) == {"ballot", "status", "received", "eligible"}
    assert any(e.data.get("status") == "closed" for e in events)

    page = observer.get("/ballots/1").get_data(as_text=True)
    assert "Adopted" in page and "<svg" in page
    proj = observer.get("/ballots/1/projector").get_data(as_text=True)
    assert "Budget 2027" in proj and 'class="bars big"' in proj
    doc = observer.get("/ballots/1/export.json").get_json()
    assert doc["result"]["counts"] == {"Yes": 2, "No": 1, "Abstain": 1} and doc["result"]["passed"]
    rows = list(csv.reader(io.StringIO(observer.get("/ballots/1/export.csv").get_data().decode("utf-8-sig"))))
    assert rows[0] == ["ballot", "title", "option", "votes", "elected"]
    assert ["1", "Budget 2027", "Yes", "2", ""] in rows
    assert rows[-1][2:4] == ["(outcome)", "passed"]
    minutes = observer.get("/ballots/1/minutes").get_data(as_text=True)
    assert "minutes of ballot 1" in minutes and "Adopted" in minutes and "5 present of 6 summoned" in minutes
    assert json.loads(json.dumps(doc))["present_at_open"] == 5


def test_election_form_and_bad_input(web):
    chair, token = client_as(web, "chair")
    r = create(chair, token, kind="election", candidates="Ana\nBen\nCy", seats="5")
    assert r.status_code == 400 and "1 to 64 candidates" in r.get_data(as_text=True)
    assert "Ana\nBen\nCy" in r.get_data(as_text=True)  # the form keeps what the chair typed
    # A motion with candidates is refused with the reason, never created without them.
    r = create(chair, token, kind="motion", candidates="Draft A\nDraft B")
    assert r.status_code == 400 and "takes no candidates" in r.get_data(as_text=True)
    r = create(chair, token, kind="election", candidates="Ana\nBen\nCy", seats="2", secrecy="secret",
               allow_change="on")
    assert r.status_code == 302
    b = web.extensions["congress"].ballots.get(1)
    assert b.secret and not b.allow_change and b.options == ["Ana", "Ben", "Cy"]
    # The old checkbox still reads as a secret ballot; "named" with a change allowed stays named.
    create(chair, token, kind="election", candidates="Ana\nBen", seats="1", secret="on")
    create(chair, token, title="Named", secrecy="named", allow_change="on")
    svc = web.extensions["congress"].ballots
    assert svc.get(2).secret and not svc.get(3).secret and svc.get(3).allow_change
    for bad in ("nan", "inf", "1e400", "-1", "abc"):
        r = chair.post("/ballots/3/open", data={"csrf_token": token, "minutes": bad})
        assert r.status_code == 400 and "number of minutes" in r.get_data(as_text=True), bad
    assert svc.get(3).status.value == "draft"


def test_rule_text_and_notices_read_right(web):
    chair, token = client_as(web, "chair")
    create(chair, token, title="Agenda")
    page = chair.get("/ballots/1?done=created").get_data(as_text=True)
    assert "more yes than no votes" in page and "ballot created (draft)" in page
    assert "ballot open" not in chair.get("/ballots/1?done=opened").get_data(as_text=True)  # a stale notice
    chair.post("/ballots/1/open", data={"csrf_token": token, "minutes": "2"})
    page = chair.get("/ballots/1?done=opened").get_data(as_text=True)
    assert "ballot open" in page and 'id="countdown"' in page
    assert re.search(r'voting ends at <time id="closes-at">\d\d:\d\d:\d\d</time>', page)  # venue time
    assert 'id="time-left">1:5' in page or 'id="time-left">2:00' in page
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})
    page = chair.get("/ballots/1?done=opened").get_data(as_text=True)
    assert "ballot open" not in page and "countdown" not in page and "Closed at" in page
    assert "more yes than no votes" in page and "majority of" not in page


def test_ballot_list_rows_fragment_and_new_account_role(web):
    chair, token = client_as(web, "chair")
    admin, _ = client_as(web, "admin")
    assert "No ballots yet" in chair.get("/ballots/rows").get_data(as_text=True)
    create(chair, token, title="Late motion")
    assert "Late motion" in chair.get("/ballots/rows").get_data(as_text=True)
    users = admin.get("/users").get_data(as_text=True)
    assert '<option value="observer" selected>' in users


def test_keypad_assignment_pages_are_audited(web):
    svc = web.extensions["congress"]
    tech, token = client_as(web, "technician")
    r = tech.post("/keypads/bind", data={"csrf_token": token, "keypad": "40", "delegate": "d0001",
                                         "mode": "door"}, follow_redirects=True)
    assert "keypad 40 bound to d0001 (keypad 1 released)" in r.get_data(as_text=True)
    r = tech.post("/keypads/bind", data={"csrf_token": token, "keypad": "41", "delegate": "d0006",
                                         "mode": "door"}, follow_redirects=True)
    assert "not checked in" in r.get_data(as_text=True)
    r = tech.post("/keypads/bind", data={"csrf_token": token, "keypad": str(2**40), "delegate": "d0002"},
                  follow_redirects=True)
    assert "is not a keypad id" in r.get_data(as_text=True)
    assert tech.post("/keypads/40/lost", data={"csrf_token": token}).status_code == 302
    assert tech.post("/keypads/2/lost", data={}).status_code == 400
    tech.post("/keypads/swap", data={"csrf_token": token, "a": "2", "b": "3"})
    health = {k["keypad_id"]: k for k in tech.get("/api/keypads").get_json()["keypads"]}
    assert health[40]["alarm"] == "reported lost" and health[2]["delegate_id"] == "d0003"
    devices = tech.get("/devices").get_data(as_text=True)
    assert 'id="keypads-panel"' in devices and "reported lost" in devices
    with svc.db.session() as s:
        actors = s.execute(select(AuditEntry.action, AuditEntry.actor)).all()
    assert ("keypad.lost", "user:technician") in actors and ("keypad.swap", "user:technician") in actors


def test_forms_rules_and_a_further_round_on_the_page(web):
    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    r = create(chair, token, title="Ban Kiểm phiếu", kind="election", candidates="An\nBình\nChâu", seats="2",
               form="strike", rule="share", share="3/5", base="collected")
    assert r.status_code == 302
    b = svc.ballots.get(1)
    assert (b.form.value, b.share_num, b.share_den, b.base.value) == ("strike", 3, 5, "collected")
    page = chair.get("/ballots/1").get_data(as_text=True)
    # What counts as valid, blank and invalid is on the page before the ballot opens.
    assert "at most 2 candidates kept" in page and "every name struck out" in page
    assert "more than 3/5 of the ballots collected" in page
    assert create(chair, token, kind="election", candidates="A\nB", rule="share",
                  share="three fifths").status_code == 400
    chair.post("/ballots/1/open", data={"csrf_token": token})
    with svc.db.session() as s:  # Châu struck out on 3 ballots, Bình on 2: An 5, Bình 3, Châu 2 (4 needed)
        svc.ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset({3})) for k in (1, 2, 3)]
                                 + [VoteFrame(k, 1, 1, frozenset({2})) for k in (4, 5)])
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})
    page = chair.get("/ballots/1").get_data(as_text=True)
    assert "Prepare round 2" in page and "seat is still to fill" in page
    r = chair.post("/ballots/1/next-round", data={"csrf_token": token, "candidate": ["Bình"], "seats": "1"})
    assert r.status_code == 302 and "/ballots/2" in r.headers["Location"]
    b2 = svc.ballots.get(2)
    assert (b2.round_no, b2.election_id, b2.options, b2.seats) == (2, 1, ["Bình"], 1)
    page = chair.get("/ballots/2").get_data(as_text=True)
    assert "Rounds of this election" in page and "round 2" in page
    r = chair.post("/ballots/1/next-round", data={"csrf_token": token})
    assert r.status_code == 409 and "already prepared" in r.get_data(as_text=True)


def test_paper_ballots_committee_and_the_count_record_pdf(web, tmp_path):
    import shutil
    import subprocess

    svc = web.extensions["congress"]
    chair, ctoken = client_as(web, "chair")
    tech, ttoken = client_as(web, "technician")
    obs, otoken = client_as(web, "observer")
    members = "observer, Bùi Thị Lan\ntechnician, Đỗ Mạnh Hùng\nadmin, Hồ Xuân Hương"
    r = chair.post("/committee", data={"csrf_token": ctoken, "head": "observer", "members": members})
    assert r.status_code == 302
    assert obs.post("/committee", data={"csrf_token": otoken, "head": "x", "members": "x"}).status_code == 403
    assert "Bùi Thị Lan" in obs.get("/committee").get_data(as_text=True)
    create(chair, ctoken, title="Bầu Ban Chấp hành", kind="election",
           candidates="Nguyễn Văn An\nTrần Thị Bình", seats="1", secrecy="secret", rule="absolute",
           base="collected")
    chair.post("/ballots/1/open", data={"csrf_token": ctoken})
    with svc.db.session() as s:  # keypads 1-3 vote An, 4 votes Bình; delegate 5 votes on paper
        svc.ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset({1 if k < 4 else 2}))
                                     for k in (1, 2, 3, 4)])
    r = obs.post("/ballots/1/paper/issue", data={"csrf_token": otoken, "delegate": "d0001"})
    assert r.status_code == 409 and "already voted" in r.get_data(as_text=True)
    r = obs.post("/ballots/1/paper/issue", data={"csrf_token": otoken, "delegate": "d0005"})
    assert r.status_code == 302
    chair.post("/ballots/1/close", data={"csrf_token": ctoken, "confirmed": "yes"})
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert "Provisional" in page and "Your entry of the paper tally" in page
    entry = {"collected": "1", "invalid": "0", "blank": "0", "option-1": "0", "option-2": "1"}
    assert chair.post("/ballots/1/paper/enter", data={"csrf_token": ctoken, **entry}).status_code == 403
    obs.post("/ballots/1/paper/enter", data={"csrf_token": otoken, **entry})
    tech.post("/ballots/1/paper/enter",
              data={"csrf_token": ttoken, **entry, "option-1": "1", "option-2": "0"})
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert "The two entries differ in: Nguyễn Văn An, Trần Thị Bình" in page
    tech.post("/ballots/1/paper/enter", data={"csrf_token": ttoken, **entry})
    assert "The two entries match" in obs.get("/ballots/1").get_data(as_text=True)
    assert tech.post("/ballots/1/paper/combine", data={"csrf_token": ttoken}).status_code == 302
    assert tech.post("/ballots/1/confirm", data={"csrf_token": ttoken}).status_code == 403  # not the head
    assert obs.post("/ballots/1/confirm", data={"csrf_token": otoken}).status_code == 302
    result = obs.get("/api/ballots/1").get_json()["result"]
    assert result["counts"] == {"Nguyễn Văn An": 3, "Trần Thị Bình": 2}
    assert result["confirmed"]["by"] == "observer"
    assert result["elected"] == ["Nguyễn Văn An"]  # 3 of 5 collected: more than half
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    for lang, words in (("vi", ["Biên bản kiểm phiếu", "Nguyễn Văn An", "Trần Thị Bình", "Bùi Thị Lan",
                                "Trưởng Ban kiểm phiếu", "Hồ Xuân Hương"]),
                        ("en", ["Vote-count record", "Nguyễn Văn An", "Head of the counting committee",
                                "60 %", "Confirmed by the head"])):
        r = obs.get(f"/ballots/1/count-record.pdf?lang={lang}")
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        path = tmp_path / f"record-{lang}.pdf"
        path.write_bytes(r.data)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        for w in words:
            assert w in text, (lang, w)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
        assert rows and all("NotoSans" in r[0] and r[-5] == "yes" for r in rows), fonts  # all embedded


def test_minutes_of_the_congress_pdf_and_page(web, tmp_path):
    import shutil
    import subprocess

    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    obs, _ = client_as(web, "observer")
    create(chair, token, title="Thông qua chương trình Đại hội")  # named: its roll call is printed
    chair.post("/ballots/1/open", data={"csrf_token": token})
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset({1 if k < 4 else 2}))
                                     for k in (1, 2, 3, 4)])
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})
    create(chair, token, title="Bầu Thư ký", kind="election", candidates="Ngô Bảo Châu\nDương Thị Thu Trang",
           seats="1")
    chair.post("/ballots/2/open", data={"csrf_token": token, "without_quorum": "on"})
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 2, 2, frozenset({1 if k % 2 else 2}))
                                     for k in (1, 2, 3, 4)])
    chair.post("/ballots/2/close", data={"csrf_token": token, "confirmed": "yes"})
    page = obs.get("/congress/minutes")
    assert page.status_code == 200 and "Bầu Thư ký" in page.get_data(as_text=True)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    r = obs.get("/congress/minutes.pdf?lang=vi")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    path = tmp_path / "minutes.pdf"
    path.write_bytes(r.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for words in ("Biên bản Đại hội", "Thông qua chương trình Đại hội", "Delegate 1", "Tán thành",
                  "Ngô Bảo Châu", "Dương Thị Thu Trang", "bằng phiếu cho suất cuối cùng", "user:chair",
                  "Chủ tọa", "Thư ký"):
        assert words in text, words
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("NotoSans" in r[0] and r[-5] == "yes" for r in rows), fonts


def test_open_ballot_figures_and_the_hall_screen(web):
    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    obs, _ = client_as(web, "observer")
    hall = obs.get("/hall").get_data(as_text=True)
    assert 'data-hall="1"' in hall and "ballots.js" in hall  # nothing to vote on: the agenda
    create(chair, token, title="Named motion")
    chair.post("/ballots/1/open", data={"csrf_token": token})
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset({1})) for k in (1, 2)])
    api = obs.get("/api/ballots/1").get_json()["progress"]
    assert api["present"] == 5 and api["not_voted"] == ["Delegate 3", "Delegate 4", "Delegate 5"]
    hall = obs.get("/hall").get_data(as_text=True)
    assert "Named motion" in hall and "3 delegates have not voted yet" in hall
    assert '<ul class="not-voted-list names" id="not-voted-list"><li>Delegate 3</li><li>Delegate 4</li>' \
        in hall
    assert api["not_voted_groups"] == [{"group": "", "count": 3}]  # no delegation: one line, "no delegation"
    assert 'id="present">5<' in hall
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})
    hall = obs.get("/hall").get_data(as_text=True)
    assert "Named motion" in hall and "Adopted" in hall  # the result stays on the hall screen
    create(chair, token, title="Secret one", secrecy="secret")
    chair.post("/ballots/2/open", data={"csrf_token": token})
    api = obs.get("/api/ballots/2").get_json()["progress"]
    assert api["present"] == 5 and "not_voted" not in api  # a secret ballot names nobody


def test_candidates_numbered_in_vietnamese_order_of_given_names(web):
    chair, token = client_as(web, "chair")
    names = "Trần Văn Bình\nNguyễn Thị Ánh\nLê Văn An\nPhạm Thu Hà\nĐỗ Mạnh Đức\nVũ Ngọc Dũng"
    create(chair, token, kind="election", candidates=names, seats="2", order="vietnamese")
    b = web.extensions["congress"].ballots.get(1)
    # a < ă < â < b < c < d < đ: An, Ánh (tone after the bare letter), Bình, Dũng, Đức, Hà
    assert b.options == ["Lê Văn An", "Nguyễn Thị Ánh", "Trần Văn Bình", "Vũ Ngọc Dũng", "Đỗ Mạnh Đức",
                         "Phạm Thu Hà"]
    create(chair, token, kind="election", candidates=names, seats="2")  # unticked: as typed
    assert web.extensions["congress"].ballots.get(2).options[0] == "Trần Văn Bình"

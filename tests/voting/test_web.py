"""Ballot and keypad pages: roles, CSRF, the chair's actions, results, exports, minutes, live events."""

from __future__ import annotations

import csv
import io
import json

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
    chair.post("/ballots/1/close", data={"csrf_token": token})

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
    rows = list(csv.reader(io.StringIO(observer.get("/ballots/1/export.csv").get_data(as_text=True))))
    assert rows[0] == ["ballot", "title", "option", "votes", "elected"]
    assert ["1", "Budget 2027", "Yes", "2", ""] in rows
    assert rows[-1][2:4] == ["(outcome)", "passed"]
    minutes = observer.get("/ballots/1/minutes").get_data(as_text=True)
    assert "minutes of ballot 1" in minutes and "Adopted" in minutes and "5 present of 6 summoned" in minutes
    assert json.loads(json.dumps(doc))["present_at_open"] == 5


def test_election_form_and_bad_input(web):
    chair, token = client_as(web, "chair")
    r = create(chair, token, kind="election", candidates="Ana\nBen\nCy", seats="5")
    assert r.status_code == 302 and "error=" in r.headers["Location"]
    r = create(chair, token, kind="election", candidates="Ana\nBen\nCy", seats="2", secret="on")
    assert r.status_code == 302
    b = web.extensions["congress"].ballots.get(1)
    assert b.secret and not b.allow_change and b.options == ["Ana", "Ben", "Cy"]


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

"""Keypad rebinding during an open ballot on the pages (issue 11, item 11): the technician's bind
becomes a request, the chair confirms it on the ballot page with their own account, and the ballot
page, the projector and the minutes list it (in Vietnamese too)."""

from __future__ import annotations

from sqlalchemy import select

from congress.keypads.protocol import AckStatus, VoteFrame
from controller.storage.tables import AuditEntry
from controller.voting.assignment import Assignments
from controller.voting.rebinds import Rebinds

from .test_web import client_as, create, web  # noqa: F401  (the fixture)

SPARE = 6  # bound to d0006, who is not checked in: the fixture's spare keypad


def _vote(svc, kid, bid, choice) -> AckStatus:
    with svc.db.session() as s:
        return svc.ballots.record_votes(s, [VoteFrame(kid, 1000 + kid, bid, frozenset({choice}))])[0]


def test_rebind_during_an_open_ballot_needs_the_chairs_confirmation(web):  # noqa: F811
    svc = web.extensions["congress"]
    Assignments(svc.db).unbind(SPARE, actor="tech")
    chair, ctoken = client_as(web, "chair")
    tech, ttoken = client_as(web, "technician")
    admin, atoken = client_as(web, "admin")
    create(chair, ctoken, title="Secret motion", secret="on")
    chair.post("/ballots/1/open", data={"csrf_token": ctoken})

    # The technician binds the spare to delegate 1 (present, holding keypad 1): only a request.
    r = tech.post("/keypads/bind", data={"csrf_token": ttoken, "keypad": SPARE, "delegate": "d0001"})
    assert r.status_code == 302 and "rebind=pending" in r.headers["Location"]
    page = tech.get(r.headers["Location"]).get_data(as_text=True)
    assert "waits for the chair&#39;s confirmation" in page or "waits for the chair's confirmation" in page
    assert Assignments(svc.db).holder(SPARE) is None
    assert _vote(svc, SPARE, 1, 1) == AckStatus.NOT_ELIGIBLE
    [req] = Rebinds(svc.db).pending()
    rid = req["id"]
    assert (req["keypad"], req["delegate"], req["requested_by"]) == (SPARE, "d0001", "user:technician")

    # The technician may not confirm; the chair sees it on the ballot page, but keypad 1 works.
    assert tech.post(f"/keypads/rebinds/{rid}/confirm", data={"csrf_token": ttoken}).status_code == 403
    detail = chair.get("/ballots/1").get_data(as_text=True)
    assert "Keypad bindings waiting for the chair" in detail and f"/keypads/rebinds/{rid}/confirm" in detail
    r = chair.post(f"/keypads/rebinds/{rid}/confirm", data={"csrf_token": ctoken, "next": "/ballots/1"})
    assert r.status_code == 409 and "report it lost first" in r.get_data(as_text=True)
    assert Assignments(svc.db).holder(SPARE) is None

    # An admin can ask and confirm, but not both with one account.
    r = admin.post("/keypads/bind", data={"csrf_token": atoken, "keypad": SPARE, "delegate": "d0002"})
    assert "rebind=pending" in r.headers["Location"]
    rid2 = max(p["id"] for p in Rebinds(svc.db).pending())
    tech.post("/keypads/2/lost", data={"csrf_token": ttoken})
    r = admin.post(f"/keypads/rebinds/{rid2}/confirm", data={"csrf_token": atoken, "next": "/ballots/1"})
    assert r.status_code == 409 and "cannot confirm it" in r.get_data(as_text=True)
    r = chair.post(f"/keypads/rebinds/{rid2}/confirm", data={"csrf_token": ctoken, "next": "/ballots/1"})
    assert r.status_code == 302 and "/ballots/1" in r.headers["Location"]
    assert "The keypad binding was confirmed." in chair.get(r.headers["Location"]).get_data(as_text=True)
    assert Assignments(svc.db).holder(SPARE) == "d0002"
    assert _vote(svc, SPARE, 1, 1) == AckStatus.ACCEPTED
    chair.post(f"/keypads/rebinds/{rid}/reject", data={"csrf_token": ctoken})
    with svc.db.session() as s:
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {"keypad.rebind.request", "keypad.rebind.confirm", "keypad.rebind.reject"} <= actions

    # Projector and minutes list the exceptions; the Vietnamese minutes too.
    projector = chair.get("/ballots/1/projector").get_data(as_text=True)
    assert "5 keypad changes during this ballot" in projector
    chair.post("/ballots/1/close", data={"csrf_token": ctoken, "confirmed": "yes"})
    minutes = chair.get("/ballots/1/minutes").get_data(as_text=True)
    assert "Keypad changes during this ballot" in minutes
    assert minutes.count("new binding confirmed by the chair") == 1 and "reported lost" in minutes
    chair.post("/language", data={"csrf_token": ctoken, "lang": "vi", "next": "/ballots/1/minutes"})
    vi = chair.get("/ballots/1/minutes").get_data(as_text=True)
    assert "Thay đổi bàn phím trong lần biểu quyết này" in vi and "chủ tọa xác nhận gán bàn phím mới" in vi


def test_no_ballot_open_binds_at_once(web):  # noqa: F811
    svc = web.extensions["congress"]
    Assignments(svc.db).unbind(SPARE, actor="tech")
    tech, ttoken = client_as(web, "technician")
    r = tech.post("/keypads/bind", data={"csrf_token": ttoken, "keypad": SPARE, "delegate": "d0006"})
    assert "rebind=" not in r.headers["Location"] and Assignments(svc.db).holder(SPARE) == "d0006"

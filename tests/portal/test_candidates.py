"""Candidate lists in the delegates' app: reading the numbered list with biographies and photos,
nominating a delegate or oneself while the list is open (audited, with the delegate as nominator), the
nominee alone answering, CSRF and sign-in required, and refusals that say why (never a 500)."""

from __future__ import annotations

import cv2
import numpy as np
from sqlalchemy import select

from controller.storage.tables import AuditEntry

from .conftest import new_client, sign_in


def _jpeg() -> bytes:
    img = np.full((300, 240, 3), 120, np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


def _lists(app):
    return app.extensions["congress"].candidates


def test_a_delegate_nominates_and_only_the_nominee_answers(app, client, delegate):
    lists = _lists(app)
    lid = lists.create_list("Ban Chấp hành", actor="user:chair")
    staff = lists.nominate("Ban Chấp hành", "Hoàng Văn Em", actor="user:chair", biography="Kỹ sư.")
    lists.accept(staff, actor="user:chair")
    lists.set_photo(staff, _jpeg(), "em.jpg", actor="user:chair")
    # An (D-0001) nominates Bình (D-0002) with a biography; the staff page shows who nominated.
    found = client.get("/p/api/candidates/delegates?q=binh").get_json()["delegates"]
    assert [d["id"] for d in found] == ["D-0002"]
    h = {"X-CSRF-Token": delegate}
    url = f"/p/api/candidates/{lid}/nominate"
    assert client.post(url, json={"delegate": "D-0002"}).status_code == 400  # no CSRF token
    r = client.post(url, json={"delegate": "D-0002", "biography": "Giáo viên."}, headers=h)
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    c = lists.get(cid)
    assert (c.name, c.delegate_id, c.nominated_by) == ("Trần Thị Bình", "D-0002", "delegate:D-0001")
    assert c.biography == "Giáo viên."
    with app.extensions["congress"].db.session() as s:
        row = s.scalar(select(AuditEntry).where(AuditEntry.action == "candidate.nominate")
                       .order_by(AuditEntry.seq.desc()))
        assert row.actor == "delegate:D-0001"
    r = client.post(url, json={"delegate": "D-0002"}, headers=h)
    assert r.status_code == 409 and "already on the list" in r.get_json()["error"]
    # The nominator cannot answer for Bình.
    r = client.post(f"/p/api/candidates/answer/{cid}", json={"accept": True}, headers=h)
    assert r.status_code == 403 and lists.get(cid).status.value == "nominated"
    # An sees the list (accepted, numbered, with photo) and their own pending nomination.
    body = client.get("/p/api/candidates").get_json()
    (seen,) = body["lists"]
    assert [(x["number"], x["name"]) for x in seen["candidates"]] == [(1, "Hoàng Văn Em")]
    assert seen["candidates"][0]["photo"] and seen["open"]
    assert [(x["name"], x["status"], x["by_me"], x["can_answer"]) for x in seen["mine"]] == [
        ("Trần Thị Bình", "nominated", True, False)]
    photo = client.get(seen["candidates"][0]["photo"])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert client.get(f"/p/api/candidates/photo/{cid}").status_code == 404  # no photo
    # Bình signs in elsewhere, sees the nomination and accepts it.
    binh = new_client(app)
    token = sign_in(app, binh, "D-0002")
    mine = binh.get("/p/api/candidates").get_json()["lists"][0]["mine"]
    assert [(x["id"], x["can_answer"], x["is_me"]) for x in mine] == [(cid, True, True)]
    r = binh.post(f"/p/api/candidates/answer/{cid}", json={"accept": True}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.get_json()["status"] == "accepted"
    # Bình writes her own biography; An cannot.
    bio = f"/p/api/candidates/biography/{cid}"
    assert client.post(bio, json={"biography": "x"}, headers=h).status_code == 403
    assert binh.post(bio, json={"biography": "y" * 2001}, headers={"X-CSRF-Token": token}).status_code == 400
    assert binh.post(bio, json={"biography": 5}, headers={"X-CSRF-Token": token}).status_code == 400
    r = binh.post(bio, json={"biography": "Giáo viên Toán, 20 năm."}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and lists.get(cid).biography == "Giáo viên Toán, 20 năm."
    names = [x["name"] for x in binh.get("/p/api/candidates").get_json()["lists"][0]["candidates"]]
    assert names == ["Trần Thị Bình", "Hoàng Văn Em"]  # numbered by given name: Bình before Em
    # Cường (D-0003) nominates himself; nobody else sees a pending nomination.
    cuong = new_client(app)
    ctoken = sign_in(app, cuong, "D-0003")
    r = cuong.post(f"/p/api/candidates/{lid}/nominate", json={}, headers={"X-CSRF-Token": ctoken})
    assert r.status_code == 201 and lists.get(r.get_json()["id"]).delegate_id == "D-0003"
    seen_by_an = client.get("/p/api/candidates").get_json()["lists"][0]
    assert seen_by_an["mine"] == [] and "Lê Hoàng Cường" not in str(seen_by_an)  # pending: his own business
    # Closed for nominations on the staff side: refused with the reason.
    lists.configure(lid, actor="user:chair", nominations_open=False)
    assert client.get("/p/api/candidates").get_json()["lists"][0]["open"] is False
    r = client.post(url, json={"delegate": "D-0004"}, headers=h)
    assert r.status_code == 409 and "are closed" in r.get_json()["error"]


def test_hostile_and_signed_out_requests(app, client, delegate):
    lists = _lists(app)
    lid = lists.create_list("Ban Kiểm tra", actor="user:chair")
    h = {"X-CSRF-Token": delegate}
    r = client.post(f"/p/api/candidates/{lid}/nominate", json={"delegate": "D-0002", "biography": "x" * 2001},
                    headers=h)
    assert r.status_code == 400 and "2,000" in r.get_json()["error"]
    url = f"/p/api/candidates/{lid}/nominate"
    assert client.post(url, json={"delegate": "D-9999"}, headers=h).status_code == 404
    assert client.post("/p/api/candidates/999/nominate", json={}, headers=h).status_code == 404
    assert client.post(f"/p/api/candidates/{lid}/nominate", data="[1]", content_type="application/json",
                       headers=h).status_code == 201  # not an object: a self-nomination, as {} is
    assert client.post("/p/api/candidates/answer/999", json={"accept": True}, headers=h).status_code == 404
    assert client.post("/p/api/candidates/answer/1", json={"accept": "yes"}, headers=h).status_code == 400
    assert client.get(f"/p/api/candidates/photo/{2**70}").status_code == 404
    assert client.get("/p/api/candidates/delegates?q=" + "a" * 5000).status_code == 200
    stranger = new_client(app)
    assert stranger.get("/p/api/candidates").status_code == 401
    assert stranger.post(f"/p/api/candidates/{lid}/nominate", json={}).status_code in (400, 401)

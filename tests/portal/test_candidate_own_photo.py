"""The nominee sends their own photo from the app: checked by its content (a renamed PDF is refused with
the reason), at most 8 MB, written anew as a JPEG of at most 480 px and sealed as face data, as a staff
upload; only the nominee, with the CSRF token, until voting on the list begins (then refused, nothing
changed). Audited with the delegate as actor."""

from __future__ import annotations

import io

import cv2
import numpy as np
from sqlalchemy import select

from congress.keypads.protocol import VoteFrame
from controller.checkins.attendance import Passing, apply_checkins
from controller.storage.database import utcnow
from controller.storage.tables import AuditEntry, Passage
from controller.voting.assignment import Assignments

from .conftest import new_client, sign_in


def _jpeg(w: int = 900, h: int = 1200) -> bytes:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 1] = 150
    return cv2.imencode(".jpg", img)[1].tobytes()


def _send(client, cid: int, data: bytes, name: str, token: str | None):
    headers = {"X-CSRF-Token": token} if token else {}
    return client.post(f"/p/api/candidates/own-photo/{cid}", data={"photo": (io.BytesIO(data), name)},
                       headers=headers, content_type="multipart/form-data")


def test_the_nominee_alone_sends_their_photo_until_voting_begins(app, client, delegate):
    svc = app.extensions["congress"]
    lists = svc.candidates
    lists.create_list("Ban Chấp hành", actor="user:chair")
    cid = lists.nominate("Ban Chấp hành", "Trần Thị Bình", actor="delegate:D-0001", delegate_id="D-0002",
                         from_portal=True)
    binh = new_client(app)
    token = sign_in(app, binh, "D-0002")
    # The nominator (An) cannot send Bình's photo; nor can anyone without the CSRF token.
    assert _send(client, cid, _jpeg(), "binh.jpg", delegate).status_code == 403
    assert _send(binh, cid, _jpeg(), "binh.jpg", None).status_code == 400
    assert lists.get(cid).photo is None
    # Hostile files are refused with the reason, before anything is written.
    r = _send(binh, cid, b"%PDF-1.7\n" + b"0" * 500, "chan-dung.jpg", token)
    assert r.status_code == 400 and "is a PDF file; photos must be JPEG" in r.get_json()["error"]
    big = b"\xff\xd8\xff" + b"\0" * (8 * 1024 * 1024 + 10)
    r = _send(binh, cid, big, "big.jpg", token)
    r.request.environ["wsgi.input"].close()  # the test client spools a large body to a file of its own
    assert r.status_code == 400 and "larger than 8 MB" in r.get_json()["error"]
    r = binh.post(f"/p/api/candidates/own-photo/{cid}", data={}, headers={"X-CSRF-Token": token},
                  content_type="multipart/form-data")
    assert r.status_code == 400 and "choose a photo" in r.get_json()["error"]
    assert lists.get(cid).photo is None and not (svc.config.data_dir / "candidates").exists()
    # Her photo: sealed on disk, reduced, served to her (and, once she accepts, to everyone).
    r = _send(binh, cid, _jpeg(), "binh.png", token)
    assert r.status_code == 200, r.get_json()
    sealed = list((svc.config.data_dir / "candidates").iterdir())
    assert len(sealed) == 1 and not sealed[0].read_bytes().startswith(b"\xff\xd8")
    got = binh.get(r.get_json()["photo"])
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    h, w = cv2.imdecode(np.frombuffer(got.data, np.uint8), cv2.IMREAD_COLOR).shape[:2]
    assert max(h, w) == 480
    with svc.db.session() as s:
        row = s.scalar(select(AuditEntry).where(AuditEntry.action == "candidate.photo"))
        assert row.actor == "delegate:D-0002"
    # A second photo replaces the first (one sealed file).
    assert _send(binh, cid, _jpeg(600, 800), "moi.jpg", token).status_code == 200
    assert len(list((svc.config.data_dir / "candidates").iterdir())) == 1
    # Once voting on the list has begun, the photo stays as it was.
    lists.accept(cid, actor="delegate:D-0002")
    Assignments(svc.db).assign_by_seat({"A1": 1, "A2": 2, "B1": 3}, actor="tech")
    with svc.db.session() as s:
        apply_checkins(s, [Passing(n, d, Passage.IN, utcnow(), "door-1")
                           for n, d in enumerate(("D-0001", "D-0002", "D-0003"), 1)])
    mid = lists.approval_motion(svc.ballots, "Ban Chấp hành", "Thông qua danh sách", actor="user:chair")
    svc.ballots.open(mid, actor="user:chair")
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 1, mid, frozenset({1})) for k in (1, 2, 3)])
    svc.ballots.close(mid, actor="user:chair")
    eid = lists.election(svc.ballots, "Ban Chấp hành", seats=1, actor="user:chair")
    svc.ballots.open(eid, actor="user:chair")
    before = lists.get(cid).photo
    r = _send(binh, cid, _jpeg(), "late.jpg", token)
    assert r.status_code == 409 and "photos stay" in r.get_json()["error"]
    assert lists.get(cid).photo == before

"""The delegate's own business in the app: attendance confirmation (and the staff roll-call page that
shows it, with who has not answered), the profile with face data and the withdrawal of consent,
correction requests handled by staff, and results: a named ballot shows the delegate's own choice
only, a secret ballot none."""

from __future__ import annotations

import datetime as dt

from controller.app import services
from controller.storage.tables import Delegate, EnrollStatus, FacePhoto
from controller.voting.tables import Ballot, BallotKind, BallotParticipation, BallotStatus, NamedVote
from tests.portal.conftest import new_client, sign_in, support


def _post(client, url, token, **kw):
    return client.post(url, headers={"X-CSRF-Token": token}, **kw)


def _staff(app, name="admin"):
    staff = new_client(app)
    support.login(staff, name)
    return staff, support.page_csrf(staff, "/")


def test_attendance_confirmation_and_the_staff_roll_call(app, client, delegate):
    assert client.get("/p/api/attendance").get_json() == {"answer": None}
    r = _post(client, "/p/api/attendance", delegate, json={"attending": False, "reason": " "})
    assert r.status_code == 400 and "say why" in r.get_json()["error"]
    absent = {"attending": False, "reason": "Ốm, có giấy bác sĩ"}
    r = _post(client, "/p/api/attendance", delegate, json=absent)
    assert r.get_json()["answer"]["answer"] == "absent"
    other = new_client(app)
    tok = sign_in(app, other, "D-0002")
    assert _post(other, "/p/api/attendance", tok, json={"attending": True}).status_code == 200
    staff, _ = _staff(app, "chair")
    page = staff.get("/attendance", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Of 4 summoned: <strong>1</strong> will attend, <strong>1</strong> reported absent, " \
           "<strong>2</strong> have not answered." in page
    assert "Ốm, có giấy bác sĩ" in page and "Lê Hoàng Cường (Đà Nẵng)" in page  # not answered
    assert "A2 Trần Thị Bình <span class=\"muted\">(will attend)</span>" in page
    # A later answer replaces the earlier one.
    _post(client, "/p/api/attendance", delegate, json={"attending": True})
    with app.app_context():
        s = services().portal.confirmations.summary()
    assert len(s.attending) == 2 and not s.absent and [p["id"] for p in s.unanswered] == ["D-0003", "D-0004"]


def test_profile_and_withdrawing_consent_deletes_face_data(app, client, delegate):
    with app.app_context():
        db = services().db
    with db.session() as s:
        s.get(Delegate, "D-0001").consent = True
        s.add(FacePhoto(delegate_id="D-0001", source="a.jpg", sha256="0" * 64, status=EnrollStatus.ENROLLED))
        s.add(FacePhoto(delegate_id="D-0002", source="b.jpg", sha256="1" * 64, status=EnrollStatus.ENROLLED))
    p = client.get("/p/api/profile").get_json()
    assert p["name"] == "Nguyễn Văn An" and p["seat"] == "A1" and p["consent"] and p["face_enrolled"]
    assert _post(client, "/p/api/profile/consent", delegate, json={}).status_code == 400
    r = _post(client, "/p/api/profile/consent", delegate, json={"withdraw": True})
    assert r.get_json() == {"ok": True, "photos_deleted": 1}
    p = client.get("/p/api/profile").get_json()
    assert not p["consent"] and not p["face_enrolled"]
    with db.session() as s:
        assert s.query(FacePhoto).filter_by(delegate_id="D-0002").count() == 1  # nobody else's
    staff, _ = _staff(app)
    page = staff.get("/portal", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Nguyễn Văn An (D-0001)" in page and "1 photo deleted" in page


def test_a_correction_request_reaches_staff_and_comes_back_handled(app, client, delegate):
    assert _post(client, "/p/api/profile/corrections", delegate, json={"text": ""}).status_code == 400
    r = _post(client, "/p/api/profile/corrections", delegate, json={"text": "Tên đúng là Nguyễn Văn Ân"})
    assert r.status_code == 201
    staff, token = _staff(app)
    page = staff.get("/portal", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Tên đúng là Nguyễn Văn Ân" in page
    rid = r.get_json()["id"]
    r = staff.post(f"/portal/corrections/{rid}", data={"csrf_token": token, "status": "done"})
    assert r.status_code == 302
    assert client.get("/p/api/profile").get_json()["corrections"][0]["status"] == "done"
    observer, otoken = _staff(app, "observer")
    r = observer.post(f"/portal/corrections/{rid}", data={"csrf_token": otoken, "status": "open"})
    assert r.status_code == 403


def test_results_show_the_delegates_own_named_choice_and_no_secret_one(app, client, delegate):
    with app.app_context():
        db = services().db
    closed = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
    with db.session() as s:
        named = Ballot(title="Thông qua chương trình", kind=BallotKind.MOTION,
                       options=["Yes", "No", "Abstain"], secret=False,
                       status=BallotStatus.CLOSED, closed_at=closed,
                       result={"counts": {"Yes": 1, "No": 1, "Abstain": 0}, "passed": False})
        secret = Ballot(title="Bầu Ban chấp hành", kind=BallotKind.ELECTION,
                        options=["Ánh", "Bảo", "Cúc"], seats=2, secret=True, status=BallotStatus.CLOSED,
                        closed_at=closed + dt.timedelta(hours=1),
                        result={"counts": {"Ánh": 2, "Bảo": 1, "Cúc": 1}, "elected": ["Ánh"]})
        still_open = Ballot(title="Đang mở", kind=BallotKind.MOTION, options=["Yes", "No", "Abstain"],
                            status=BallotStatus.OPEN)
        s.add_all([named, secret, still_open])
        s.flush()
        s.add(NamedVote(ballot_id=named.id, delegate_id="D-0001", choices=[1]))
        s.add(NamedVote(ballot_id=named.id, delegate_id="D-0002", choices=[2]))
        s.add(BallotParticipation(ballot_id=secret.id, delegate_id="D-0001"))
    ballots = client.get("/p/api/results").get_json()["ballots"]
    assert [b["title"] for b in ballots] == ["Bầu Ban chấp hành", "Thông qua chương trình"]
    election, motion = ballots
    assert election["secret"] and election["voted"] and election["mine"] is None
    assert election["result"]["elected"] == ["Ánh"]
    assert motion["mine"] == {"choices": ["Yes"], "invalid": False}
    other = new_client(app)
    sign_in(app, other, "D-0003")
    mine = {b["title"]: b for b in other.get("/p/api/results").get_json()["ballots"]}
    assert mine["Thông qua chương trình"]["mine"] is None and not mine["Bầu Ban chấp hành"]["voted"]

"""The staff page of candidate lists: roles and CSRF, nominating with a biography and a photo checked by its
content, answers, withdrawal on a confirmation page (refused once the election opened), the list put to
the congress and the election made from it, and the ballot page showing the candidates' biographies."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from congress.keypads.protocol import VoteFrame

from .test_web import client_as, web  # noqa: F401  (the app fixture of the ballot pages)


def jpeg(w: int = 900, h: int = 1200) -> bytes:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 2] = 180
    cv2.circle(img, (w // 2, h // 3), w // 5, (200, 200, 220), -1)
    return cv2.imencode(".jpg", img)[1].tobytes()


def make_list(chair, token, name="Ban Chấp hành", numbering="vietnamese"):
    r = chair.post("/candidates", data={"csrf_token": token, "name": name, "numbering": numbering})
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(re.search(r"/candidates/(\d+)", r.headers["Location"]).group(1))


def nominate(chair, token, lid, name, **extra):
    return chair.post(f"/candidates/{lid}/nominate", data={"csrf_token": token, "name": name, **extra},
                      content_type="multipart/form-data")


def ids_by_name(app, lid):
    lists = app.extensions["congress"].candidates
    cl = lists.get_list(lid)
    return {c.name: c.id for c in lists.candidates(cl.name)}


def test_roles_csrf_and_unknown_ids(web):  # noqa: F811
    chair, ctoken = client_as(web, "chair")
    observer, otoken = client_as(web, "observer")
    tech, ttoken = client_as(web, "technician")
    anon, _ = client_as(web, None)
    assert anon.get("/candidates").status_code in (302, 401)
    assert "Candidate lists" in observer.get("/candidates").get_data(as_text=True)
    assert observer.post("/candidates", data={"csrf_token": otoken, "name": "X"}).status_code == 403
    assert tech.post("/candidates", data={"csrf_token": ttoken, "name": "X"}).status_code == 403
    assert chair.post("/candidates", data={"name": "X"}).status_code == 400  # no CSRF token
    assert chair.post("/candidates", data={"csrf_token": "forged", "name": "X"}).status_code == 400
    lid = make_list(chair, ctoken)
    assert observer.get(f"/candidates/{lid}").status_code == 200
    assert nominate(observer, otoken, lid, "Lê Văn An").status_code == 403
    assert observer.get("/candidates/999").status_code == 404
    assert chair.post("/candidates/999/nominate", data={"csrf_token": ctoken, "name": "A"}).status_code == 404
    assert chair.post(f"/candidates/{lid}/999/answer", data={"csrf_token": ctoken,
                                                              "answer": "accept"}).status_code == 404
    assert observer.get("/candidates/photo/999").status_code == 404
    assert observer.get(f"/candidates/{2**70}").status_code == 404
    nav = observer.get("/ballots").get_data(as_text=True)
    assert 'href="/candidates"' in nav


def test_hostile_nominations_are_refused_with_a_reason(web):  # noqa: F811
    chair, token = client_as(web, "chair")
    lid = make_list(chair, token)
    r = nominate(chair, token, lid, "Lê Văn An", biography="x" * 2001)
    assert r.status_code == 400 and "at most 2,000" in r.get_data(as_text=True)
    r = nominate(chair, token, lid, "Lê Văn An", photo=(__import__("io").BytesIO(b"%PDF-1.7\n" + b"0" * 500),
                                                         "portrait.jpg"))
    assert r.status_code == 400 and "is a PDF file; photos must be JPEG" in r.get_data(as_text=True)
    gif = __import__("io").BytesIO(b"GIF89a not a photo")
    r = nominate(chair, token, lid, "Lê Văn An", photo=(gif, "a.jpg"))
    assert r.status_code == 400 and "photos must be JPEG" in r.get_data(as_text=True)
    assert ids_by_name(web, lid) == {}  # nothing was written by a refused nomination
    r = nominate(chair, token, lid, "", delegate="nobody")
    assert r.status_code == 400 and "there is no delegate nobody" in r.get_data(as_text=True)
    r = chair.post(f"/candidates/{lid}/settings", data={"csrf_token": token, "numbering": "random"})
    assert r.status_code == 400
    r = chair.post("/candidates", data={"csrf_token": token, "name": "Ban Chấp hành"})
    assert r.status_code == 400 and "already a list" in r.get_data(as_text=True)
    big = __import__("io").BytesIO(b"\xff\xd8\xff" + b"\0" * (8 * 1024 * 1024 + 10))
    r = nominate(chair, token, lid, "Trần Bình", photo=(big, "big.jpg"))
    r.request.environ["wsgi.input"].close()  # the test client spools a large body to a file of its own
    assert r.status_code == 400 and "larger than 8 MB" in r.get_data(as_text=True)


def test_a_list_from_nomination_to_election_on_the_page(web):  # noqa: F811
    import io

    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    observer, _ = client_as(web, "observer")
    lid = make_list(chair, token)
    assert nominate(chair, token, lid, "Trần Văn Bình", biography="Sinh năm 1975.\nKỹ sư.",
                    photo=(io.BytesIO(jpeg()), "binh.jpg")).status_code == 302
    for name in ("Nguyễn Thị Ánh", "Lê Văn An", "Phạm Thu Hà"):
        assert nominate(chair, token, lid, name).status_code == 302
    r = nominate(chair, token, lid, "", delegate="d0001")  # a delegate: their name from the roster
    assert r.status_code == 302
    ids = ids_by_name(web, lid)
    assert "Delegate 1" in ids
    # The photo is kept sealed (not a JPEG on disk), reduced, and served decrypted to a logged-in reader.
    sealed = list((svc.config.data_dir / "candidates").iterdir())
    assert len(sealed) == 1 and not sealed[0].read_bytes().startswith(b"\xff\xd8")
    got = observer.get(f"/candidates/photo/{ids['Trần Văn Bình']}")
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    h, w = cv2.imdecode(np.frombuffer(got.data, np.uint8), cv2.IMREAD_COLOR).shape[:2]
    assert max(h, w) == 480
    for name in ("Trần Văn Bình", "Nguyễn Thị Ánh", "Lê Văn An", "Delegate 1"):
        r = chair.post(f"/candidates/{lid}/{ids[name]}/answer",
                       data={"csrf_token": token, "answer": "accept"})
        assert r.status_code == 302
    chair.post(f"/candidates/{lid}/{ids['Phạm Thu Hà']}/answer",
               data={"csrf_token": token, "answer": "decline"})
    # Withdraw asks first, then records.
    r = chair.post(f"/candidates/{lid}/{ids['Delegate 1']}/withdraw", data={"csrf_token": token})
    assert r.status_code == 200 and 'name="confirmed" value="yes"' in r.get_data(as_text=True)
    assert svc.candidates.get(ids["Delegate 1"]).status.value == "accepted"
    r = chair.post(f"/candidates/{lid}/{ids['Delegate 1']}/withdraw",
                   data={"csrf_token": token, "confirmed": "yes"})
    assert r.status_code == 302
    page = observer.get(f"/candidates/{lid}").get_data(as_text=True)
    rows = re.findall(r'<td class="no">(\d*)</td>.*?<td class="name">([^<]+?)(?: <span|</td>)', page, re.S)
    assert [(n, name.strip()) for n, name in rows][:3] == [("1", "Lê Văn An"), ("2", "Nguyễn Thị Ánh"),
                                                            ("3", "Trần Văn Bình")]
    assert "withdrawn" in page and "declined" in page and "Sinh năm 1975." in page
    # Put to the congress: a motion linked to the list, then the list is fixed.
    r = chair.post(f"/candidates/{lid}/motion", data={"csrf_token": token})
    assert r.status_code == 302
    cl = svc.candidates.get_list(lid)
    assert cl.motion_id and svc.ballots.get(cl.motion_id).title.startswith("Approval of the list")
    motion_page = observer.get(f"/ballots/{cl.motion_id}").get_data(as_text=True)
    assert "The list put to the congress" in motion_page
    assert re.findall(r'data-number="(\d+)"', motion_page) == ["1", "2", "3"]
    r = nominate(chair, token, lid, "Ngô Bảo Châu")
    assert r.status_code == 400 and "nominations are closed" in r.get_data(as_text=True)
    r = chair.post(f"/candidates/{lid}/election", data={"csrf_token": token, "seats": "2"})
    assert r.status_code == 409 and "not an adopted motion" in r.get_data(as_text=True)
    svc.ballots.open(cl.motion_id, actor="chair")
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 1, cl.motion_id, frozenset({1})) for k in range(1, 6)])
    svc.ballots.close(cl.motion_id, actor="chair")
    assert "adopted" in observer.get(f"/candidates/{lid}").get_data(as_text=True)
    r = chair.post(f"/candidates/{lid}/election", data={"csrf_token": token, "seats": "nan"})
    assert r.status_code == 400
    r = chair.post(f"/candidates/{lid}/election", data={"csrf_token": token, "seats": "2", "rule": "simple",
                                                         "secrecy": "secret", "form": "choose"})
    assert r.status_code == 302
    bid = svc.candidates.get_list(lid).election_id
    b = svc.ballots.get(bid)
    assert b.options == ["Lê Văn An", "Nguyễn Thị Ánh", "Trần Văn Bình"] and b.secret and b.seats == 2
    assert f'/ballots/{bid}"' in observer.get("/ballots").get_data(as_text=True)
    detail = observer.get(f"/ballots/{bid}").get_data(as_text=True)
    assert 'id="candidates"' in detail and "Sinh năm 1975." in detail
    assert f"/candidates/photo/{ids['Trần Văn Bình']}" in detail
    # The biography can be corrected until voting begins (not overlong).
    url = f"/candidates/{lid}/{ids['Lê Văn An']}/biography"
    r = chair.post(url, data={"csrf_token": token, "biography": "Giáo viên.\r\nHiệu trưởng."})
    assert r.status_code == 302
    assert svc.candidates.get(ids["Lê Văn An"]).biography == "Giáo viên.\nHiệu trưởng."
    assert chair.post(url, data={"csrf_token": token, "biography": "y" * 2001}).status_code == 400
    assert observer.post(url, data={"csrf_token": token, "biography": "z"}).status_code == 403
    # Once the election is open nobody can withdraw: a clear refusal, nothing changed.
    svc.ballots.open(bid, actor="chair")
    r = chair.post(url, data={"csrf_token": token, "biography": "changed"})
    assert r.status_code == 409 and "biographies stay" in r.get_data(as_text=True)
    r = chair.post(f"/candidates/{lid}/{ids['Lê Văn An']}/withdraw",
                   data={"csrf_token": token, "confirmed": "yes"})
    assert r.status_code == 409 and "can no longer withdraw" in r.get_data(as_text=True)
    assert svc.candidates.get(ids["Lê Văn An"]).status.value == "accepted"


@pytest.mark.parametrize("lang", ["vi"])
def test_the_page_reads_in_vietnamese(web, lang):  # noqa: F811
    chair, token = client_as(web, "chair")
    lid = make_list(chair, token)
    chair.post("/language", data={"csrf_token": token, "lang": lang})
    page = chair.get(f"/candidates/{lid}", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "Ban Chấp hành" in page


def test_purge_biometrics_shreds_the_candidates_photos(web):  # noqa: F811
    import io

    from controller.delegates.enrollment import purge_biometrics

    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    lid = make_list(chair, token)
    nominate(chair, token, lid, "Lê Văn An", photo=(io.BytesIO(jpeg(300, 400)), "an.png"))
    cid = ids_by_name(web, lid)["Lê Văn An"]
    assert chair.get(f"/candidates/photo/{cid}").status_code == 200
    result = purge_biometrics(svc.db, svc.config.data_dir, actor="test", scrub_timeout_s=10)
    assert result["candidate_photo_files"] == 1
    assert not (svc.config.data_dir / "candidates").exists()
    assert svc.candidates.get(cid).photo is None
    assert chair.get(f"/candidates/photo/{cid}").status_code == 404

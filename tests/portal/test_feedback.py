"""Feedback: comments anchored to a paragraph of a readable document, requests to speak in a queue the
chair orders, written contributions (text or PDF), surveys; the staff page's filters and its CSV
export (BOM, formula-neutralised); the records the synthesis reads."""

from __future__ import annotations

import csv
import io

from congress import fonts
from controller.app import services
from controller.documents.access import Level
from controller.documents.samples import text_pdf
from controller.live import EventKind
from controller.portal.feedback import csv_bytes
from controller.programme.agenda import Programme
from controller.programme.importer import import_file
from tests.portal.conftest import new_client, sign_in, support

PROGRAMME = """
[[session]]
code = "S1"
day = 2026-12-02
title = "Phiên thứ nhất"
[[item]]
number = "1"
session = "S1"
title = "Báo cáo chính trị"
"""


def _setup(app):
    with app.app_context():
        svc = services()
        import_file(Programme(svc.db), PROGRAMME.encode(), "toml", zone="Asia/Ho_Chi_Minh", actor="setup")
        item = svc.programme.outline()[0]["sessions"][0]["items"][0]["ref"]
        pdf = text_pdf(2, title="Dự thảo Báo cáo chính trị", font_path=str(fonts.regular()))
        doc = svc.documents.add(
            "Dự thảo Báo cáo chính trị", item_ref=item, data=pdf, filename="bc.pdf", actor="user:admin"
        )
        from controller.documents.tables import AccessGroup

        with svc.db.session() as s:
            s.add(AccessGroup(name="presidium", title="Đoàn Chủ tịch"))
        secret = svc.documents.add(
            "Hồ sơ nhân sự",
            level=Level.GROUP,
            group="presidium",
            data=pdf,
            filename="ns.pdf",
            actor="user:admin",
        )
    return item, doc, secret


def _staff(app, name="admin"):
    staff = new_client(app)
    support.login(staff, name)
    return staff, support.page_csrf(staff, "/")


def _post(client, url, token, **kw):
    return client.post(url, headers={"X-CSRF-Token": token}, **kw)


def test_comments_on_a_paragraph_reach_the_staff_page_and_the_export(app, client, delegate):
    item, doc, secret = _setup(app)
    anchor = {"document": doc, "version": 1, "page": 2, "paragraph": 3, "excerpt": "Báo cáo chính trị trình"}
    r = _post(
        client, "/p/api/comments", delegate, json=dict(anchor, text='=HYPERLINK("x") Đề nghị bổ sung số liệu')
    )
    assert r.status_code == 201
    assert _post(client, "/p/api/comments", delegate, json=dict(anchor, text=" ")).status_code == 400
    r = _post(client, "/p/api/comments", delegate, json=dict(anchor, document=secret, text="x"))
    assert r.status_code == 400 and "no such document" in r.get_json()["error"]  # not theirs to read
    assert (
        _post(client, "/p/api/comments", delegate, json=dict(anchor, version=9, text="x")).status_code == 400
    )
    other = new_client(app)
    tok = sign_in(app, other, "D-0003")
    _post(other, "/p/api/comments", tok, json=dict(anchor, paragraph=1, text="Đồng ý với dự thảo"))
    staff, token = _staff(app, "chair")
    page = staff.get("/portal/feedback", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Đề nghị bổ sung số liệu" in page and "v1, page 2, paragraph 3" in page and "Đồng ý" in page
    page = staff.get("/portal/feedback?delegation=Đà Nẵng", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert "Đồng ý" in page and "bổ sung" not in page
    r = staff.get(f"/portal/feedback.csv?kind=comments&item={item}")
    assert r.data.startswith("\ufeff".encode()) and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Document", "Version", "Page", "Paragraph"] and len(rows) == 3
    mine = next(row for row in rows if "bổ sung" in row[8])
    assert mine[8].startswith("'=HYPERLINK") and mine[6] == "Nguyễn Văn An" and mine[9] == "received"
    # The secretariat marks it; the delegate sees the status.
    cid = client.get("/p/api/feedback").get_json()["comments"][0]["id"]
    assert (
        staff.post(
            f"/portal/feedback/comment/{cid}", data={"csrf_token": token, "status": "taken_up"}
        ).status_code
        == 302
    )
    assert client.get("/p/api/feedback").get_json()["comments"][0]["status"] == "taken_up"


def test_requests_to_speak_form_a_queue_the_chair_orders(app, client, delegate):
    item, _doc, _secret = _setup(app)
    bus = app.extensions["live"]
    sub = bus.subscribe()
    assert _post(client, f"/p/api/speak/{item}", delegate, json={}).get_json()["request"]["place"] == 1
    assert (
        _post(client, f"/p/api/speak/{item}", delegate, json={}).get_json()["request"]["place"] == 1
    )  # once
    event = sub.get(timeout=1)
    assert event.kind == EventKind.SPEAKERS and event.data["item"] == item
    sub.close()
    others = {}
    for d in ("D-0002", "D-0003"):
        c = new_client(app)
        others[d] = (c, sign_in(app, c, d))
        _post(c, f"/p/api/speak/{item}", others[d][1], json={})
    staff, token = _staff(app, "chair")
    page = staff.get(f"/portal/speakers?item={item}", headers={"Accept": "text/html"}).get_data(as_text=True)
    order = [n for n in ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường") if n in page]
    assert order == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường"]
    with app.app_context():
        fb = services().portal.feedback
        queue = fb.queue(item)
    third = queue[2]["id"]
    staff.post(f"/portal/speakers/{third}", data={"csrf_token": token, "action": "up", "item": item})
    staff.post(f"/portal/speakers/{third}", data={"csrf_token": token, "action": "up", "item": item})
    with app.app_context():
        assert [q["delegate_id"] for q in fb.queue(item)] == ["D-0003", "D-0001", "D-0002"]
    staff.post(f"/portal/speakers/{third}", data={"csrf_token": token, "action": "speaking", "item": item})
    c3 = others["D-0003"][0]
    assert c3.get(f"/p/api/speak/{item}").get_json()["request"]["status"] == "speaking"
    assert client.get(f"/p/api/speak/{item}").get_json()["request"]["place"] == 1
    r = _post(client, f"/p/api/speak/{item}", delegate, json={"withdraw": True})
    assert r.get_json()["request"] is None
    observer, otoken = _staff(app, "observer")
    assert observer.get(f"/portal/speakers?item={item}").status_code == 200  # may look
    r = observer.post(f"/portal/speakers/{third}", data={"csrf_token": otoken, "action": "done"})
    assert r.status_code == 403


def test_written_contributions_as_text_or_pdf_and_the_synthesis_records(app, client, delegate):
    item, doc, _secret = _setup(app)
    r = client.post(
        "/p/api/contributions",
        headers={"X-CSRF-Token": delegate},
        data={"item": item, "title": "Ý kiến về kinh tế", "text": "Cần tăng đầu tư cho giáo dục."},
    )
    assert r.status_code == 201
    pdf = text_pdf(1, title="Tham luận của đoàn Hà Nội", font_path=str(fonts.regular()))
    r = client.post(
        "/p/api/contributions",
        headers={"X-CSRF-Token": delegate},
        data={"item": item, "pdf": (io.BytesIO(pdf), "tham-luan.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201
    pdf_ref = r.get_json()["ref"]
    r = client.post(
        "/p/api/contributions",
        headers={"X-CSRF-Token": delegate},
        data={"item": item, "pdf": (io.BytesIO(b"not a pdf"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    assert (
        client.post(
            "/p/api/contributions", headers={"X-CSRF-Token": delegate}, data={"item": item}
        ).status_code
        == 400
    )
    _post(
        client,
        "/p/api/comments",
        delegate,
        json={
            "document": doc,
            "version": 1,
            "page": 1,
            "paragraph": 2,
            "excerpt": "Báo cáo",
            "text": "Bổ sung phần môi trường",
        },
    )
    with app.app_context():
        records = services().portal.feedback.records(item)
    assert [r.kind for r in records] == ["written", "written", "comment"]
    assert records[0].text == "Cần tăng đầu tư cho giáo dục." and records[0].delegation == "Hà Nội"
    assert "Tham luận của đoàn Hà Nội" in records[1].text  # the PDF's text layer, with its diacritics
    assert records[2].anchor["paragraph"] == 2 and records[2].source_id.startswith("comment:")
    staff, _ = _staff(app, "chair")
    page = staff.get("/portal/feedback?kind=contributions", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert "Ý kiến về kinh tế" in page
    assert staff.get(f"/portal/contributions/{pdf_ref}.pdf").data.startswith(b"%PDF")


def test_surveys(app, client, delegate):
    staff, token = _staff(app, "chair")
    staff.post(
        "/portal/surveys",
        data={"csrf_token": token, "question": "Giờ họp buổi chiều?", "options": "13:30\n14:00\n14:30"},
    )
    r = staff.post("/portal/surveys", data={"csrf_token": token, "question": "Một lựa chọn", "options": "A"})
    assert "2 to 8" in r.headers["Location"].replace("+", " ").replace("%20", " ")
    mine = client.get("/p/api/feedback").get_json()["surveys"]
    assert [s["question"] for s in mine] == ["Giờ họp buổi chiều?"]
    sid = mine[0]["id"]
    assert _post(client, f"/p/api/surveys/{sid}", delegate, json={"choice": 7}).status_code == 400
    _post(client, f"/p/api/surveys/{sid}", delegate, json={"choice": 0})
    _post(client, f"/p/api/surveys/{sid}", delegate, json={"choice": 1})  # changed
    with app.app_context():
        assert services().portal.feedback.surveys()[0]["counts"] == [0, 1, 0]
    rows = list(
        csv.reader(io.StringIO(staff.get("/portal/feedback.csv?kind=surveys").data.decode("utf-8-sig")))
    )
    assert rows[1:] == [
        ["Giờ họp buổi chiều?", "13:30", "0"],
        ["Giờ họp buổi chiều?", "14:00", "1"],
        ["Giờ họp buổi chiều?", "14:30", "0"],
    ]
    staff.post(f"/portal/surveys/{sid}/close", data={"csrf_token": token})
    assert _post(client, f"/p/api/surveys/{sid}", delegate, json={"choice": 0}).status_code == 400


def test_formula_neutralisation():
    """The feedback export goes through the controller's one export helper: every formula defused."""
    data = csv_bytes(["a"], [[v] for v in ("=1+1", "+7", "-2", "@x", "\tx", "Bình", 3, None)])
    assert data.startswith("\ufeff".encode())
    cells = [row[0] for row in csv.reader(io.StringIO(data.decode("utf-8-sig")))][1:]
    assert cells == ["'=1+1", "'+7", "'-2", "'@x", "'\tx", "Bình", "3", ""]

"""Notices: sent by the secretariat to everyone, a delegation or a group; each recipient fixed when
sent, one live event for exactly them; read marks and the staff page of who has read each notice."""

from __future__ import annotations

from controller.app import services
from controller.documents.tables import AccessGroup, AccessGroupMember
from controller.live import EventKind
from tests.portal.conftest import new_client, sign_in, support


def _staff(app, name="admin"):
    staff = new_client(app)
    support.login(staff, name)
    return staff, support.page_csrf(staff, "/")


def test_notices_to_everyone_a_delegation_and_a_group(app, client, delegate):
    bus = app.extensions["live"]
    sub = bus.subscribe()
    staff, token = _staff(app, "chair")
    r = staff.post("/portal/notices", data={"csrf_token": token, "title": "Đổi giờ họp", "audience": "all",
                                            "body": "Phiên chiều bắt đầu lúc 14:30", "urgent": "1"})
    assert r.status_code == 302 and "sent=" in r.headers["Location"]
    event = sub.get(timeout=1)
    assert event.kind == EventKind.NOTICE and event.data["to"] == "all" and event.data["notice"]["urgent"]
    staff.post("/portal/notices", data={"csrf_token": token, "title": "Đoàn Hà Nội họp riêng",
                                        "audience": "delegation", "delegation": "Hà Nội"})
    event = sub.get(timeout=1)
    assert sorted(event.data["to"]) == ["D-0001", "D-0002"]
    with app.app_context():
        db = services().db
    with db.session() as s:
        s.add(AccessGroup(name="presidium", title="Đoàn Chủ tịch"))
        s.flush()
        s.add(AccessGroupMember(group_name="presidium", delegate_id="D-0003"))
    staff.post("/portal/notices", data={"csrf_token": token, "title": "Đoàn Chủ tịch", "audience": "group",
                                        "group": "presidium"})
    assert sub.get(timeout=1).data["to"] == ["D-0003"]
    sub.close()
    mine = client.get("/p/api/notices").get_json()
    assert [n["title"] for n in mine["notices"]] == ["Đoàn Hà Nội họp riêng", "Đổi giờ họp"]
    assert mine["unread"] == 2
    other = new_client(app)
    sign_in(app, other, "D-0004")
    assert [n["title"] for n in other.get("/p/api/notices").get_json()["notices"]] == ["Đổi giờ họp"]
    # Nobody to send to, or no title: refused with the reason.
    r = staff.post("/portal/notices", data={"csrf_token": token, "title": "x", "audience": "delegation",
                                            "delegation": "Cần Thơ"})
    assert "nobody would receive" in r.headers["Location"].replace("+", " ").replace("%20", " ")
    observer, otoken = _staff(app, "observer")
    assert observer.post("/portal/notices", data={"csrf_token": otoken, "title": "x"}).status_code == 403


def test_reading_a_notice_and_who_has_read_it(app, client, delegate):
    with app.app_context():
        nid = services().portal.notices.send("Tài liệu mới", "Dự thảo nghị quyết đã có", actor="user:admin")
    other = new_client(app)
    tok2 = sign_in(app, other, "D-0002")
    r = client.post(f"/p/api/notices/{nid}/read", headers={"X-CSRF-Token": delegate})
    assert r.get_json() == {"unread": 0}
    assert other.get("/p/api/notices").get_json()["unread"] == 1
    assert other.post(f"/p/api/notices/{nid}/read").status_code == 400  # no CSRF token
    staff, _ = _staff(app, "chair")
    page = staff.get("/portal/notices", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Tài liệu mới" in page and "1 of 4" in page
    page = staff.get(f"/portal/notices/{nid}", headers={"Accept": "text/html"}).get_data(as_text=True)
    read_by = page.split('id="read-by"')[1].split("</ul>")[0]
    not_read = page.split('id="not-read"')[1].split("</ul>")[0]
    assert "Nguyễn Văn An" in read_by and "Trần Thị Bình" in not_read and "Nguyễn Văn An" not in not_read
    r = other.post(f"/p/api/notices/{nid}/read", headers={"X-CSRF-Token": tok2})
    assert r.get_json() == {"unread": 0}

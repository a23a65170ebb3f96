"""Roster import through the page: an upload is first previewed (nothing written), then applied in
the background with progress on the live bus; bad rows are reported with their line numbers and the
person's own file name, good rows are in. Search (without accents), paging, edit, delete and a photo
upload from the browser, audited; the lane and list APIs follow."""

from __future__ import annotations

import io
import re
import time

from controller import audit

CSV = (
    "id,name,delegation,seat,consent,summoned\n"
    "D1,Ada Lovelace,North,A1,no,yes\n"
    ",No Id,North,A2,no,yes\n"
    "D3,Grace Hopper,South,A3,no,maybe\n"
    "D4,Alan Turing,South,A4,no,no\n"
)


def wait_import(client, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get("/api/delegates/import").get_json()
        if not state["running"]:
            return state
        time.sleep(0.05)
    raise AssertionError("import did not finish")


def test_csv_upload_imports_good_rows_and_reports_bad_ones(app, client, login_as):
    token = login_as("technician")
    sub = app.extensions["live"].subscribe()
    r = client.post(
        "/delegates/import",
        data={"csrf_token": token, "roster": (io.BytesIO(CSV.encode()), "hội nghị 2026.csv")},
        content_type="multipart/form-data",
    )
    preview = r.get_data(as_text=True)
    assert r.status_code == 200 and "hội nghị 2026.csv" in preview
    assert "Nothing has been changed yet" in preview
    assert "2 new delegates, 0 changed, 0 unchanged, 2 rows refused" in preview
    assert client.get("/api/delegates").get_json()["delegates"] == []  # a preview writes nothing
    saved = re.search(r'name="saved" value="([^"]+)"', preview).group(1)
    r = client.post("/delegates/import/apply", data={"csrf_token": token, "saved": saved,
                                                      "shown": "hội nghị 2026.csv"})
    assert r.status_code == 302
    state = wait_import(client)
    assert state["file"] == "hội nghị 2026.csv"
    report = state["report"]
    assert state["error"] == "" and report["imported"] == 2
    assert sorted(p["row"] for p in report["errors"]) == [3, 4]
    ids = {d["id"]: d for d in client.get("/api/delegates").get_json()["delegates"]}
    assert set(ids) == {"D1", "D4"} and ids["D4"]["summoned"] is False
    html = client.get("/delegates").get_data(as_text=True)
    assert "row 3" in html and "row 4" in html and "Ada Lovelace" in html
    kinds = []
    while (ev := sub.get(timeout=0.5)) is not None:
        kinds.append((ev.kind, ev.data))
    assert ("enrollment", {"done": 2, "total": 2, "delegate_id": "D4"}) in kinds
    assert any(k == "enrollment" and d.get("finished") for k, d in kinds)
    sub.close()


def test_upload_without_a_file_is_refused_politely(client, login_as):
    token = login_as("admin")
    r = client.post("/delegates/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 302 and "error=no-file" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "choose a roster file (.csv or .xlsx) to import" in page
    r = client.post("/delegates/import", data={"csrf_token": token, "roster": (io.BytesIO(b"x"), "r.pdf")},
                    content_type="multipart/form-data")
    assert "error=type" in r.headers["Location"]
    r = client.post("/delegates/import/apply", data={"csrf_token": token, "saved": "../../etc/passwd"})
    assert r.status_code == 302 and "error=gone" in r.headers["Location"]


def test_file_errors_name_the_persons_file_not_the_servers(client, login_as):
    token = login_as("admin")
    r = client.post("/delegates/import", data={"csrf_token": token,
                                                "roster": (io.BytesIO(b"id,nmae\nA,B\n"), "Danh sách.csv")},
                    content_type="multipart/form-data", headers={"Accept": "text/html"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "Danh sách.csv: missing column(s) name; unknown column(s) nmae" in page
    assert "roster-20" not in page and "/imports/" not in page


def roster_of(app, n):
    from controller.storage.tables import Delegate

    names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Đức Thọ", "Đặng Thị Ngọc", "Dương Văn Minh"]
    with app.extensions["congress"].db.session() as s:
        for i in range(n):
            s.add(Delegate(id=f"D{i:03d}", name=f"{names[i % 5]} {i}", delegation="Đoàn Hà Nội",
                           consent=i % 2 == 0))


def test_search_without_accents_and_paging(app, client, login_as):
    roster_of(app, 120)
    login_as("chair")
    page = client.get("/delegates?q=nguyen").get_data(as_text=True)
    assert "24 delegates found" in page and "Nguyễn Văn An 0" in page and "Trần" not in page
    page = client.get("/delegates?q=DANG").get_data(as_text=True)
    assert "Đặng Thị Ngọc 3" in page
    first = client.get("/delegates").get_data(as_text=True)
    assert "Page 1 of 3" in first and first.count("<tr><td>D") == 50
    last = client.get("/delegates?page=3").get_data(as_text=True)
    assert last.count("<tr><td>D") == 20 and 'rel="prev"' in last
    by_given = client.get("/delegates?sort=given&q=van").get_data(as_text=True)
    assert by_given.index("Nguyễn Văn An") < by_given.index("Dương Văn Minh")


def test_edit_and_delete_are_audited(app, client, login_as):
    roster_of(app, 3)
    token = login_as("technician")
    assert "Edit delegate D001" in client.get("/delegates/D001/edit").get_data(as_text=True)
    r = client.post("/delegates/D001/edit", data={"csrf_token": token, "name": "  Trần  Thị Bích\u0301 ",
                                                   "delegation": "Đoàn Huế", "seat": "B2", "summoned": "yes"})
    assert r.status_code == 302
    d = {x["id"]: x for x in client.get("/api/delegates").get_json()["delegates"]}["D001"]
    assert d["delegation"] == "Đoàn Huế" and d["seat"] == "B2" and d["name"] == "Trần Thị Bích\u0301"
    r = client.post("/delegates/D002/edit", data={"csrf_token": token, "name": "X", "seat": "B2"})
    assert r.status_code == 400 and "seat B2 belongs to D001" in r.get_data(as_text=True)
    assert client.post("/delegates/D000/delete", data={"csrf_token": token}).status_code == 302
    ids = {x["id"] for x in client.get("/api/delegates").get_json()["delegates"]}
    assert ids == {"D001", "D002"}
    with app.extensions["congress"].db.session() as s:
        actions = {(e.action, e.actor) for e in audit.recent(s)}
    assert ("delegates.edit", "technician") in actions and ("delegates.delete", "technician") in actions
    assert client.get("/delegates/NOPE/edit").status_code == 404


def test_photo_upload_from_the_browser(app, client, login_as, tmp_path):
    import cv2
    import numpy as np

    roster_of(app, 2)
    token = login_as("admin")
    blank = cv2.imencode(".jpg", np.full((200, 200, 3), 200, np.uint8))[1].tobytes()
    r = client.post("/delegates/D001/photo", content_type="multipart/form-data",
                    data={"csrf_token": token, "photo": (io.BytesIO(blank), "a.jpg")})
    assert r.status_code == 400 and "not consented" in r.get_data(as_text=True)  # D001 is badge-only
    r = client.post("/delegates/D000/photo", content_type="multipart/form-data",
                    data={"csrf_token": token, "photo": (io.BytesIO(b"nope"), "x.jpg")})
    assert r.status_code == 400
    # A format no photo needs is refused by its content (whatever its name), in the page's language.
    bmp = cv2.imencode(".bmp", np.full((200, 200, 3), 200, np.uint8))[1].tobytes()
    r = client.post("/delegates/D000/photo", content_type="multipart/form-data",
                    data={"csrf_token": token, "photo": (io.BytesIO(bmp), "chan-dung.jpg")})
    assert r.status_code == 400
    assert "chan-dung.jpg is a BMP file; photos must be JPEG, PNG, WebP or HEIC" in r.get_data(as_text=True)
    client.post("/language", data={"csrf_token": token, "lang": "vi", "next": "/"})
    r = client.post("/delegates/D000/photo", content_type="multipart/form-data",
                    data={"csrf_token": token, "photo": (io.BytesIO(bmp), "chan-dung.jpg")})
    assert "chan-dung.jpg là tệp BMP; ảnh phải ở dạng JPEG, PNG, WebP hoặc HEIC" in r.get_data(as_text=True)


def test_chair_may_look_but_not_import(client, login_as):
    token = login_as("chair")
    assert client.get("/delegates").status_code == 200
    r = client.post(
        "/delegates/import",
        data={"csrf_token": token, "roster": (io.BytesIO(CSV.encode()), "roster.csv")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 403

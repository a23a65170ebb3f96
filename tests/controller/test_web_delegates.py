"""Roster import through the page: the upload runs in the background with progress on the live bus,
bad rows are reported with their line numbers, good rows are in; the lane and list APIs follow."""

from __future__ import annotations

import io
import time

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
        data={"csrf_token": token, "roster": (io.BytesIO(CSV.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    state = wait_import(client)
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
    assert r.status_code == 302 and "choose+a+CSV" in r.headers["Location"]


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

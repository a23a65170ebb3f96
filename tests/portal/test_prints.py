"""Prints reported from the reader: ``POST /p/api/documents/<ref>/printed`` moves the staff's
statistics (pages printed up, not printed down), refused like reading for a document the delegate
may not read, without the CSRF token, and for a page count that is not 1..the version's pages."""

from __future__ import annotations

from controller.app import services
from controller.documents.library import Library
from tests.portal.conftest import new_client, sign_in
from tests.portal.test_feedback import _setup


def _stats(app, ref: str) -> dict:
    with app.app_context():
        return services().documents.stats(ref)


def test_a_report_moves_the_statistics(app, client, delegate):
    _item, doc, _secret = _setup(app)
    assert client.get(f"/d/{doc}/v/1/file").status_code == 200  # the reader opened it
    before = _stats(app, doc)
    assert before["pages_delivered"] == 2
    assert before["pages_printed"] == 0 and before["pages_not_printed"] == 2
    r = client.post(f"/p/api/documents/{doc}/printed", json={"pages": 2}, headers={"X-CSRF-Token": delegate})
    assert r.status_code == 200, r.get_json()
    after = _stats(app, doc)
    assert after["pages_printed"] == 2 and after["pages_not_printed"] == 0
    person = next(p for p in after["people"] if p["printed_pages"])
    assert person["printed_pages"] == 2


def test_refusals(app, client, delegate):
    _item, doc, secret = _setup(app)
    url = f"/p/api/documents/{doc}/printed"
    # Another group's document: the same answer as for reading it.
    read = client.get(f"/d/{secret}/v/1/file")
    r = client.post(f"/p/api/documents/{secret}/printed", json={"pages": 1},
                    headers={"X-CSRF-Token": delegate})
    assert r.status_code == read.status_code == 404
    assert r.get_json()["error"] == read.get_json()["error"]
    r = client.post("/p/api/documents/nope/printed", json={"pages": 1}, headers={"X-CSRF-Token": delegate})
    assert r.status_code == 404
    # No CSRF token, or a wrong one.
    assert client.post(url, json={"pages": 1}).status_code in (400, 403)
    assert client.post(url, json={"pages": 1}, headers={"X-CSRF-Token": "x" * 32}).status_code in (400, 403)
    # Bad page counts.
    for bad in (0, -1, 3, 10**30, 1.5, "2", True, None, [1], {}):
        r = client.post(url, json={"pages": bad}, headers={"X-CSRF-Token": delegate})
        assert r.status_code == 400, (bad, r.status_code)
        assert "1" in r.get_json()["error"] and "2" in r.get_json()["error"]
    for body in (b"[1]", b"not json", b'"x"'):
        r = client.post(url, data=body, content_type="application/json", headers={"X-CSRF-Token": delegate})
        assert r.status_code == 400
    # Signed out: refused.
    other = new_client(app)
    assert other.post(url, json={"pages": 1}, headers={"X-CSRF-Token": delegate}).status_code in (401, 403)
    assert _stats(app, doc)["pages_printed"] == 0


def test_the_group_member_may_report(app, client):
    _item, _doc, secret = _setup(app)
    with app.app_context():
        lib: Library = services().documents
        lib.set_group("presidium", "Đoàn Chủ tịch", ["D-0002"], actor="user:admin")
    csrf = sign_in(app, client, "D-0002")
    r = client.post(f"/p/api/documents/{secret}/printed", json={"pages": 1}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.get_json()
    assert _stats(app, secret)["pages_printed"] == 1


def test_vietnamese_message(app, client, delegate):
    _item, doc, _secret = _setup(app)
    r = client.post(f"/p/api/documents/{doc}/printed?lang=vi", json={"pages": 9},
                    headers={"X-CSRF-Token": delegate})
    assert r.status_code == 400
    assert "số trang" in r.get_json()["error"]

"""Only the delegates' paths exist on the front's port; the rest is the page's 404."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import make_mocked_request

from controller.front.server import PASSTHROUGH
from controller.front.wsgi_bridge import environ_of


def _staff_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        first = rule.rule.lstrip("/").split("/", 1)[0].split("<", 1)[0]
        if first in PASSTHROUGH or "GET" not in rule.methods:
            continue
        paths.append("".join(p if not p.startswith("<") else "1" for p in _split(rule.rule)))
    return paths


def _split(rule: str) -> list[str]:
    out, buf = [], ""
    for ch in rule:
        if ch == "<":
            out.append(buf)
            buf = "<"
        elif ch == ">":
            out.append(buf + ">")
            buf = ""
        else:
            buf += ch
    return [*out, buf]


def test_every_staff_route_is_404_on_the_front_even_logged_in(front):
    from tests.controller.conftest import login

    app = front.server.app
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    assert login(client, "admin").status_code == 302
    cookie = client.get_cookie("congress_session").value
    paths = _staff_paths(app)
    assert "/" in paths and "/documents" in paths and "/events" in paths and len(paths) > 20
    for path in paths:
        status, headers, body = front.get(path, headers={"Cookie": f"congress_session={cookie}"})
        assert status == 404, path
    # the page's own 404, in the person's language
    status, headers, body = front.get("/dashboard",
                                      headers={"Accept": "text/html", "Cookie": "congress_lang=vi"})
    assert status == 404 and "text/html" in headers["Content-Type"]
    assert "Trang này không tồn tại" in body.decode()


def test_the_delegates_paths_reach_the_page(front):
    status, _, body = front.get("/d", "D-0002")
    titles = {d["title"] for d in json.loads(body)["documents"]}
    assert status == 200 and titles == {"Báo cáo chính trị", "Chương trình"}
    status, _, body = front.get("/d", "D-0001")
    assert "Nhân sự" in {d["title"] for d in json.loads(body)["documents"]}
    status, headers, _ = front.get("/static/app.css")
    assert status == 200 and "css" in headers["Content-Type"]
    status, _, body = front.get(f"/d/{front.refs['group']}", "D-0002")
    assert status == 404
    assert front.get("/q/not-a-code")[0] == 400
    # the portal's own pages and files (sign-in page, service worker, manifest, pdf.js)
    status, headers, body = front.get("/p/signin", headers={"Accept": "text/html"})
    assert status == 200 and "text/html" in headers["Content-Type"]
    for path in ("/p/sw.js", "/p/manifest.webmanifest", "/p/static/vendor/pdf.min.mjs",
                 "/fonts/NotoSans_400Regular.ttf"):
        assert front.get(path)[0] == 200, path


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_a_client_cannot_choose_its_address(header):
    req = make_mocked_request("GET", "/p/x?a=1", headers={header: "10.9.9.9", "Cookie": "a=b"})
    env = environ_of(req, b"", tls=True)
    assert not any("10.9.9.9" in str(v) for v in env.values())
    assert env["PATH_INFO"] == "/p/x" and env["QUERY_STRING"] == "a=1" and env["HTTP_COOKIE"] == "a=b"
    assert env["wsgi.url_scheme"] == "https"


def test_the_fronts_error_page_leads_to_the_portal_not_to_the_staff_login(front):
    status, headers, body = front.get("/dashboard",
                                      headers={"Accept": "text/html", "Cookie": "congress_lang=vi"})
    page = body.decode()
    assert status == 404 and "text/html" in headers["Content-Type"]
    assert 'href="/p/signin"' in page and "Đăng nhập ứng dụng đại hội" in page
    assert "/login" not in page and 'href="/"' not in page
    # with a portal session cookie: back to the app
    status, _, body = front.get("/nowhere", headers={"Accept": "text/html", "Cookie": "congress_portal=x"})
    assert status == 404 and 'href="/p/"' in body.decode() and "/login" not in body.decode()
    # the staff page's own 404 still leads to its login
    status, _, body = front.get("/nowhere", headers={"Accept": "text/html"}, port=front.server.port)
    assert status == 404 and 'href="/login"' in body.decode()


def test_refusals_on_the_front_are_in_the_persons_language(front):
    vi, en = {"Cookie": "congress_lang=vi"}, {"Cookie": "congress_lang=en"}
    html = {"Accept": "text/html"}
    # a scanned code that is not one of this congress's, read by the portal's page
    status, _, body = front.get("/q/not-a-code", headers={**html, **vi})
    assert status == 400 and "mã QR này không phải là mã tài liệu hay mã mục chương trình" in body.decode()
    status, _, body = front.get("/q/not-a-code", headers={**html, **en})
    assert status == 400 and "this QR code is not a congress document or agenda item" in body.decode()
    # a copy that does not exist (the front's own answer) and a document's details (the page's view)
    for path in ("/d/AAAAAAAAAAAAAAAA/file", "/d/AAAAAAAAAAAAAAAA"):
        status, _, body = front.get(path, "D-0001", headers=vi)
        assert status == 404 and json.loads(body)["error"] == "không có tài liệu này"
        status, _, body = front.get(path, "D-0001", headers=en)
        assert status == 404 and json.loads(body)["error"] == "there is no such document"
    # the live feed without a sign-in
    status, _, body = front.get("/p/events", headers=vi)
    assert status == 401 and json.loads(body)["error"] == "hãy đăng nhập trước"

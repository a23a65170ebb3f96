"""Signing in to the delegates' portal: badge or code plus a PIN, the per-badge delay (never a lock),
sessions in HttpOnly SameSite=Strict cookies with CSRF, sign-out and staff revocation that wipe the
device, seat-bound tablets; and a delegate's session walked over the whole URL map: no staff route."""

from __future__ import annotations

import datetime as dt

import pytest

from congress import badge_token, pki
from controller.app import services
from controller.live import EventKind, LiveBus
from controller.portal import codes
from controller.portal.signin import MAX_DELAY, delay_after
from controller.web.guard import permission_of
from controller.web.portal import events
from tests.portal.conftest import PIN, code_of, new_client, portal_csrf, sign_in


def _post(client, url, token, **kw):
    return client.post(url, headers={"X-CSRF-Token": token, **kw.pop("headers", {})}, **kw)


def test_first_sign_in_with_the_printed_code_sets_the_pin(app, client):
    pre = portal_csrf(client)
    code = code_of(app, "D-0001")
    assert len(codes.normalise(code)) == 10 and code.count("-") == 2
    # Typing is forgiving: lower case, spaces, O for 0.
    typed = code.lower().replace("-", " ").replace("0", "o")
    who = _post(client, "/p/signin/check", pre, json={"badge": typed}).get_json()
    assert who == {"name": "Nguyễn Văn An", "delegation": "Hà Nội", "has_pin": False}
    r = _post(client, "/p/signin", pre, json={"badge": typed, "pin": "12"})
    assert r.status_code == 400 and "choose a PIN" in r.get_json()["error"]
    r = _post(client, "/p/signin", pre, json={"badge": typed, "pin": "12", "new_pin": True})
    assert r.status_code == 400 and "4 to 8 digits" in r.get_json()["error"]
    r = _post(client, "/p/signin", pre, json={"badge": typed, "pin": PIN, "new_pin": True})
    assert r.status_code == 200 and r.get_json()["next"] == "/p/"
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("congress_portal="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie and "Path=/" in cookie
    page = client.get("/p/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Nguyễn Văn An" in page.get_data(as_text=True)
    assert client.get("/p/api/me").get_json()["seat"] == "A1"
    # The second time the PIN is asked, not chosen (new_pin cannot overwrite it).
    other = new_client(app)
    pre2 = portal_csrf(other)
    assert _post(other, "/p/signin/check", pre2, json={"badge": code}).get_json()["has_pin"] is True
    r = _post(other, "/p/signin", pre2, json={"badge": code, "pin": "9999", "new_pin": True})
    assert r.status_code == 400


def test_sign_in_with_the_scanned_badge_token(app, client, venue_ca):
    key = pki.load_signing_key(venue_ca.dir / "controller-signing.key")
    token = badge_token.issue(key, "test-venue", "D-0003")
    assert sign_in(app, client, "D-0003")
    other = new_client(app)
    pre = portal_csrf(other)
    r = _post(other, "/p/signin", pre, json={"badge": token, "pin": PIN})
    assert r.status_code == 200 and r.get_json()["name"] == "Lê Hoàng Cường"
    third = new_client(app)
    pre = portal_csrf(third)
    foreign = badge_token.issue(key, "another-venue", "D-0003")
    r = _post(third, "/p/signin/check", pre, json={"badge": foreign})
    assert r.status_code == 404 and "not valid" in r.get_json()["error"]
    r = _post(third, "/p/signin/check", pre, json={"badge": "ZZZZ-ZZZZ-ZZ"})
    assert r.status_code == 404


def test_wrong_pins_delay_the_badge_but_never_lock_its_owner_out(app, client):
    sign_in(app, client, "D-0002")
    with app.app_context():
        auth = services().portal.auth
    clock = [dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)]
    auth._now = lambda: clock[0]
    stranger = new_client(app)
    pre = portal_csrf(stranger)
    code = code_of(app, "D-0002")
    for _n in range(3):  # the first wrong PINs cost nothing
        r = _post(stranger, "/p/signin", pre, json={"badge": code, "pin": "0000"})
        assert r.status_code == 400 and r.get_json()["error"] == "wrong PIN", (_n, r.get_json())
    r = _post(stranger, "/p/signin", pre, json={"badge": code, "pin": "0000"})
    assert r.status_code == 429 and r.get_json()["retry_after"] == 1 and r.headers["Retry-After"] == "1"
    # During the delay not even the right PIN is checked (so guessing cannot go faster)...
    owner = new_client(app)
    pre_o = portal_csrf(owner)
    r = _post(owner, "/p/signin", pre_o, json={"badge": code, "pin": PIN})
    assert r.status_code == 429
    # ...and a stranger hammering the badge only makes it wait longer, up to the cap.
    for _n in range(12):
        clock[0] += MAX_DELAY
        _post(stranger, "/p/signin", pre, json={"badge": code, "pin": "0000"})
    r = _post(stranger, "/p/signin", pre, json={"badge": code, "pin": "0000"})
    assert r.status_code == 429 and r.get_json()["retry_after"] <= MAX_DELAY.total_seconds()
    # After the wait, the owner's right PIN opens: a delay, not a lock.
    clock[0] += MAX_DELAY
    r = _post(owner, "/p/signin", pre_o, json={"badge": code, "pin": PIN})
    assert r.status_code == 200
    assert delay_after(3) == dt.timedelta(0) and delay_after(4) == dt.timedelta(seconds=1)
    assert delay_after(50) == MAX_DELAY


def test_state_changes_need_the_csrf_token_and_the_own_origin(app, client, delegate):
    code = code_of(app, "D-0004")
    assert client.post("/p/signin/check", json={"badge": code}).status_code == 400
    assert _post(client, "/p/signin/check", "forged", json={"badge": code}).status_code == 400
    r = _post(client, "/p/api/pin", delegate, json={"old": PIN, "new": "7777"},
              headers={"Origin": "https://evil.example"})
    assert r.status_code == 400
    assert client.post("/p/signout").status_code == 400
    assert _post(client, "/p/api/pin", delegate, json={"old": PIN, "new": "7777"}).status_code == 200


def test_sign_out_ends_the_session_and_tells_the_browser_to_forget(app, client, delegate):
    r = _post(client, "/p/signout", delegate)
    assert r.status_code == 200 and r.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert client.get("/p/api/me").status_code == 401
    r = client.get("/p/", headers={"Accept": "text/html"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/p/signin")


def test_staff_revocation_takes_effect_on_the_next_request(app, client, delegate, login_as):
    bus: LiveBus = app.extensions["live"]
    sub = bus.subscribe()
    me = client.get("/p/api/me").get_json()
    staff = new_client(app)
    from tests.portal.conftest import support

    support.login(staff, "technician")
    token = support.page_csrf(staff, "/portal")
    page = staff.get("/portal", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert me["session"] in page and "Nguyễn Văn An" in page
    r = staff.post(f"/portal/sessions/{me['session']}/revoke", data={"csrf_token": token})
    assert r.status_code == 302
    r = client.get("/p/api/me")
    assert r.status_code == 401 and r.get_json()["signed_out"] is True
    assert r.headers["Clear-Site-Data"] == '"cache", "storage"'  # the browser drops its documents
    event = sub.get(timeout=1)
    assert event.kind == EventKind.NOTICE and event.data == {"to": ["D-0001"], "type": "session"}
    sub.close()
    # An observer may look but not revoke.
    obs = new_client(app)
    support.login(obs, "observer")
    assert obs.get("/portal").status_code == 403


def test_a_delegate_session_reaches_no_staff_route(app, client, delegate):
    """Walk every rule of the URL map with a delegate signed in: each staff route answers as to a
    stranger (401), and every route a delegate reaches is a portal or public one."""
    from tests.controller.test_web_routes import routes

    reached = []
    for endpoint, method, url in routes(app):
        perm = permission_of(app, endpoint)
        if perm is True:
            reached.append(endpoint)
            continue
        r = client.open(url, method=method, headers={"Accept": "application/json", "X-CSRF-Token": delegate})
        assert r.status_code == 401, (endpoint, method, r.status_code)
    portal = {e for e in reached if getattr(app.view_functions[e], "portal", False)}
    assert portal and all(e.startswith("portal") for e in portal)
    staff_public = {"auth.login", "language.switch", "fonts.file", "static", "documents.list_for_reader",
                    "documents.meta", "documents.file", "documents.code"}
    assert set(reached) - portal <= staff_public


def test_a_delegate_session_reads_delegate_documents(app, client, delegate):
    from controller.documents.samples import text_pdf

    with app.app_context():
        ref = services().documents.add("Dự thảo Nghị quyết", data=text_pdf(2), filename="nq.pdf",
                                       actor="user:admin")
    assert new_client(app).get("/d").get_json()["documents"] == []  # a guest sees nothing
    docs = client.get("/d").get_json()["documents"]
    assert [d["ref"] for d in docs] == [ref]
    r = client.get(f"/d/{ref}/file")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")


def test_a_tablet_bound_to_a_seat_opens_for_the_delegate_seated_there(app, client):
    from tests.portal.conftest import support

    sign_in(app, new_client(app), "D-0003")  # sets D-0003's PIN
    staff = new_client(app)
    support.login(staff, "admin")
    token = support.page_csrf(staff, "/portal")
    r = staff.post("/portal/devices", data={"csrf_token": token, "seat": "B1", "label": "Hàng B"})
    assert r.status_code == 302 and "pairing=" in r.headers["Location"]
    from urllib.parse import parse_qs, urlsplit

    pairing = parse_qs(urlsplit(r.headers["Location"]).query)["pairing"][0]
    tablet = new_client(app)
    pre = portal_csrf(tablet, "/p/pair")
    assert _post(tablet, "/p/pair", pre, json={"code": "WRONG-CODE-00"}).status_code == 400
    assert _post(tablet, "/p/pair", pre, json={"code": pairing}).status_code == 200
    assert _post(new_client(app), "/p/pair", pre, json={"code": pairing}).status_code == 400  # one time
    page = tablet.get("/p/signin", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Seat B1" in page and "Lê Hoàng Cường" in page and 'data-has-pin="yes"' in page
    assert _post(tablet, "/p/signin", pre, json={"seat": True, "pin": "0000"}).status_code == 400
    r = _post(tablet, "/p/signin", pre, json={"seat": True, "pin": PIN})
    assert r.status_code == 200 and r.get_json()["name"] == "Lê Hoàng Cường"
    assert tablet.get("/p/api/me").get_json()["seat"] == "B1"
    # Unbinding the tablet signs it out.
    with app.app_context():
        device = services().portal.auth.devices()[0]["id"]
    staff.post(f"/portal/devices/{device}/revoke", data={"csrf_token": token})
    assert tablet.get("/p/api/me").status_code == 401


def test_the_live_stream_filters_for_the_delegate_and_ends_when_revoked():
    bus = LiveBus(keepalive_s=0.2)
    sub = bus.subscribe()
    allowed = [True]
    gen = events.stream(bus, sub, "D-0001", lambda: allowed[0], poll_s=0.05)
    assert next(gen).startswith("retry:")
    bus.publish(EventKind.NOTICE, {"to": ["D-0002"], "title": "not for you"})
    bus.publish(EventKind.NOTICE, {"to": ["D-0001", "D-0003"], "title": "hello"})
    bus.publish(EventKind.CHECKIN, {"delegate_id": "D-0009"})  # staff events are not sent
    bus.publish(EventKind.NOTICE, {"to": "all", "title": "everyone"})
    got = [next(gen), next(gen)]
    assert '"title":"hello"' in got[0] and "D-0003" not in got[0]  # the recipients are not shown
    assert '"title":"everyone"' in got[1]
    allowed[0] = False
    events.CHECK_S, saved = 0.0, events.CHECK_S
    try:
        rest = list(gen)
    finally:
        events.CHECK_S = saved
    assert rest[-1] == 'event: notice\ndata: {"type":"session"}\n\n'
    assert bus.clients == 0


@pytest.mark.parametrize("path", ["/p/manifest.webmanifest", "/p/sw.js", "/p/static/portal.js",
                                  "/p/static/vendor/jsQR.js", "/p/static/vendor/pdf.min.mjs"])
def test_the_app_files_are_served_locally(client, path):
    r = client.get(path)
    r.close()
    assert r.status_code == 200, path
    if path.endswith(".mjs"):
        assert r.mimetype == "text/javascript"
    if path == "/p/sw.js":
        assert r.headers["Service-Worker-Allowed"] == "/p/"


def test_the_sign_in_page_may_open_the_camera_and_staff_pages_may_not(client):
    r = client.get("/p/signin", headers={"Accept": "text/html"})
    assert "camera=(self)" in r.headers["Permissions-Policy"]
    assert "camera=()" in client.get("/login").headers["Permissions-Policy"]


def test_the_badge_prints_the_sign_in_code_under_its_qr_code(app, venue_ca, tmp_path):
    import subprocess

    from controller.delegates.badges import badges, sheet_pdf

    key = pki.load_signing_key(venue_ca.dir / "controller-signing.key")
    with app.app_context():
        db = services().db
        items = badges(db, key, "test-venue", ids=["D-0001", "D-0002"])
        assert [b.code for b in items] == [code_of(app, "D-0001"), code_of(app, "D-0002")]
        pdf = tmp_path / "badges.pdf"
        pdf.write_bytes(sheet_pdf(items, venue_name="Test", gettext=lambda s: s))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert code_of(app, "D-0001") in text and code_of(app, "D-0002") in text

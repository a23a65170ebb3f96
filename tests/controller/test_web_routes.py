"""Every route of the controller page, taken from the app's URL map (so a new route cannot escape):
it has an access rule, anonymous callers are turned away, roles without the permission get 403, and
every state-changing method needs the CSRF token (tests run with CSRF on, as in production)."""

from __future__ import annotations

import pytest
from werkzeug.routing.converters import NumberConverter

from controller.accounts.auth import PERMISSIONS, Perm
from controller.storage.tables import Role
from controller.web.guard import permission_of

# The language switch and the fonts serve the login page too; the delegate-facing document endpoints
# check their reader themselves (a badge token or nobody): tests/documents/test_library_web.py walks them.
PUBLIC = {"auth.login", "language.switch", "fonts.file", "static", "documents.list_for_reader",
          "documents.meta", "documents.file", "documents.code"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def routes(app):
    """``(endpoint, method, url)`` for every rule and method, with sample values for URL variables."""
    out = []
    for rule in app.url_map.iter_rules():
        values = {}
        for arg in rule.arguments:
            numeric = isinstance(rule._converters[arg], NumberConverter)
            values[arg] = 1 if numeric else "x"
        if rule.endpoint == "static":
            values = {"filename": "app.css"}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


def _portal(app, endpoint: str) -> bool:
    """A view of the delegates' portal (``/p/``), which has its own guard (tests/portal)."""
    return getattr(app.view_functions.get(endpoint), "portal", False)


def call(client, method, url, **kw):
    return client.open(
        url, method=method, headers={"Accept": "application/json", **kw.pop("headers", {})}, **kw
    )


def test_every_route_has_an_access_rule(app):
    unmarked = [e for e, _, _ in routes(app) if permission_of(app, e) is None]
    assert unmarked == []
    public = {e for e, _, _ in routes(app) if permission_of(app, e) is True}
    # The delegates' portal (/p/) has its own guard: tests/portal/test_signin.py walks it.
    portal = {e for e in public if getattr(app.view_functions[e], "portal", False)}
    assert portal and all(e.startswith("portal") for e in portal)
    assert public - portal == PUBLIC
    assert len(routes(app)) >= 20  # the walk really covers the page


def test_an_unmarked_route_is_closed_to_everyone(app, client, login_as):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    login_as("admin")
    r = call(client, "GET", "/forgotten")
    assert r.status_code == 403 and b"secret" not in r.data


def test_anonymous_is_rejected_everywhere(app, client):
    token = client.get("/login").get_data(as_text=True)  # a pre-login CSRF token must not help
    assert token
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC or _portal(app, endpoint):
            continue
        r = call(client, method, url)
        assert r.status_code == 401, (endpoint, method, r.status_code)


def test_html_pages_send_anonymous_to_login(client):
    r = client.get("/devices", headers={"Accept": "text/html"})
    assert r.status_code == 302 and "/login?next=/devices" in r.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
def test_wrong_role_is_rejected(app, client, login_as, role):
    token = login_as(role.value)
    denied = 0
    for endpoint, method, url in routes(app):
        perm = permission_of(app, endpoint)
        if perm is True or role in PERMISSIONS[perm]:
            continue
        r = call(client, method, url, headers={"X-CSRF-Token": token})
        assert r.status_code == 403, (role, endpoint, method, r.status_code)
        denied += 1
    if role is not Role.ADMIN:
        assert denied > 0, f"{role} should be refused something"


def _allowed_role(perm: Perm) -> str:
    return sorted(PERMISSIONS[perm], key=lambda r: r.value)[0].value


def test_csrf_is_enforced_on_every_state_change(app, client, login_as):
    # The portal's state changes are held to its own CSRF token in tests/portal/test_signin.py.
    unsafe = [(e, m, u) for e, m, u in routes(app) if m in UNSAFE and not _portal(app, e)]
    assert unsafe, "the page has state-changing routes"
    for endpoint, method, url in unsafe:
        client.delete_cookie("congress_session")
        perm = permission_of(app, endpoint)
        if perm is True:
            client.get("/login")  # sets the pre-login token cookie
        else:
            token = login_as(_allowed_role(perm))
        missing = call(client, method, url)
        assert missing.status_code == 400, (endpoint, "no token", missing.status_code)
        wrong = call(client, method, url, headers={"X-CSRF-Token": "forged"})
        assert wrong.status_code == 400, (endpoint, "wrong token", wrong.status_code)
        if perm is not True:
            foreign = call(
                client, method, url, headers={"X-CSRF-Token": token, "Origin": "https://evil.example"}
            )
            assert foreign.status_code == 400, (endpoint, "foreign origin", foreign.status_code)


def test_allowed_role_gets_through_every_read_route(app, client, login_as):
    login_as("admin")
    for endpoint, method, url in routes(app):
        if method != "GET" or endpoint in ("main.events", "static") or "<" in url:
            continue
        if _portal(app, endpoint):  # the delegates' app: tests/portal
            continue
        if app.url_map.bind("localhost").match(url, method="GET")[1]:
            continue  # routes with variables need real objects; covered by their own tests
        r = call(client, method, url, headers={"Accept": "text/html"})
        assert r.status_code == 200, (endpoint, r.status_code)


def test_docs_permission_table_matches_the_code():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "controller.md").read_text()
    rows = {}
    for line in doc.splitlines():
        m = re.match(r"\| (\w+) \([^)]*\) \| (yes|no) \| (yes|no) \| (yes|no) \| (yes|no) \|$", line)
        if m:
            rows[m.group(1)] = {
                r
                for r, v in zip(("admin", "technician", "chair", "observer"), m.groups()[1:], strict=True)
                if v == "yes"
            }
    assert rows == {p.value: {r.value for r in roles} for p, roles in PERMISSIONS.items()}

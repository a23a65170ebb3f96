"""The printable badge sheet on the controller page: admin and technician only, linked from the delegates
page, every badge a QR token that verifies with the controller key, no script allowed, printing audited."""

from __future__ import annotations

import re

import pytest

from congress import badge_token, pki
from controller import audit
from controller.storage.tables import Delegate


@pytest.fixture
def roster(app):
    with app.extensions["congress"].db.session() as s:
        s.add(Delegate(id="D-1", name="Ada <Lovelace>", delegation="North", seat="A1", consent=True))
        s.add(Delegate(id="D-2", name="Bo Brown", delegation="South", consent=False))


@pytest.mark.parametrize("role", ["admin", "technician"])
def test_badge_sheet_for_admin_and_technician(app, client, login_as, roster, venue_ca, role):
    login_as(role)
    page = client.get("/delegates", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'href="/delegates/badges"' in page
    r = client.get("/delegates/badges")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert html.count('class="badge"') == 2 and "Ada &lt;Lovelace&gt;" in html and "<Lovelace>" not in html
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script" not in csp and "'unsafe-inline'" not in csp
    assert "<script" not in html and r.headers["Cache-Control"] == "no-store"
    north = client.get("/delegates/badges?delegation=North").get_data(as_text=True)
    assert re.findall(r'data-delegate="([^"]+)"', north) == ["D-1"]
    assert client.get("/delegates/badges?delegation=Nowhere").status_code == 404
    with app.extensions["congress"].db.session() as s:
        entries = [e for e in audit.recent(s) if e.action == "badges.print"]
    assert len(entries) == 2 and all(e.actor == role for e in entries)


def test_badge_tokens_verify_with_the_controller_key(app, client, login_as, roster, venue_ca):
    """Each QR code on the page is the drawing of a token that verifies with the controller's public key
    (Ed25519 signatures are deterministic, so the same token draws the same code)."""
    from controller.delegates.badges import badges, qr_svg

    login_as("admin")
    html = client.get("/delegates/badges").get_data(as_text=True)
    key = pki.load_signing_key(venue_ca.controller_signing_key)
    pub = pki.load_public_key(venue_ca.controller_signing_pub)
    items = badges(app.extensions["congress"].db, key, "test-venue")
    assert len(items) == 2
    for b in items:
        assert qr_svg(b.token) in html
        assert badge_token.verify(b.token, pub, "test-venue").delegate_id == b.delegate_id


@pytest.mark.parametrize("role", ["chair", "observer"])
def test_badge_sheet_refused_to_other_roles(client, login_as, roster, role):
    login_as(role)
    assert client.get("/delegates/badges", headers={"Accept": "text/html"}).status_code == 403
    if role == "chair":  # sees the delegates page, but not the link
        page = client.get("/delegates", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "/delegates/badges" not in page

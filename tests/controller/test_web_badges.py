"""The badge sheet on the controller page: admin and technician only, linked from the delegates page,
a paged A4 PDF (ten badges a page) with the fonts embedded, Vietnamese names drawn with real glyphs
(Chinese characters from the fallback font, never a box), every QR code a token that verifies with
the controller key (read back from the printed page by a QR decoder), printing audited."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from congress import badge_token, pki
from controller import audit
from controller.storage.tables import Delegate

NAMES = {"D-1": "Nguyễn Thị Ngọc Ánh", "D-2": "Trần Đức Quỳnh", "D-3": "Lê Ỷ Lan", "D-4": "王小明"}


@pytest.fixture
def roster(app):
    with app.extensions["congress"].db.session() as s:
        s.add(Delegate(id="D-1", name=NAMES["D-1"], delegation="Đoàn Hà Nội", seat="A1", consent=True))
        s.add(Delegate(id="D-2", name=NAMES["D-2"], delegation="Đoàn Huế", consent=False))
        s.add(Delegate(id="D-3", name=NAMES["D-3"], delegation="Đoàn Hà Nội", seat="A2", consent=True))
        s.add(Delegate(id="D-4", name=NAMES["D-4"], delegation="Khách mời", consent=False))


def pdf_text(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is missing")
    src = tmp_path / "sheet.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-raw", str(src), "-"], capture_output=True, text=True,
                         check=True).stdout
    return " ".join(out.split())  # in drawing order; a name wrapped on two lines reads as one


def pdf_fonts(pdf: bytes, tmp_path) -> str:
    src = tmp_path / "fonts.pdf"
    src.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(src)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("role", ["admin", "technician"])
def test_badge_sheet_for_admin_and_technician(app, client, login_as, roster, venue_ca, role, tmp_path):
    login_as(role)
    page = client.get("/delegates", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'href="/delegates/badges"' in page
    r = client.get("/delegates/badges")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data[:5] == b"%PDF-"
    text = pdf_text(r.data, tmp_path)
    for name in NAMES.values():
        assert name in text, name  # real glyphs with their Unicode mapping, not boxes
    assert "badge only" in text and "Seat A1" in text
    fonts = pdf_fonts(r.data, tmp_path)
    assert "NotoSans-Bold" in fonts and "NotoSansSC" in fonts and " no " not in fonts.split("\n", 2)[2]
    north = pdf_text(client.get("/delegates/badges?delegation=Đoàn Hà Nội").data, tmp_path)
    assert NAMES["D-1"] in north and NAMES["D-2"] not in north
    assert client.get("/delegates/badges?delegation=Nowhere").status_code == 404
    with app.extensions["congress"].db.session() as s:
        entries = [e for e in audit.recent(s) if e.action == "badges.print"]
    assert len(entries) == 2 and all(e.actor == role for e in entries)


def test_badge_sheet_speaks_the_page_language(client, login_as, roster, tmp_path):
    login_as("admin")
    text = pdf_text(client.get("/delegates/badges?lang=vi").data, tmp_path)
    assert "chỉ dùng thẻ" in text and "Ghế A1" in text and "Mã D-1" in text


def test_badge_tokens_read_back_from_the_printed_page(app, client, login_as, roster, venue_ca, tmp_path):
    """Render the PDF page as a printer would, read each card's QR code as a door camera does, and
    verify each token with the controller's public key."""
    from tests.controller.conftest import read_badge_codes

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is missing")
    login_as("admin")
    (tmp_path / "s.pdf").write_bytes(client.get("/delegates/badges").data)
    pub = pki.load_public_key(venue_ca.controller_signing_pub)
    codes = read_badge_codes(tmp_path / "s.pdf", tmp_path)
    found = {badge_token.verify(t, pub, "test-venue").delegate_id for t in codes}
    assert found == set(NAMES)


def test_five_hundred_badges_make_fifty_pages(app, venue_ca):
    from controller.delegates.badges import Badge, sheet_pdf

    key = pki.load_signing_key(venue_ca.controller_signing_key)
    items = [Badge(f"D{i}", f"Nguyễn Văn Bình {i}", "Đoàn", None, True, badge_token.issue(key, "v", f"D{i}"))
             for i in range(500)]
    pdf = sheet_pdf(items, venue_name="Đại hội", gettext=lambda s: s)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 50
    assert len(pdf) < 3_000_000


@pytest.mark.parametrize("role", ["chair", "observer"])
def test_badge_sheet_refused_to_other_roles(client, login_as, roster, role):
    login_as(role)
    assert client.get("/delegates/badges", headers={"Accept": "text/html"}).status_code == 403
    if role == "chair":  # sees the delegates page, but not the link
        page = client.get("/delegates", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "/delegates/badges" not in page


def test_bench_command_reports_the_sheet(capsys):
    import json

    from congress.cli import main

    assert main(["bench", "badges", "--delegates", "25", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["delegates"] == 25 and out["pages"] == 3 and out["bytes"] > 10_000

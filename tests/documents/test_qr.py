"""Signed document QR codes: issued, printed on a sheet, rendered, decoded and verified offline."""

from __future__ import annotations

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from congress import document_token as dt
from congress.badge_token import BadgeReason
from congress.badge_token import issue as issue_badge
from congress.errors import ProtocolError
from controller.documents import qr_sheet
from controller.documents.survival import render

KEY = Ed25519PrivateKey.generate()
PUB = KEY.public_key()
PORTAL = "https://portal.congress.local"


def test_a_document_code_verifies_offline_and_names_its_version():
    token = dt.issue_document(KEY, "dh-2026", "kZ3rT9qLmW2x", 2)
    claims = dt.verify(dt.qr_text(token, PORTAL), PUB, "dh-2026")
    assert claims == dt.Claims(dt.Kind.DOCUMENT, "dh-2026", "kZ3rT9qLmW2x", 2)
    item = dt.verify(dt.issue_item(KEY, "dh-2026", "it-8f2a"), PUB, "dh-2026")
    assert item.kind is dt.Kind.AGENDA_ITEM and item.version is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", BadgeReason.MALFORMED),
        ("DCD1.e30.AAAA", BadgeReason.SIGNATURE),
        ("DCD1.!!!.xx", BadgeReason.MALFORMED),
    ],
)
def test_garbage_is_refused(text, reason):
    with pytest.raises(ProtocolError) as err:
        dt.verify(text, PUB, "dh-2026")
    assert err.value.reason == reason


def test_a_code_from_another_venue_or_key_or_tampered_is_refused():
    token = dt.issue_document(KEY, "other-congress", "abc", 1)
    with pytest.raises(ProtocolError) as err:
        dt.verify(token, PUB, "dh-2026")
    assert err.value.reason == BadgeReason.VENUE and "another congress" in err.value.message
    with pytest.raises(ProtocolError) as err:
        dt.verify(dt.issue_document(Ed25519PrivateKey.generate(), "dh-2026", "abc", 1), PUB, "dh-2026")
    assert err.value.reason == BadgeReason.SIGNATURE
    # Tampered: the version number changed in the payload, the signature kept.
    import base64
    import json

    prefix, payload, sig = dt.issue_document(KEY, "dh-2026", "abc", 1).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["n"] = 2
    forged = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()
    with pytest.raises(ProtocolError) as err:
        dt.verify(f"{prefix}.{forged}.{sig}", PUB, "dh-2026")
    assert err.value.reason == BadgeReason.SIGNATURE


def test_a_badge_is_not_a_document():
    with pytest.raises(ProtocolError) as err:
        dt.verify(issue_badge(KEY, "dh-2026", "D-1"), PUB, "dh-2026")
    assert err.value.reason == BadgeReason.MALFORMED


def test_the_printed_sheet_decodes_back_to_verifiable_codes():
    entries = [
        qr_sheet.Entry(
            f"{n}. Báo cáo chính trị của Ban Chấp hành khoá {n}",
            "Phiên chính thức · Thứ Tư 02/12/2026",
            dt.qr_text(dt.issue_document(KEY, "dh-2026", f"ref{n:03d}", 1), PORTAL),
            version=1,
            current_version=2 if n == 1 else None,
        )
        for n in range(1, 8)
    ]
    pdf = qr_sheet.render(entries, congress_name="Đại hội đại biểu lần thứ XIV", lang="vi")
    found = []
    for page in (1, 2):
        img = render(pdf, 150, page)
        found += [r.text for r in zxingcpp.read_barcodes(img) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert sorted(found) == sorted(e.qr for e in entries)
    refs = sorted(dt.verify(text, PUB, "dh-2026").ref for text in found)
    assert refs == [f"ref{n:03d}" for n in range(1, 8)]


def test_the_sheet_carries_vietnamese_text():
    import subprocess
    import tempfile

    pdf = qr_sheet.render(
        [qr_sheet.Entry("3. Nghị quyết Đại hội", "Ngày thứ hai", "DCI1.x.y", current_version=3)],
        congress_name="Đại hội",
    )
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        text = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True, check=True).stdout
    assert "Nghị quyết Đại hội" in text
    assert "Đã được thay thế — hãy dùng phiên bản 3" in text


def test_every_refusal_of_a_code_is_in_the_catalogue():
    from congress.i18n import Message
    from controller.web.i18n import catalogue

    vi = catalogue("vi")
    other = dt.issue_document(KEY, "other-congress", "abc", 1)
    forged = dt.issue_document(Ed25519PrivateKey.generate(), "dh-2026", "abc", 1)
    for text in ("hello", "DCD1.e30.AAAA", "DCD1.!!!.xx", other, forged, "DC1.x.y"):
        with pytest.raises(ProtocolError) as err:
            dt.verify(text, PUB, "dh-2026")
        message = err.value.text
        assert isinstance(message, Message) and str(message) == err.value.message
        assert message.translate(vi.gettext) != message.translate(lambda s: s)  # translated into Vietnamese
    with pytest.raises(ProtocolError) as err:
        dt.verify(other, PUB, "dh-2026")
    expected = "mã QR này thuộc một đại hội khác (địa điểm 'other-congress')"
    assert err.value.text.translate(vi.gettext) == expected

"""Issue 12's edges on the controller page: refusals in the person's language, ballots put on and
taken off agenda items, the QR sheet in the page's language, a reprinted badge's token."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import tempfile

from controller.storage.database import utcnow


def svc(app):
    return app.extensions["congress"]


def _item(app) -> str:
    s = svc(app)
    with s.db.session() as session:
        s.programme.session_row(session, "S1", date=dt.date(2026, 12, 2), title="Phiên chính thức")
    return s.programme.add_item("3", "S1", "Báo cáo chính trị", actor="t")


def _open_ballot(app) -> int:
    from controller.voting.tables import Ballot, BallotKind, BallotStatus

    with svc(app).db.session() as s:
        ballot = Ballot(title="Thông qua báo cáo", kind=BallotKind.MOTION, options=["yes", "no", "abstain"],
                        status=BallotStatus.OPEN, opened_at=utcnow())
        s.add(ballot)
        s.flush()
        return ballot.id


def _page(client, lang: str) -> str:
    client.set_cookie("congress_lang", lang)
    return client.get("/programme", headers={"Accept": "text/html"}).get_data(as_text=True)


def _post(client, path: str, csrf: str, lang: str, **form) -> str:
    client.set_cookie("congress_lang", lang)
    r = client.post(path, data={"csrf_token": csrf, **form}, headers={"Accept": "text/html"},
                    follow_redirects=True)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_a_ballot_is_put_on_an_item_and_an_open_one_keeps_its_item(app, client, login_as):
    ref, bid = _item(app), _open_ballot(app)
    csrf = login_as("chair")
    assert "Put on this item" in _page(client, "en")
    page = _post(client, f"/programme/items/{ref}/ballots/link", csrf, "en", ballot=str(bid))
    assert f"Ballot {bid} put on the agenda item" in page and f"#{bid}</a>" in page
    assert svc(app).programme.item(ref).ballots == (bid,)
    # deleting the item while its ballot is open is refused, in the chair's language
    page = _post(client, f"/programme/items/{ref}/delete", csrf, "vi", confirmed="yes")
    assert f"mục chương trình 3 đang có cuộc biểu quyết mở (số {bid})" in page
    assert svc(app).programme.item(ref).ballots == (bid,)
    page = _post(client, f"/programme/items/{ref}/delete", csrf, "en", confirmed="yes")
    assert f"agenda item 3 has an open ballot (no. {bid})" in page
    # taken off again; taking it off twice says so
    _post(client, f"/programme/items/{ref}/ballots/unlink", csrf, "en", ballot=str(bid))
    assert svc(app).programme.item(ref).ballots == ()
    page = _post(client, f"/programme/items/{ref}/ballots/unlink", csrf, "vi", ballot=str(bid))
    assert f"cuộc biểu quyết {bid} không thuộc mục chương trình này" in page


def test_deleting_an_item_or_withdrawing_a_document_asks_first(app, client, login_as):
    """The Delete and Withdraw buttons lead to a page that names what goes and asks; only its button
    (``confirmed=yes``) acts (both acted at the first press)."""
    ref = _item(app)
    lib = svc(app).documents
    from controller.documents.samples import text_pdf

    doc = lib.add("Dự thảo Báo cáo chính trị", item_ref=ref, data=text_pdf(1), actor="t")
    csrf = login_as("chair")
    page = _post(client, f"/documents/{doc}/withdraw", csrf, "vi")
    assert "Thu hồi tài liệu «Dự thảo Báo cáo chính trị»?" in page and 'name="confirmed" value="yes"' in page
    assert not lib.get(doc, _staff()).withdrawn
    page = _post(client, f"/documents/{doc}/withdraw", csrf, "en", confirmed="yes")
    assert "Withdrawn: nobody receives it any more" in page and lib.get(doc, _staff()).withdrawn
    other = svc(app).programme.add_item("4", "S1", "Thảo luận", actor="t")
    page = _post(client, f"/programme/items/{other}/delete", csrf, "vi")
    assert "Xóa mục chương trình 4: Thảo luận?" in page and 'name="confirmed" value="yes"' in page
    assert svc(app).programme.item(other).number == "4"  # still there
    page = _post(client, f"/programme/items/{other}/delete", csrf, "en", confirmed="yes")
    assert "Agenda item deleted" in page and "Thảo luận" not in page


def _staff():
    from controller.documents.access import Reader, ReaderKind

    return Reader(ReaderKind.STAFF, "t", "t", secretariat=True)


def test_the_observer_cannot_put_a_ballot_on_an_item(app, client, login_as):
    ref, bid = _item(app), _open_ballot(app)
    csrf = login_as("observer")
    r = client.post(f"/programme/items/{ref}/ballots/link", data={"csrf_token": csrf, "ballot": bid})
    assert r.status_code == 403 and svc(app).programme.item(ref).ballots == ()


def test_service_refusals_are_translated(app, client, login_as):
    _item(app)
    csrf = login_as("chair")
    page = _post(client, "/programme/items", csrf, "vi", number="3", session="S1", title="Trùng số")
    assert "số mục chương trình 3 đã được dùng" in page
    page = _post(client, "/programme/items", csrf, "vi", number="9", session="S9", title="Phiên lạ")
    assert "không có phiên &#39;S9&#39;; hãy thêm phiên trước" in page
    page = _post(client, "/programme/sessions/S1/close", csrf, "vi")
    assert "phiên S1 chưa khai mạc" in page
    # a bad programme file: every problem, in Vietnamese
    import io

    client.set_cookie("congress_lang", "vi")
    bad = b"session,number,title\nS1,1,\nS1,1,Trung\n"
    r = client.post("/programme/import", data={"csrf_token": csrf, "file": (io.BytesIO(bad), "p.csv")},
                    headers={"Accept": "text/html"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "tệp chương trình có 2 lỗi, chưa nhập gì" in page
    assert "dòng 2: mục chương trình chưa có tiêu đề" in page and "cũng được dùng ở dòng 2" in page
    # two chairs: the second move is refused, in the page's language
    rev = svc(app).programme.now()["revision"]
    client.post("/programme/now", json={"ref": None, "revision": rev}, headers={"X-CSRF-Token": csrf})
    stale = client.post("/programme/now", json={"ref": None, "revision": rev}, headers={"X-CSRF-Token": csrf})
    assert stale.status_code == 409
    assert stale.get_json()["error"] == (
        "trong lúc đó người khác đã chuyển chương trình; hãy kiểm tra rồi chuyển lại"
    )


def _pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True, check=True).stdout


def test_the_qr_sheet_speaks_the_pages_language(app, client, login_as):
    _item(app)
    login_as("chair")
    client.set_cookie("congress_lang", "vi")
    vi = client.get("/documents/qr-sheet.pdf")
    client.set_cookie("congress_lang", "en")
    en = client.get("/documents/qr-sheet.pdf")
    assert "Mã QR tài liệu" in _pdf_text(vi.data) and "Trang 1/1" in _pdf_text(vi.data)
    text = _pdf_text(en.data)
    assert "Document QR codes" in text and "Page 1 of 1" in text and "Báo cáo chính trị" in text


def test_a_reprinted_badge_carries_the_same_code_and_the_old_card_still_opens(app, venue_ca):
    """Decided: a reprint is the same credential (badge number 1), so the first card keeps working."""
    from congress import pki
    from controller.delegates.badges import badges
    from controller.documents.access import ReaderKind

    key = pki.load_signing_key(venue_ca.controller_signing_key)
    first = badges(svc(app).db, key, venue_ca.venue, ids=["D-0002"])[0].token
    reprint = badges(svc(app).db, key, venue_ca.venue, ids=["D-0002"])[0].token
    assert first == reprint
    reader = svc(app).documents.access.reader_from(badge_token=first)
    assert reader.kind is ReaderKind.DELEGATE and reader.id == "D-0002"
    assert re.fullmatch(r"DC1\.[\w-]+\.[\w-]+", first)

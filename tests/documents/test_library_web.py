"""Documents through the controller's web layer: uploads, access walked for every role and reader,
watermarked copies, versions, QR codes, statistics and the audit trail."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.support import Translations
from sqlalchemy import func, select

import controller.web
from controller import audit
from controller.documents import mark, survival
from controller.documents.pdfcheck import REFUSAL_TEXT, Refusal
from controller.documents.samples import text_pdf
from controller.storage.tables import AuditEntry, Role
from tests.documents.corpus import hostile_corpus

PDF = text_pdf(2)


def svc(app):
    return app.extensions["congress"]


@pytest.fixture
def library(app):
    """A programme item and one document per access level, plus a withdrawn one."""
    s = svc(app)
    item = s.programme
    with s.db.session() as session:
        item.session_row(
            session, "S1", date=__import__("datetime").date(2026, 12, 2), title="Phiên chính thức"
        )
    item_ref = item.add_item("3", "S1", "Báo cáo chính trị", actor="t")
    lib = s.documents
    lib.set_group("presidium", "Đoàn Chủ tịch", ["D-0001"], actor="t")
    refs = {
        "public": lib.add("Chương trình Đại hội", level=_level("public"), data=PDF, actor="t"),
        "delegates": lib.add(
            "Dự thảo Báo cáo", level=_level("delegates"), item_ref=item_ref, data=PDF, actor="t"
        ),
        "group": lib.add("Danh sách nhân sự", level=_level("group"), group="presidium", data=PDF, actor="t"),
        "confidential": lib.add("Hồ sơ mật", level=_level("confidential"), actor="t"),
        "withdrawn": lib.add("Bản cũ", level=_level("delegates"), data=PDF, actor="t"),
    }
    lib.withdraw(refs["withdrawn"], actor="t")
    return refs, item_ref


def _level(name):
    from controller.documents.access import Level

    return Level(name)


# Who may fetch which file: 200 or 404 (never 403: a reader learns nothing about what they may not read).
EXPECTED = {
    "guest": {"public"},
    "D-0001": {"public", "delegates", "group"},  # a presidium member
    "D-0002": {"public", "delegates"},  # a delegate of another group
    "forged": {"public"},  # a badge token from another venue: a guest
    Role.ADMIN.value: {"public", "delegates", "group"},
    Role.TECHNICIAN.value: {"public", "delegates", "group"},
    Role.CHAIR.value: {"public", "delegates", "group"},
    Role.OBSERVER.value: {"public", "delegates"},
}


def _as(client, login_as, badge, who):
    client.delete_cookie("congress_session")
    headers = {}
    if who.startswith("D-"):
        headers["Authorization"] = f"Badge {badge(who)}"
    elif who == "forged":
        headers["Authorization"] = f"Badge {badge('D-0001', 'another-venue')}"
    elif who != "guest":
        login_as(who)
    return headers


def test_every_document_as_every_reader(app, client, login_as, badge, library):
    refs, _ = library
    probes = dict(refs, unknown="x" * 16, numeric="1")
    for who, allowed in EXPECTED.items():
        headers = _as(client, login_as, badge, who)
        visible = {refs[n] for n in allowed}
        if who not in ("guest", "forged"):
            visible.add(refs["confidential"])  # listed as existing on paper, never fetchable
        if who in (Role.ADMIN.value, Role.TECHNICIAN.value, Role.CHAIR.value):
            visible.add(refs["withdrawn"])  # the secretariat keeps seeing the record, not the file
        for name, ref in probes.items():
            for path in (f"/d/{ref}/file", f"/d/{ref}/v/1/file"):
                r = client.get(path, headers=headers)
                want = 200 if name in allowed else 404
                assert r.status_code == want, (who, name, path, r.status_code)
            r = client.get(f"/d/{ref}", headers=headers)
            assert r.status_code == (200 if ref in visible else 404), (who, name, r.status_code)
        listed = {d["ref"] for d in client.get("/d", headers=headers).get_json()["documents"]}
        assert listed == visible, who


def test_a_copy_is_the_readers_own_and_every_open_is_audited(app, client, badge, library):
    refs, _ = library
    s = svc(app)
    with s.db.session() as session:
        before = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "document.open")
        )
    a = client.get(f"/d/{refs['delegates']}/file", headers={"Authorization": f"Badge {badge('D-0001')}"})
    b = client.get(f"/d/{refs['delegates']}/file", headers={"Authorization": f"Badge {badge('D-0002')}"})
    again = client.get(f"/d/{refs['delegates']}/file", headers={"Authorization": f"Badge {badge('D-0001')}"})
    assert a.data == again.data != b.data
    assert "no-store" in a.headers["Cache-Control"]
    na = mark.decode(survival.render(a.data, 100)).number
    nb = mark.decode(survival.render(b.data, 100)).number
    assert na != nb
    from controller.documents.tables import WatermarkHolder

    with s.db.session() as session:
        holders = dict(session.execute(select(WatermarkHolder.number, WatermarkHolder.holder_id)).all())
        opens = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "document.open")
        )
        assert audit.verify(session).ok
    assert holders[na] == "D-0001" and holders[nb] == "D-0002"  # a leaked page leads back to its reader
    assert opens == before + 3
    stats = s.documents.stats(refs["delegates"])
    assert stats["readers"] == 2 and stats["opens"] == 3
    assert stats["pages_delivered"] == 4 and stats["pages_not_printed"] == 4


def test_a_range_request_after_the_first_is_not_another_open(app, client, badge, library):
    refs, _ = library
    h = {"Authorization": f"Badge {badge('D-0003')}"}
    first = client.get(f"/d/{refs['public']}/file", headers=h | {"Range": "bytes=0-1023"})
    more = client.get(f"/d/{refs['public']}/file", headers=h | {"Range": "bytes=1024-"})
    assert first.status_code == more.status_code == 206
    assert svc(app).documents.stats(refs["public"])["opens"] == 1


def test_upload_through_the_page_and_refusals(app, client, login_as, library):
    csrf = login_as("technician")

    def upload(data, level="delegates", **extra):
        form = {"csrf_token": csrf, "title": "Nghị quyết", "level": level, "kind": "resolution", **extra}
        if data is not None:
            form["file"] = (io.BytesIO(data), "nghi-quyet.pdf")
        return client.post(
            "/documents",
            data=form,
            headers={"Accept": "application/json"},
            content_type="multipart/form-data",
        )

    ok = upload(PDF)
    assert ok.status_code == 201, ok.get_json()
    ref = ok.get_json()["ref"]
    assert len(ref) >= 16
    corpus = hostile_corpus(PDF)
    vi = Translations.load(str(Path(controller.web.__file__).parent / "translations"), ["vi"])
    for name in ("open_action_js", "encrypted", "truncated", "embedded_file"):
        r = upload(corpus[name][0])
        assert r.status_code == 422 and r.get_json()["reason"] == corpus[name][1], name
        # What the page says is the catalogue's sentence (what is wrong, what to do), never the PDF
        # library's English detail ("stream <_io.BytesIO object at 0x…>: can't find startxref").
        said, text = r.get_json()["error"], REFUSAL_TEXT[Refusal(corpus[name][1])]
        assert said in (text, vi.gettext(text)) and "0x" not in said, (name, said)
    assert upload(PDF, level="confidential").status_code == 400  # paper only: a file is refused
    assert upload(None, level="confidential").status_code == 201
    assert upload(PDF, level="group", group="nobody").status_code == 400
    page = client.get("/documents", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Nghị quyết" in page and 'id="upload"' in page
    client.delete_cookie("congress_session")
    login_as("observer")
    assert client.post("/documents", data={"csrf_token": csrf}).status_code in (400, 403)


def test_versions_and_the_qr_code_of_a_superseded_one(app, client, login_as, badge, library):
    refs, _ = library
    lib = svc(app).documents
    old_code = lib.qr_text(refs["delegates"], 1)
    assert lib.add_version(refs["delegates"], text_pdf(3), note="sửa theo góp ý", actor="t") == 2
    h = {"Authorization": f"Badge {badge('D-0002')}"}
    meta = client.get(f"/d/{refs['delegates']}", headers=h).get_json()
    assert [v["number"] for v in meta["versions"]] == [1, 2] and meta["versions"][1][
        "note"
    ] == "sửa theo góp ý"
    current = client.get(f"/d/{refs['delegates']}/file", headers=h)
    v1 = client.get(f"/d/{refs['delegates']}/v/1/file", headers=h)
    assert current.status_code == v1.status_code == 200
    import pikepdf

    assert len(pikepdf.open(io.BytesIO(current.data)).pages) == 3
    assert len(pikepdf.open(io.BytesIO(v1.data)).pages) == 2  # kept for the record
    token = old_code.rsplit("/q/", 1)[1]
    page = client.get(f"/q/{token}").get_data(as_text=True)
    assert "superseded" in page and "current version is 2" in page
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(f"/q/{tampered}").status_code == 400
    sheet = client.get("/documents/qr-sheet.pdf")
    assert sheet.status_code == 401 or sheet.status_code == 302  # staff only
    login_as("chair")
    sheet = client.get("/documents/qr-sheet.pdf")
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")
    # The sheet printed now carries version 1's code too, marked superseded and naming version 2.
    import subprocess
    import tempfile

    import zxingcpp

    codes = []
    for n in range(1, len(pikepdf.open(io.BytesIO(sheet.data)).pages) + 1):
        codes += [r.text for r in zxingcpp.read_barcodes(survival.render(sheet.data, 150, n))]
    assert old_code in codes and lib.qr_text(refs["delegates"], 2) in codes
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(sheet.data)
        f.flush()
        text = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("Superseded — use version 2") == 1


def test_an_agenda_item_with_documents_is_not_deleted(app, library):
    from controller.programme.agenda import ProgrammeError

    _, item_ref = library
    with pytest.raises(ProgrammeError, match="document"):
        svc(app).programme.delete_item(item_ref, actor="t")


def test_programme_pages_and_moving_the_agenda(app, client, login_as, library):
    _, item_ref = library
    csrf = login_as("chair")
    page = client.get("/programme", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Báo cáo chính trị" in page and "Dự thảo Báo cáo" in page
    rev = svc(app).programme.now()["revision"]
    r = client.post("/programme/now", json={"ref": item_ref, "revision": rev}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.get_json()["now"]["item"]["number"] == "3"
    stale = client.post("/programme/now", json={"ref": None, "revision": rev}, headers={"X-CSRF-Token": csrf})
    assert stale.status_code == 409 and stale.get_json()["now"]["item"]["ref"] == item_ref
    proj = client.get("/projector", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "3. Báo cáo chính trị" in proj and "Dự thảo Báo cáo" in proj
    client.delete_cookie("congress_session")
    csrf = login_as("observer")
    assert (
        client.post(
            "/programme/now", json={"ref": None, "revision": rev + 1}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )


def test_named_groups_are_made_on_the_page_and_a_group_document_needs_one(app, client, login_as, badge):
    """The organiser creates a named group on the Documents page (there was no way to make one: every
    upload for a named group was refused "there is no group"), chooses it when uploading, and only its
    members read the document; a named-group upload without a group says what to do."""
    csrf = login_as("chair")
    r = client.post("/documents/groups", data={"csrf_token": csrf, "name": "doan-chu-tich",
                                               "title": "Đoàn Chủ tịch", "members": "D-0001, D-0003"},
                    follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Group doan-chu-tich: 2 members" in page
    assert "Nguyễn Văn An (D-0001), Lê Hoàng Cường (D-0003)" in page
    assert '<option value="doan-chu-tich">Đoàn Chủ tịch (doan-chu-tich)</option>' in page
    r = client.post("/documents/groups", data={"csrf_token": csrf, "name": "Đoàn", "members": "D-0001"},
                    follow_redirects=True)
    assert "use lower-case letters, digits, - and _" in r.get_data(as_text=True)
    r = client.post("/documents/groups", data={"csrf_token": csrf, "name": "ban", "members": "D-9999"},
                    follow_redirects=True)
    assert "unknown delegate(s): D-9999" in r.get_data(as_text=True)
    assert [g["name"] for g in svc(app).documents.groups()] == ["doan-chu-tich"]
    json_h = {"Accept": "application/json"}
    r = client.post("/documents", headers=json_h, data={
        "csrf_token": csrf, "title": "Nhân sự", "level": "group", "group": "",
        "file": (io.BytesIO(PDF), "nhan-su.pdf")})
    assert r.status_code == 400 and "Choose the group" in r.get_json()["error"]
    r = client.post("/documents", headers=json_h, data={
        "csrf_token": csrf, "title": "Nhân sự", "level": "group", "group": "doan-chu-tich",
        "file": (io.BytesIO(PDF), "nhan-su.pdf")})
    assert r.status_code == 201, r.get_json()
    ref = r.get_json()["ref"]
    client.delete_cookie("congress_session")
    for delegate, status in (("D-0001", 200), ("D-0003", 200), ("D-0002", 404)):
        got = client.get(f"/d/{ref}/file", headers={"Authorization": f"Badge {badge(delegate)}"})
        assert got.status_code == status, delegate


def test_a_pdf_under_the_documents_limit_but_over_16_mib_is_taken(app, client, login_as, library):
    """The page takes documents up to [documents] max_mb (50 MB by default), by the upload form (the
    script) and by the new-version form (no script): the page's general 16 MiB cap refused a 20 MB report
    with "the upload is too large" before the document limit was even asked."""
    refs, _ = library
    big = text_pdf(10, image_kb=3600)
    assert 16 * 1024 * 1024 < len(big) < 50 * 1000 * 1000
    csrf = login_as("chair")

    def post(path: str, data: dict, headers: dict | None = None):
        # The form encoded in memory: the test client spools a large one to a file it never closes.
        from werkzeug.datastructures import FileStorage
        from werkzeug.test import encode_multipart

        fields = {k: FileStorage(v[0], filename=v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
        boundary, body = encode_multipart(fields)
        return client.post(path, data=body, headers=headers or {},
                           content_type=f"multipart/form-data; boundary={boundary}")

    r = post("/documents", headers={"Accept": "application/json", "X-CSRF-Token": csrf}, data={
        "title": "Báo cáo có ảnh", "level": "delegates", "file": (io.BytesIO(big), "bao-cao.pdf")})
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
    r = post(f"/documents/{refs['delegates']}/versions", data={
        "csrf_token": csrf, "note": "thêm ảnh", "file": (io.BytesIO(big), "bao-cao-v2.pdf")})
    assert r.status_code == 302 and "message=" in r.headers["Location"], r.get_data(as_text=True)[:300]
    assert svc(app).documents.get(refs["delegates"], _staff_reader()).current.number == 2


def _staff_reader():
    from controller.documents.access import Reader, ReaderKind

    return Reader(ReaderKind.STAFF, "t", "t", secretariat=True)

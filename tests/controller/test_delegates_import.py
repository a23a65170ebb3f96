"""Roster CSV import with real face photos: per-row errors with row numbers while the good rows import,
consent (badge-only) path, several photos per delegate, quality checks, sealed embeddings, purge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import pytest
from sqlalchemy import func, select

from congress.errors import ConfigError
from controller.delegates.enrollment import Enroller, Quality, enrolled_embeddings, purge_biometrics
from controller.delegates.face_vault import FaceVault, embedding_aad
from controller.delegates.roster import RosterError, import_roster, list_delegates, parse_roster
from controller.storage.tables import AuditEntry, Delegate, EnrollStatus, FacePhoto, GalleryState

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces"
needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason="face photos (../shared/data/faces) not present")


@pytest.fixture(scope="module")
def engine():
    if not FACES.is_dir():
        pytest.skip("face photos (../shared/data/faces) not present")
    from congress.faces import FaceEngine

    return FaceEngine()


@pytest.fixture
def vault(tmp_path, monkeypatch):
    monkeypatch.delenv("CONGRESS_FACE_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return FaceVault.load(tmp_path / "data")


@pytest.fixture
def enroller(vault, tmp_path, engine):
    return Enroller(vault, tmp_path / "data", lambda: engine)


def photos_of(session, delegate_id: str) -> int:
    q = select(func.count()).select_from(FacePhoto).where(FacePhoto.delegate_id == delegate_id)
    return session.scalar(q)


def lfw(name: str, n: int = 1) -> Path:
    return FACES / "lfw-dev" / "images" / name / f"{name}_{n:04d}.jpg"


@pytest.fixture
def roster(tmp_path) -> Path:
    """A roster folder with real photos and one CSV holding good and bad rows."""
    d = tmp_path / "roster"
    (d / "photos").mkdir(parents=True)
    people = sorted(p.name for p in (FACES / "lfw-dev" / "images").iterdir()
                    if (p / f"{p.name}_0002.jpg").is_file())[:3]
    for i, name in enumerate(people):
        shutil.copy(lfw(name, 1), d / "photos" / f"p{i}a.jpg")
        shutil.copy(lfw(name, 2), d / "photos" / f"p{i}b.jpg")
    shutil.copy(FACES / "no_face" / "brick.jpg", d / "photos" / "brick.jpg")
    shutil.copy(FACES / "multi" / "couple.jpg", d / "photos" / "couple.jpg")
    (d / "photos" / "broken.jpg").write_bytes((d / "photos" / "p0a.jpg").read_bytes()[:300])
    img = cv2.imread(str(FACES / "single" / "obama_240p.jpg"))
    cv2.imwrite(str(d / "photos" / "tiny.jpg"), cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2)))
    rows = [
        "id,name,delegation,seat,photo,consent",                       # line 1
        "A-1,Ada One,North,1,photos/p0a.jpg|photos/p0b.jpg,yes",       # 2: two photos
        ",No Id,North,2,,no",                                          # 3: missing id
        "A-3,Cy Three,South,3,photos/p1a.jpg,yes",                     # 4
        "A-1,Ada Again,North,4,,no",                                   # 5: duplicate id
        "A-5,Eve Five,South,bad seat!,,no",                            # 6: bad seat
        "A-6,Fay Six,South,6,photos/missing.jpg,yes",                  # 7: missing photo
        "A-7,Gus Seven,East,7,photos/broken.jpg,yes",                  # 8: broken photo
        "A-8,Hal Eight,East,8,photos/brick.jpg,yes",                   # 9: no face -> warning
        "A-9,Ivy Nine,East,9,photos/couple.jpg,yes",                   # 10: several faces -> warning
        "A-10,Jo Ten,West,10,photos/p2a.jpg,no",                       # 11: opted out: badge-only
        "A-11,Kim Eleven,West,3,,no",                                  # 12: seat 3 taken on row 4
        "A-12,Lou Twelve,West,12,photos/tiny.jpg,yes",                 # 13: face too small -> warning
        "A-13,Max Thirteen,West,13,,maybe",                            # 14: bad consent value
    ]
    csv_path = d / "roster.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(rows) + "\r\n").encode())  # Excel: BOM + CRLF
    return csv_path


@needs_faces
def test_import_reports_bad_rows_and_imports_the_good_ones(db, roster, enroller, vault):
    progress = []
    report = import_roster(db, roster, enroller=enroller, progress=lambda *a: progress.append(a), actor="t")
    errors = {(e.row, e.field) for e in report.errors}
    assert errors == {(3, "id"), (5, "id"), (6, "seat"), (7, "photo"), (8, "photo"), (12, "seat"),
                      (14, "consent")}
    assert "duplicate id (first on row 2)" in next(str(e.message) for e in report.errors if e.row == 5)
    assert "not found" in next(str(e.message) for e in report.errors if e.row == 7)
    warned = {(w.row, w.delegate_id): str(w.message) for w in report.warnings}
    assert "no face" in warned[(9, "A-8")] and "several faces" in warned[(10, "A-9")]
    assert "too small" in warned[(13, "A-12")] and "no consent" in warned[(11, "A-10")]
    assert report.inserted == 6 and report.photos_enrolled == 3 and report.badge_only == 1
    assert progress[-1][:2] == (7, 7)  # one call per parsed good row
    listed = {d["id"]: d for d in list_delegates(db)}
    assert sorted(listed) == ["A-1", "A-10", "A-12", "A-3", "A-8", "A-9"]
    assert listed["A-1"]["photos"] == 2 and listed["A-3"]["photos"] == 1 and listed["A-8"]["photos"] == 0
    assert listed["A-10"]["consent"] is False and listed["A-10"]["photos"] == 0
    with db.session() as s:
        rows = s.scalars(select(FacePhoto).where(FacePhoto.status == EnrollStatus.ENROLLED)).all()
        assert all(r.embedding and len(r.embedding) > 128 * 4 for r in rows)  # sealed, not raw floats
        assert photos_of(s, "A-10") == 0
        ids, emb = enrolled_embeddings(s, vault)
        assert ids == ["A-1", "A-1", "A-3"] and emb.shape == (3, 128)
        assert abs(float((emb ** 2).sum(axis=1).mean()) - 1.0) < 1e-3
        audit_row = s.scalars(select(AuditEntry).where(AuditEntry.action == "delegates.import")).one()
        assert json.loads(audit_row.detail)["rejected_rows"] == 7


@needs_faces
def test_reimport_is_idempotent_and_opt_out_deletes_face_data(db, roster, enroller):
    import_roster(db, roster, enroller=enroller)
    again = import_roster(db, roster, enroller=enroller)
    assert again.inserted == 0 and again.updated == 6 and again.photos_enrolled == 0
    with db.session() as s:
        rev = s.get(GalleryState, 1).revision
    text = roster.read_text(encoding="utf-8-sig").replace("photos/p0a.jpg|photos/p0b.jpg,yes", ",no")
    roster.write_text(text, encoding="utf-8")
    import_roster(db, roster, enroller=enroller)
    with db.session() as s:
        assert photos_of(s, "A-1") == 0
        assert s.get(Delegate, "A-1").consent is False
        assert s.get(GalleryState, 1).revision > rev  # the gallery publisher will drop A-1


@needs_faces
def test_embedder_change_reenrolls_from_the_kept_photos(db, roster, vault, tmp_path, engine):
    """Photos enrolled with dlib's ResNet are recorded as such, left out of an SFace gallery, and
    embedded again with SFace from the kept copies; a photo whose copy is gone must be uploaded again."""
    from congress.faces import FaceEngine

    dlib = Enroller(vault, tmp_path / "data", lambda: FaceEngine(model="dlib-resnet", threads=2))
    import_roster(db, roster, enroller=dlib, actor="test")
    with db.session() as s:
        rows = s.scalars(select(FacePhoto).where(FacePhoto.status == EnrollStatus.ENROLLED)).all()
        assert rows and {r.embedder for r in rows} == {"dlib-resnet"}
        before = {r.id: vault.open_embedding(r.embedding, embedding_aad(r.delegate_id, r.id)) for r in rows}
        lost = rows[0]
        (tmp_path / "data" / "faces" / f"{lost.id}.sealed").unlink()
        assert enrolled_embeddings(s, vault, model="sface")[0] == []
        revision = s.get(GalleryState, 1).revision
    sface = Enroller(vault, tmp_path / "data", lambda: engine)
    with db.session() as s:
        counts = sface.reenroll(s)
    assert counts == {"reenrolled": len(before) - 1, "rejected": 0, "missing_photo": 1}
    with db.session() as s:
        rows = {r.id: r for r in s.scalars(select(FacePhoto))}
        assert rows[lost.id].status is EnrollStatus.REJECTED
        assert "upload the photo again" in rows[lost.id].problem
        ids, emb = enrolled_embeddings(s, vault, model="sface")
        assert len(ids) == len(before) - 1 and emb.shape == (len(ids), 128)
        for pid, row in rows.items():
            if pid != lost.id and row.status is EnrollStatus.ENROLLED:
                assert row.embedder == "sface"
                again = vault.open_embedding(row.embedding, embedding_aad(row.delegate_id, pid))
                assert abs(float(again @ before[pid])) < 0.9  # another embedding space, not a copy
        assert s.get(GalleryState, 1).revision > revision
    with db.session() as s:
        assert sface.reenroll(s) == {"reenrolled": 0, "rejected": 0, "missing_photo": 0}


@needs_faces
def test_quality_verdicts_on_real_photos(enroller):
    from congress.faces import decode_image

    assert enroller.assess(decode_image(lfw("Colin_Phillips")))[0] is Quality.OK
    assert enroller.assess(decode_image(FACES / "single" / "obama_1080p.jpg"))[0] is Quality.OK
    assert enroller.assess(decode_image(FACES / "no_face" / "clock_motion.jpg"))[0] is Quality.NO_FACE
    assert enroller.assess(decode_image(FACES / "multi" / "two_people.jpg"))[0] is Quality.SEVERAL_FACES


@needs_faces
def test_purge_removes_all_face_data_and_is_audited(db, roster, enroller, tmp_path):
    import_roster(db, roster, enroller=enroller)
    data = tmp_path / "data"
    kept = list((data / "faces").glob("*.sealed"))
    assert len(kept) == 3 and (data / "face.key").is_file()
    with db.session() as s:
        photo = s.scalars(select(FacePhoto).where(FacePhoto.status == EnrollStatus.ENROLLED)).first()
    jpg = enroller.kept_photo(photo.delegate_id, photo.id)
    assert jpg[:2] == b"\xff\xd8"  # the sealed copy opens to a JPEG
    assert b"\xff\xd8" not in kept[0].read_bytes()[:64]
    old_key = enroller.vault.key_id
    result = purge_biometrics(db, data, actor="admin")
    assert result["embeddings"] == 3 and result["files"] == 3 and result["key_file_removed"]
    assert enroller.vault.purged
    assert not (data / "faces").exists() and not (data / "face.key").exists()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(FacePhoto)) == 0
        assert s.scalar(select(func.count()).select_from(Delegate)) == 6  # the roster stays
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "biometrics.purge")).one()
        assert entry.actor == "admin" and json.loads(entry.detail)["embeddings"] == 3
    # The same (long-lived) enroller enrolls again after the purge: under a new key, never the old one.
    import_roster(db, roster, enroller=enroller)
    assert (data / "face.key").exists() and enroller.vault.key_id != old_key


def test_roster_file_level_errors(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,nmae\nA,B\n")
    with pytest.raises(RosterError, match=r"missing column.*name.*unknown column.*nmae"):
        parse_roster(p)
    p.write_bytes("id,name\nA,Zo\xe9\n".encode("latin-1"))
    with pytest.raises(RosterError, match="not UTF-8"):
        parse_roster(p)
    p.write_text("id;name;seat\nA;Ann;1\nB;Bob;1\n")  # semicolon export, seat clash
    rows, problems = parse_roster(p)
    assert [r.id for r in rows] == ["A"] and problems[0].row == 3 and problems[0].field == "seat"


def test_face_key_from_secret_and_file_mode(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("CONGRESS_FACE_KEY", "00" * 32)
    v1 = FaceVault.load(tmp_path)
    assert not (tmp_path / "face.key").exists()
    blob = v1.seal(b"secret", "embedding:A:1")
    assert FaceVault(bytes(32)).open(blob, "embedding:A:1") == b"secret"
    with pytest.raises(Exception, match="does not decrypt"):
        v1.open(blob, "embedding:B:1")  # bound to its row
    monkeypatch.setenv("CONGRESS_FACE_KEY", "short")
    with pytest.raises(ConfigError):
        FaceVault.load(tmp_path)
    monkeypatch.delenv("CONGRESS_FACE_KEY")
    FaceVault.load(tmp_path)
    assert (tmp_path / "face.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "face.key").chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        FaceVault.load(tmp_path)


# --- Vietnamese rosters: Excel, CSV with a byte-order mark, legacy encodings -----------------------

VI_ROWS = [("D-01", "Nguyễn Thị Ngọc Ánh", "Đoàn Hà Nội", "A1"), ("D-02", "Trần Đức Quỳnh", "Đoàn Huế", "A2"),
           ("D-03", "Lê Văn Thưởng", "Đoàn Đắk Lắk", "")]


def test_xlsx_roster_with_vietnamese_headers_and_decomposed_names(tmp_path):
    import unicodedata

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Mã đại biểu", "Họ và tên", "Đoàn", "Ghế", "Đồng ý", "Triệu tập", None])
    for did, name, delegation, seat in VI_ROWS:
        sheet.append([did, unicodedata.normalize("NFD", name), delegation, seat or None, "có", "có", None])
    sheet.append([None] * 7)
    sheet.append(["D-04", "Phạm Minh", "Đoàn Huế", 12, "không", "không"])  # a seat typed as a number
    book.save(tmp_path / "danh sach.xlsx")
    rows, problems = parse_roster(tmp_path / "danh sach.xlsx", shown="danh sach.xlsx")
    assert problems == []
    assert [(r.id, r.name, r.delegation, r.seat) for r in rows[:3]] == [
        (d, n, g, s or None) for d, n, g, s in VI_ROWS]
    assert all(unicodedata.is_normalized("NFC", r.name) for r in rows)
    assert rows[3].seat == "12" and rows[3].consent is False and rows[3].summoned is False
    assert rows[0].row == 2 and rows[3].row == 6  # sheet row numbers, blank row skipped


def test_csv_with_byte_order_mark_and_semicolons(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("\ufeffid;name;delegation\nD-01;Nguyễn Thị Ngọc Ánh;Đoàn Hà Nội\n".encode("utf-8"))
    rows, problems = parse_roster(p)
    assert problems == [] and rows[0].id == "D-01" and rows[0].name == "Nguyễn Thị Ngọc Ánh"


def test_legacy_tcvn3_and_vni_files_are_converted(tmp_path):
    from congress import vietnamese

    tcvn3 = {u: t for t, u in vietnamese._TCVN3.items()}
    legacy = "id,name,delegation\n" + "".join(
        f"{d},{''.join(tcvn3.get(c, c) for c in n)},{''.join(tcvn3.get(c, c) for c in g)}\n"
        for d, n, g, _s in VI_ROWS)
    p = tmp_path / "abc.csv"
    p.write_bytes(legacy.encode("latin-1"))  # an old .VnTime file saved as "CSV (ANSI)"
    rows, problems = parse_roster(p)
    assert problems == [] and [(r.name, r.delegation) for r in rows] == [(n, g) for _d, n, g, _s in VI_ROWS]
    p.write_text("id,name\nD-01,Nguyeãn Thò Ngoïc AÙnh\nD-02,Traàn Ñöùc Quyønh\n", encoding="utf-8")
    rows, _ = parse_roster(p)
    assert [r.name for r in rows] == ["Nguyễn Thị Ngọc Ánh", "Trần Đức Quỳnh"]


def test_a_file_mixing_encodings_is_refused_with_what_to_do(tmp_path):
    p = tmp_path / "mix.csv"
    p.write_text("id,name\nD-01,Nguyễn Văn An\nD-02,Lª §øc Thä\n", encoding="utf-8")
    with pytest.raises(RosterError) as exc:
        parse_roster(p, shown="Danh sách.csv")
    assert str(exc.value.text).startswith("Danh sách.csv: the file mixes Unicode text")
    assert "UniKey" in exc.value.hint


def test_not_a_workbook(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"not a zip")
    with pytest.raises(RosterError, match=r"x\.xlsx is not an Excel workbook"):
        parse_roster(p, shown="x.xlsx")

"""purge-biometrics leaves nothing to recover (issue 11, item 10): after the purge, no sealed
template, photo, uploaded roster or the key that opens them is in the database file, its
write-ahead log (SQLite) or table files (PostgreSQL), or the data folder; and the command says what
the operator must still delete themselves (a face key given as a secret)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import psycopg
import pytest
from gallery_probe import enroll_synthetic
from sqlalchemy.engine import make_url

from controller.delegates.enrollment import purge_biometrics
from controller.delegates.face_vault import FaceVault, photo_aad
from controller.storage.tables import FacePhoto

JPEG = b"\xff\xd8\xff\xe0" + secrets.token_bytes(3000) + b"\xff\xd9"
CSV = "id,name,photo\nd1,Nguyễn Văn An,an.jpg\n".encode()


def seed(db, data: Path, vault: FaceVault) -> list[bytes]:
    """Templates in the database, sealed kept photos, an uploaded roster with a photo; the needles."""
    enroll_synthetic(db, vault, {"A": 3, "B": 2})
    with db.session() as s:
        rows = s.query(FacePhoto).all()
        blobs = [r.embedding for r in rows]
    faces = data / "faces"
    faces.mkdir(parents=True, exist_ok=True)
    sealed_photo = vault.seal(JPEG, photo_aad("A", 1))
    (faces / "1.sealed").write_bytes(sealed_photo)
    upload = data / "imports" / "job-1"
    upload.mkdir(parents=True)
    (upload / "roster.csv").write_bytes(CSV)
    (upload / "an.jpg").write_bytes(JPEG)
    # A sealed template is found by any 24-byte slice of it; the photo by a slice of its bytes.
    return [b[i:i + 24] for b in blobs for i in (1, 40, len(b) - 30)] + [sealed_photo[20:60], JPEG[100:140],
                                                                       "Nguyễn Văn An".encode()]


def sqlite_files(db) -> list[Path]:
    path = Path(make_url(db.url).database)
    return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


def pg_table_files(db) -> list[Path]:
    """The heap files of face_photos on the server (readable when the test runs as root or postgres)."""
    url = db.url.replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CHECKPOINT")
        data_dir = Path(c.execute("SHOW data_directory").fetchone()[0])
        rel = c.execute("SELECT pg_relation_filepath('face_photos')").fetchone()[0]
    base = data_dir / rel
    return sorted(base.parent.glob(base.name + "*"))


def leftovers(files, needles) -> list[str]:
    found = []
    for f in files:
        data = f.read_bytes()
        found += [f"{f.name}: {n[:8].hex()}" for n in needles if n in data]
    return found


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("CONGRESS_FACE_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


def test_purge_leaves_no_template_photo_roster_or_key(db, tmp_path, clean_env):
    data = tmp_path / "data"
    vault = FaceVault.load(data)
    key_text = (data / "face.key").read_text().strip()
    needles = seed(db, data, vault)
    key = base64.b64decode(key_text)
    if db.backend == "sqlite":
        before = leftovers(sqlite_files(db), needles)
    else:
        before = leftovers(pg_table_files(db), needles)
    assert before  # the search works: the sealed templates are in the files before the purge

    result = purge_biometrics(db, data, actor="admin")

    files = sqlite_files(db) if db.backend == "sqlite" else pg_table_files(db)
    assert leftovers(files, needles) == []
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers(everything, [*needles, key, key_text.encode()]) == []
    assert not any((data / name).exists() for name in ("imports", "faces", "face.key"))
    assert result["embeddings"] == 5 and result["files"] == 1 and result["import_files"] == 2
    assert result["database_scrubbed"] and any("face key file" in d for d in result["destroyed"])
    assert not any("secret face-key" in m for m in result["operator_must_delete"])


def test_a_secret_face_key_is_named_for_the_operator_to_delete(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("CONGRESS_FACE_KEY", secrets.token_hex(32))
    data = tmp_path / "data"
    vault = FaceVault.load(data)
    seed(sqlite_db, data, vault)
    result = purge_biometrics(sqlite_db, data, actor="admin")
    assert not result["key_file_removed"]
    [must] = [m for m in result["operator_must_delete"] if "secret face-key" in m]
    assert "CONGRESS_FACE_KEY" in must
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "face-key").write_text(os.environ["CONGRESS_FACE_KEY"])
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    again = purge_biometrics(sqlite_db, data, actor="admin")
    assert any("LoadCredential=face-key" in m for m in again["operator_must_delete"])

"""The data commands under ``congress controller`` as a technician runs them: roster import with a
progress bar and per-row errors, list, printable badge sheet with QR codes that decode to valid signed
tokens, attendance, and purge-biometrics clearing the units' galleries over the real broker."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from congress import badge_token, pki
from congress.cli import main

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces"
pytestmark = pytest.mark.skipif(not FACES.is_dir(), reason="face photos (../shared/data/faces) not present")


@pytest.fixture
def config(tmp_path, venue_ca, broker, monkeypatch) -> Path:
    monkeypatch.delenv("CONGRESS_FACE_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    cfg = tmp_path / "controller.toml"
    cfg.write_text(
        f'data_dir = "data"\nca_dir = "{venue_ca.dir}"\n[venue]\nid = "{venue_ca.venue}"\nname = "Test"\n'
        f'[database]\nurl = "sqlite:///congress.db"\n[broker]\nhost = "localhost"\nport = {broker.port}\n'
        f'ca_file = "{venue_ca.ca_cert}"\ncert_file = "{venue_ca.controller_cert}"\n'
        f'key_file = "{venue_ca.controller_key}"\n'
    )
    assert main(["controller", "migrate", "--config", str(cfg)]) == 0
    return cfg


@pytest.fixture
def roster(tmp_path) -> Path:
    d = tmp_path / "roster"
    d.mkdir()
    img = FACES / "lfw-dev" / "images"
    people = sorted(p.name for p in img.iterdir())[:2]
    for i, name in enumerate(people):
        shutil.copy(img / name / f"{name}_0001.jpg", d / f"p{i}.jpg")
    (d / "roster.csv").write_text(
        "id,name,delegation,seat,photo,consent\n"
        "N-1,Ann North,North,1,p0.jpg,yes\n"
        "N-2,Ben North,North,2,p1.jpg,yes\n"
        "S-1,Cat South,South,3,,no\n"
        "S-2,Dan South,South,3,,no\n"
    )
    return d / "roster.csv"


def run_json(capsys, *argv) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_import_list_badges_attendance_purge(config, roster, capsys, tmp_path, venue_ca):
    code = main(["controller", "delegates", "import", str(roster), "--config", str(config)])
    out = capsys.readouterr()
    assert code == 1  # one row refused
    assert "importing [" in out.err and "3/3" in out.err  # progress bar on stderr
    assert "row 5 (S-2): seat: seat 3 is already given to the delegate on row 4" in out.out
    assert "2 photos enrolled" in out.out

    code, listed = run_json(capsys, "controller", "delegates", "list", "--config", str(config))
    assert code == 0
    assert {d["id"]: d["photos"] for d in listed["delegates"]} == {"N-1": 1, "N-2": 1, "S-1": 0}

    sheet = tmp_path / "badges.pdf"
    code, res = run_json(capsys, "controller", "badges", "--config", str(config), "--out", str(sheet))
    assert code == 0 and res["badges"] == 3 and res["pages"] == 1
    assert sheet.read_bytes()[:5] == b"%PDF-"
    from tests.controller.conftest import read_badge_codes

    pub = pki.load_public_key(venue_ca.controller_signing_pub)
    codes = read_badge_codes(sheet, tmp_path)
    found = {badge_token.verify(t, pub, venue_ca.venue).delegate_id for t in codes}
    assert found == {"N-1", "N-2", "S-1"}

    code, _ = run_json(capsys, "controller", "delegates", "summoned", "S-1", "no", "--config", str(config))
    assert code == 0
    code, att = run_json(capsys, "controller", "attendance", "--config", str(config))
    assert code == 0 and att["quorum"]["summoned"] == 2 and att["quorum"]["reached"] is False
    assert main(["controller", "delegates", "summoned", "X-9", "yes", "--config", str(config)]) == 1
    assert [g["delegation"] for g in att["roll_call"]] == ["North", "South"]

    code, purged = run_json(capsys, "controller", "purge-biometrics", "--config", str(config))
    assert code == 0 and purged["embeddings"] == 2
    assert set(purged["units_cleared"]) >= {"door-1", "door-2"}
    assert not (tmp_path / "data" / "faces").exists()
    code, listed = run_json(capsys, "controller", "delegates", "list", "--config", str(config))
    assert all(d["photos"] == 0 for d in listed["delegates"])


def test_purge_at_a_terminal_asks_first(config, roster, capsys, monkeypatch, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    main(["controller", "delegates", "import", str(roster), "--config", str(config), "--json"])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", Terminal("no thanks\n"))
    assert main(["controller", "purge-biometrics", "--config", str(config)]) == 1
    assert "cancelled" in capsys.readouterr().err
    assert (tmp_path / "data" / "face.key").exists()
    monkeypatch.setattr("sys.stdin", Terminal("PURGE\n"))
    assert main(["controller", "purge-biometrics", "--config", str(config)]) == 0
    assert not (tmp_path / "data" / "face.key").exists()

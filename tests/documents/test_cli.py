"""``congress controller programme`` and ``documents`` with good and bad input: a missing file is a
sentence (it was a Python traceback), counts read as English, a named group is made and used from the
command line (there was no way to make one), and a named-group document without its group says so."""

from __future__ import annotations

import json

import pytest

from congress.cli import main
from controller.documents.samples import text_pdf
from tests.documents.conftest import DELEGATES

CONFIG = """
data_dir = "{dir}/data"
[venue]
id = "cli-venue"
name = "Đại hội thử"
language = "vi"
timezone = "Asia/Ho_Chi_Minh"
[broker]
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "c.key"
[database]
url = "sqlite:///{dir}/congress.db"
"""
PROGRAMME = """
[[session]]
code = "S1"
day = 2026-12-02
title = "Phiên trù bị"
[[item]]
number = "1"
session = "S1"
title = "Khai mạc"
"""


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "controller.toml"
    path.write_text(CONFIG.format(dir=tmp_path))
    assert main(["controller", "migrate", "--config", str(path)]) == 0
    from congress.config import load_config
    from congress.config.controller import ControllerConfig
    from controller.app import open_database
    from controller.storage.tables import Delegate

    db = open_database(load_config(path, ControllerConfig))
    with db.session() as s:
        s.add_all(Delegate(id=i, name=n, delegation=g, consent=False) for i, n, g in DELEGATES)
    db.dispose()
    return str(path)


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["controller", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_missing_file_is_a_sentence(cfg, capsys, tmp_path):
    for argv in (("programme", "import", str(tmp_path / "chuong-trinh.toml")),
                 ("documents", "add", str(tmp_path / "bao-cao.pdf"), "--title", "Báo cáo")):
        code, _, err = run(capsys, *argv, "--config", cfg)
        assert code == 1 and err.strip() == f"congress: error: {argv[2]}: no such file", err
    code, _, err = run(capsys, "programme", "import", str(tmp_path), "--config", cfg)
    assert code == 1 and "is a folder, not a file" in err


def test_import_counts_read_as_english(cfg, capsys, tmp_path):
    f = tmp_path / "p.toml"
    f.write_text(PROGRAMME)
    code, out, _ = run(capsys, "programme", "import", str(f), "--config", cfg)
    assert code == 0 and out.strip() == "imported 1 item in 1 session over 1 day"


def test_named_groups_from_the_command_line(cfg, capsys, tmp_path):
    pdf = tmp_path / "nhan-su.pdf"
    pdf.write_bytes(text_pdf(1))
    code, _, err = run(capsys, "documents", "add", str(pdf), "--title", "Nhân sự", "--level", "group",
                       "--config", cfg)
    assert code == 1 and "--level group needs --group NAME" in err  # was: "there is no group 'None'"
    code, out, _ = run(capsys, "documents", "group", "doan-chu-tich", "--title", "Đoàn Chủ tịch",
                       "--members", "D-0001", "D-0003", "--config", cfg)
    assert code == 0 and out.strip() == "group doan-chu-tich (Đoàn Chủ tịch): 2 members"
    code, _, err = run(capsys, "documents", "group", "ban", "--members", "D-9999", "--config", cfg)
    assert code == 1 and "unknown delegate(s): D-9999" in err
    code, out, _ = run(capsys, "documents", "groups", "--json", "--config", cfg)
    assert json.loads(out)["groups"] == [{"name": "doan-chu-tich", "title": "Đoàn Chủ tịch", "members": [
        {"id": "D-0001", "name": "Nguyễn Văn An"}, {"id": "D-0003", "name": "Lê Hoàng Cường"}]}]
    code, out, err = run(capsys, "documents", "add", str(pdf), "--title", "Nhân sự", "--level", "group",
                         "--group", "doan-chu-tich", "--config", cfg)
    assert code == 0 and out.startswith("added document "), err
    code, out, _ = run(capsys, "documents", "list", "--json", "--config", cfg)
    assert [(d["title"], d["level"], d["group"]) for d in json.loads(out)["documents"]] == [
        ("Nhân sự", "group", "doan-chu-tich")]

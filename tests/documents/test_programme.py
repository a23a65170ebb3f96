"""The programme on SQLite and PostgreSQL: import with row errors, the agenda moved by two chairs,
items with open ballots, leave and the roll call taken when a session opens."""

from __future__ import annotations

import io
import threading

import pytest

from controller.checkins.attendance import Passing, QuorumPolicy, apply_checkins
from controller.programme.agenda import AgendaConflict, Programme, ProgrammeError
from controller.programme.importer import ProgrammeImportError, import_file
from controller.programme.rollcall import RollCalls
from controller.storage.database import utcnow
from controller.storage.tables import Passage

TOML = """
[[day]]
date = 2026-12-02
title = "Ngày thứ nhất"

[[session]]
code = "S1"
day = 2026-12-02
title = "Phiên trù bị"
kind = "preparatory"
starts = "08:00"

[[session]]
code = "S2"
day = 2026-12-02
title = "Phiên chính thức"
kind = "official"
starts = "13:30"

[[item]]
number = "1"
session = "S1"
title = "Khai mạc Đại hội"

[[item]]
number = "2"
session = "S1"
title = "Bầu Đoàn Chủ tịch"

[[item]]
number = "3"
session = "S2"
title = "Báo cáo chính trị"
description = "Trình bày và thảo luận"
"""

CSV = """date,day_title,session,session_title,kind,starts,number,title,description
2026-12-03,Ngày thứ hai,S3,Phiên bế mạc,official,08:00,10,Thông qua Nghị quyết,
,,S3,,,,11,Bế mạc,
"""


def events():
    seen = []
    return seen, lambda kind, data: seen.append((kind, data))


def test_import_toml_then_csv_merges(db):
    seen, publish = events()
    p = Programme(db, publish)
    assert import_file(p, TOML.encode(), "toml", zone="Asia/Ho_Chi_Minh", actor="t") == {
        "days": 1,
        "sessions": 2,
        "items": 3,
    }
    import_file(p, CSV.encode(), "csv", zone="Asia/Ho_Chi_Minh", actor="t")
    outline = p.outline()
    assert [d["date"] for d in outline] == ["2026-12-02", "2026-12-03"]
    s1 = outline[0]["sessions"][0]
    assert s1["code"] == "S1" and s1["kind"] == "preparatory"
    assert s1["starts_at"].startswith("2026-12-02T01:00")  # 08:00 in Hanoi
    assert [i["number"] for i in s1["items"]] == ["1", "2"]
    assert [i["title"] for i in outline[1]["sessions"][0]["items"]] == ["Thông qua Nghị quyết", "Bế mạc"]
    assert seen and seen[-1][0] == "agenda"


def test_items_stay_in_number_order_whatever_added_them(db):
    """An item added by hand, or by a second file, takes its place by number (it went to the top of its
    session); numbers of digits and letters together sort without failing the page."""
    p = Programme(db)
    import_file(p, CSV.encode(), "csv", zone="Asia/Ho_Chi_Minh", actor="t")
    import_file(p, "session,number,title\nS3,12,Biểu dương\n".encode(), "csv", zone="Asia/Ho_Chi_Minh",
                actor="t")
    for number in ("10.1", "10a", "9", "A", "2"):
        p.add_item(number, "S3", f"Mục {number}", actor="t")
    items = p.outline()[0]["sessions"][0]["items"]
    assert [i["number"] for i in items] == ["2", "9", "10", "10.1", "10a", "11", "12", "A"]


def test_reimport_updates_in_place_and_keeps_refs(db):
    p = Programme(db)
    import_file(p, TOML.encode(), "toml", zone="UTC", actor="t")
    ref = p.outline()[0]["sessions"][1]["items"][0]["ref"]
    import_file(
        p,
        TOML.replace("Báo cáo chính trị", "Báo cáo chính trị (sửa)").encode(),
        "toml",
        zone="UTC",
        actor="t",
    )
    item = p.item(ref)
    assert item.title == "Báo cáo chính trị (sửa)" and item.number == "3"


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        (
            "toml",
            TOML + '\n[[item]]\nnumber = "2"\nsession = "S2"\ntitle = "Trùng số"\n',
            "item 4: item number 2 is also used by item 2",
        ),
        (
            "toml",
            TOML + '\n[[item]]\nnumber = "9"\nsession = "S9"\ntitle = "Không có phiên"\n',
            "item 4: session S9 is not in the file or the programme",
        ),
        ("csv", "session,number,title\n,5,Không có phiên\n", "row 2: the agenda item has no session"),
        ("csv", "session,number,title\nS7,5,Phiên lạ\n", "row 2: session S7 is not defined"),
        ("csv", "number,title\n5,x\n", "row 1: missing column(s): session"),
        ("toml", "not = [toml", "file: not valid TOML"),
        (
            "toml",
            TOML.replace('title = "Khai mạc Đại hội"', 'title = ""'),
            "item 1: the agenda item has no title",
        ),
    ],
)
def test_bad_files_are_refused_whole_with_their_rows(sqlite_db, fmt, text, expected):
    db = sqlite_db
    p = Programme(db)
    import_file(p, CSV.encode(), "csv", zone="UTC", actor="t")  # already stored: must survive
    with pytest.raises(ProgrammeImportError) as err:
        import_file(p, text.encode(), fmt, zone="UTC", actor="t")
    assert any(str(problem).startswith(expected) for problem in err.value.problems), err.value.problems
    assert "nothing was imported" in err.value.message
    assert [i["number"] for d in p.outline() for s in d["sessions"] for i in s["items"]] == ["10", "11"]


def test_problems_are_listed_in_the_files_order_and_a_known_session_may_be_named_by_date(sqlite_db):
    """The problems of a file read from its top down (a duplicate number was listed after every other
    kind, whatever its row); a row giving the date of a session already in the programme, without its
    title, names that session (it was refused: "session S3 has no title")."""
    p = Programme(sqlite_db)
    import_file(p, CSV.encode(), "csv", zone="UTC", actor="t")
    bad = ("date,session,number,title\n2026-12-03,S3,12,Mục\n2026-12-03,S3,12,Trùng số\n"
           "2026-12-03,,13,Không phiên\n2026-13-40,S9,14,\n")
    with pytest.raises(ProgrammeImportError) as err:
        import_file(p, bad.encode(), "csv", zone="UTC", actor="t")
    rows = [str(problem).split(":")[0] for problem in err.value.problems]
    assert rows == sorted(rows, key=lambda r: int(r.split()[1])) and rows[0] == "row 3", rows
    assert not any("session S3 has no title" in str(problem) for problem in err.value.problems)
    message = err.value.message
    assert message.index("row 3") < message.index("row 4") < message.index("row 5")
    good = "date,session,number,title\n2026-12-03,S3,12,Biểu dương\n2026-12-03,S3,11,Bế mạc Đại hội\n"
    import_file(p, good.encode(), "csv", zone="UTC", actor="t")
    s3 = p.outline()[-1]["sessions"][0]
    assert s3["title"] == "Phiên bế mạc"  # kept
    assert [(i["number"], i["title"]) for i in s3["items"]] == [
        ("10", "Thông qua Nghị quyết"), ("11", "Bế mạc Đại hội"), ("12", "Biểu dương")
    ]


def test_xlsx_import(sqlite_db):
    db = sqlite_db
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in CSV.strip().splitlines():
        ws.append(row.split(","))
    ws.append(["", "", "S3", "", "", "", "10", "Trùng", ""])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ProgrammeImportError) as err:
        import_file(Programme(db), buf.getvalue(), "xlsx", zone="UTC", actor="t")
    assert [str(p) for p in err.value.problems] == ["row 4: item number 10 is also used by row 2"]
    with pytest.raises(ProgrammeImportError, match="not a readable XLSX"):
        import_file(Programme(db), b"PK\x03\x04 not really", "xlsx", zone="UTC", actor="t")


def test_two_chairs_moving_at_once_lose_no_update(db):
    p = Programme(db)
    import_file(p, TOML.encode(), "toml", zone="UTC", actor="t")
    refs = [i["ref"] for d in p.outline() for s in d["sessions"] for i in s["items"]]
    start = p.now()["revision"]
    results, barrier = [], threading.Barrier(2)

    def chair(ref):
        barrier.wait()
        try:
            results.append(("moved", p.move(ref, revision=start, actor=f"chair-{ref}")))
        except AgendaConflict as exc:
            results.append(("conflict", exc.state))

    threads = [threading.Thread(target=chair, args=(r,)) for r in refs[:2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["conflict", "moved"]
    winner = next(r[1] for r in results if r[0] == "moved")
    loser_saw = next(r[1] for r in results if r[0] == "conflict")
    assert loser_saw == p.now() == winner  # the loser is shown what is on the agenda now
    # Moving again from the new revision works.
    assert p.move(refs[2], revision=winner["revision"], actor="chair")["item"]["number"] == "3"


def test_an_item_with_an_open_ballot_is_not_deleted(db):
    from controller.voting.tables import Ballot, BallotKind, BallotStatus

    p = Programme(db)
    import_file(p, TOML.encode(), "toml", zone="UTC", actor="t")
    ref = p.outline()[0]["sessions"][1]["items"][0]["ref"]
    with db.session() as s:
        ballot = Ballot(
            title="Thông qua báo cáo",
            kind=BallotKind.MOTION,
            options=["yes", "no", "abstain"],
            status=BallotStatus.OPEN,
            opened_at=utcnow(),
        )
        s.add(ballot)
        s.flush()
        bid = ballot.id
    p.link_ballot(ref, bid, actor="chair")
    with pytest.raises(ProgrammeError, match="has an open ballot"):
        p.delete_item(ref, actor="chair")
    assert p.item(ref).ballots == (bid,)
    with db.session() as s:
        s.get(Ballot, bid).status = BallotStatus.CLOSED
    p.delete_item(ref, actor="chair")
    with pytest.raises(ProgrammeError):
        p.item(ref)


def test_roll_call_when_a_session_opens(db):
    p = Programme(db)
    import_file(p, TOML.encode(), "toml", zone="UTC", actor="t")
    seen, publish = events()
    rc = RollCalls(db, QuorumPolicy.parse("majority"), publish)
    with db.session() as s:
        apply_checkins(s, [Passing(i, f"D-000{i}", Passage.IN, utcnow(), "door-1") for i in (1, 2, 3)])
    rc.record_leave("D-0004", "S1", "ốm", actor="secretariat")
    rc.record_leave("D-0001", None, "cả đại hội", actor="secretariat")  # present anyway: counts present
    with pytest.raises(ProgrammeError):
        rc.record_leave("D-9999", "S1", "", actor="x")
    data = rc.open_session("S1", actor="chair")
    assert (data["summoned"], data["present"], data["excused"], data["absent"]) == (5, 3, 1, 1)
    assert data["quorum_required"] == 3 and data["quorate"]
    assert seen[-1] == ("rollcall", data)
    entries = {e["delegate_id"]: e["status"] for e in rc.entries("S1")}
    assert entries == {
        "D-0001": "present",
        "D-0002": "present",
        "D-0003": "present",
        "D-0004": "excused",
        "D-0005": "absent",
    }
    # The snapshot does not move when people leave afterwards.
    with db.session() as s:
        apply_checkins(s, [Passing(9, "D-0002", Passage.OUT, utcnow(), "door-1")])
    assert rc.latest("S1")["present"] == 3
    with pytest.raises(ProgrammeError, match="already open"):
        rc.open_session("S1", actor="chair")
    rc.close_session("S1", actor="chair")
    # S2: D-0001's whole-congress leave excuses them now that they are out, too.
    with db.session() as s:
        apply_checkins(s, [Passing(10, "D-0001", Passage.OUT, utcnow(), "door-1")])
    s2 = rc.open_session("S2", actor="chair")
    assert (s2["present"], s2["excused"], s2["absent"]) == (1, 1, 3)
    assert not s2["quorate"]

"""The minutes of the whole congress carry every candidate list: its numbering, each nomination (who
nominated it, a presidium account or a delegate through the app, and every answer with its time in the
venue's zone), the approval motion with its result and the election made from the list, round by round;
on the page and in the PDF, with the Vietnamese diacritics intact."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from congress.keypads.protocol import VoteFrame
from controller.storage.tables import AuditEntry
from controller.voting.tables import BallotKind

from .test_web import client_as, web  # noqa: F401  (the app fixture of the ballot pages)


def _a_list_through_to_its_election(app) -> dict:
    svc = app.extensions["congress"]
    lists, ballots = svc.candidates, svc.ballots
    lists.create_list("Ban Kiểm tra", actor="user:chair")
    ids = {
        "Trần Văn Bình": lists.nominate("Ban Kiểm tra", "Trần Văn Bình", actor="user:chair"),
        "Nguyễn Thị Ánh": lists.nominate("Ban Kiểm tra", "Nguyễn Thị Ánh", actor="user:chair"),
        "Delegate 2": lists.nominate("Ban Kiểm tra", "Delegate 2", actor="delegate:d0003",
                                     delegate_id="d0002", from_portal=True),
        "Phạm Thu Hà": lists.nominate("Ban Kiểm tra", "Phạm Thu Hà", actor="user:chair"),
        "Lê Văn Đức": lists.nominate("Ban Kiểm tra", "Lê Văn Đức", actor="user:chair"),
    }
    for name in ("Trần Văn Bình", "Nguyễn Thị Ánh", "Lê Văn Đức"):
        lists.accept(ids[name], actor="user:chair")
    lists.accept(ids["Delegate 2"], actor="delegate:d0002")
    lists.decline(ids["Phạm Thu Hà"], actor="user:chair")
    lists.withdraw(ids["Lê Văn Đức"], actor="user:chair")
    mid = lists.approval_motion(ballots, "Ban Kiểm tra", "Thông qua danh sách Ban Kiểm tra",
                                actor="user:chair")
    ballots.open(mid, actor="user:chair")
    with svc.db.session() as s:
        ballots.record_votes(s, [VoteFrame(k, 1, mid, frozenset({1 if k < 5 else 2})) for k in range(1, 6)])
    ballots.close(mid, actor="user:chair")
    eid = lists.election(ballots, "Ban Kiểm tra", seats=2, actor="user:chair")
    ballots.open(eid, actor="user:chair")
    # The ballot numbers the list in Vietnamese order of given names: 1 Ánh, 2 Bình, 3 Delegate 2.
    with svc.db.session() as s:
        ballots.record_votes(s, [VoteFrame(k, 1, eid, frozenset({1, 2})) for k in range(1, 6)])
    ballots.close(eid, actor="user:chair")
    with svc.db.session() as s:
        steps = {}
        for at, action, detail in s.execute(select(AuditEntry.at, AuditEntry.action, AuditEntry.detail)
                                            .where(AuditEntry.action.like("candidate.%"))):
            cid = json.loads(detail).get("candidate")
            steps[(cid, action)] = at
    zone = ZoneInfo(svc.config.venue.timezone)
    return {"ids": ids, "motion": mid, "election": eid,
            "accepted_at": steps[(ids["Nguyễn Thị Ánh"], "candidate.accepted")].astimezone(zone),
            "withdrawn_at": steps[(ids["Lê Văn Đức"], "candidate.withdrawn")].astimezone(zone)}


def _flat(text: str) -> str:
    return " ".join(text.split())


EXPECTED = {
    "vi": ["Danh sách ứng cử: Ban Kiểm tra", "Nguyễn Thị Ánh", "Trần Văn Bình", "Phạm Thu Hà",
           "Lê Văn Đức", "Delegate 3 (đại biểu, qua ứng dụng)", "Đoàn Chủ tịch, tài khoản chair",
           "đã từ chối", "đã thu hồi", "Đánh số cho bàn phím bỏ phiếu: Thứ tự chữ cái tiếng Việt theo tên.",
           "Tờ trình thông qua: cuộc biểu quyết 2, Thông qua danh sách Ban Kiểm tra: thông qua.",
           "Tán thành 4, không tán thành 1, không biểu quyết 0.",
           "Cuộc bầu cử theo danh sách: cuộc biểu quyết 3, Ban Kiểm tra, 2 ghế.",
           "Vòng 1 (cuộc biểu quyết 3): Trúng cử: Nguyễn Thị Ánh, Trần Văn Bình"],
    "en": ["Candidate list: Ban Kiểm tra", "Delegate 3 (delegate, through the app)",
           "presidium, account chair", "declined", "withdrawn",
           "Numbered for the keypads: Vietnamese alphabetical order of given names.",
           "Approval motion: ballot 2, Thông qua danh sách Ban Kiểm tra: adopted.",
           "Yes 4, no 1, abstain 0.",
           "Election made from the list: ballot 3, Ban Kiểm tra, 2 seats.",
           "Round 1 (ballot 3): Elected: Nguyễn Thị Ánh, Trần Văn Bình"],
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_minutes_carry_each_candidate_list(web, tmp_path, lang):  # noqa: F811
    # Ballot 1 exists first, so that the motion and the election have numbers of their own.
    web.extensions["congress"].ballots.create("Adopt the agenda", BallotKind.MOTION, actor="user:chair")
    made = _a_list_through_to_its_election(web)
    obs, token = client_as(web, "observer")
    obs.post("/language", data={"csrf_token": token, "lang": lang, "next": "/congress/minutes"})
    html = obs.get("/congress/minutes").get_data(as_text=True)

    page = _flat(re.sub(r"<[^>]+>", " ", html.split('data-list="', 1)[1].split("</section>", 1)[0]))
    page = page.replace("&#39;", "'")
    for text in EXPECTED[lang]:
        assert text in page, (lang, text, page)
    hhmm = made["accepted_at"].strftime("%H:%M")
    assert hhmm in page and made["withdrawn_at"].strftime("%H:%M") in page
    # Ballot order: the accepted ones numbered, the others after them unnumbered.
    rows = re.findall(r'<td class="no">(\d*)</td><td class="name">([^<]+)</td>', html)
    assert [(n, name.strip()) for n, name in rows][:3] == [("1", "Nguyễn Thị Ánh"), ("2", "Trần Văn Bình"),
                                                           ("3", "Delegate 2 (d0002)")]
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    r = obs.get(f"/congress/minutes.pdf?lang={lang}")
    assert r.status_code == 200
    path = tmp_path / f"minutes-{lang}.pdf"
    path.write_bytes(r.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    heading = {"vi": "Danh sách ứng cử", "en": "Candidate lists"}[lang]
    part = _flat(text.split(heading, 1)[1])
    for expected in EXPECTED[lang]:
        # A table cell may wrap: compare without the line breaks pdftotext keeps between cell lines.
        assert _flat(expected) in part or expected.replace(" ", "") in part.replace(" ", ""), (lang, expected,
                                                                                              part)
    assert made["accepted_at"].strftime("%H:%M") in part

"""The minutes name every exception in a sentence of the reader's language (page and PDF), never by the
code the programme keeps (``without_quorum``, ``rebind_requested``, ``lane.reject`` ...)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest

from congress.keypads.protocol import VoteFrame
from controller.checkins import lane
from controller.checkins.attendance import Passing, apply_checkins
from controller.record.minutes import KEYPAD_SENTENCES
from controller.storage.tables import CheckIn, CheckInMethod, Passage
from controller.voting.assignment import Assignments
from controller.voting.rebinds import Rebinds
from controller.voting.tables import KeypadEvent

from .conftest import Roster
from .test_web import client_as, create, web  # noqa: F401  (the fixture)

#: What the programme keeps and a reader must never see.
CODES = ["without_quorum", "lane.confirm", "lane.reject", "keypad", *(e.value for e in KeypadEvent)]


def _attendant_request(db, seq: int, delegate: str) -> int:
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        c = CheckIn(unit_id="door-1", boot_id="boot-1", seq=seq, delegate_id=delegate, passage=Passage.IN,
                    method=CheckInMethod.ATTENDANT, score=0.5, event_at=now, received_at=now, digest="0" * 64)
        s.add(c)
        s.flush()
        apply_checkins(s, [Passing(c.id, delegate, Passage.IN, now, "door-1")])
        return c.id


def _every_exception(web) -> None:  # noqa: F811
    """A ballot opened without quorum with every keypad event during it, and both lane answers."""
    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    a = Assignments(svc.db)
    a.unbind(6, actor="tech")  # the spare keypad (d0006 is not checked in)
    roster = Roster(svc.db)
    roster._seq = 100
    roster.check_in(["d0003", "d0004", "d0005"], Passage.OUT)  # 2 of 6 present: no quorum
    create(chair, token, title="Named motion")
    chair.post("/ballots/1/open", data={"csrf_token": token, "without_quorum": "on"})
    roster.check_in(["d0003", "d0004", "d0005"])
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset({1})) for k in (1, 2)])
    rebinds = Rebinds(svc.db)
    a.report_lost(3, actor="user:technician")
    a.found(3, actor="user:technician")
    a.report_lost(4, actor="user:technician")
    asked = rebinds.request(6, "d0004", actor="user:technician")["pending"]
    rebinds.confirm(asked, actor="user:chair")
    a.unbind(2, actor="user:technician")
    refused = rebinds.request(2, "d0003", actor="user:technician")["pending"]
    rebinds.reject(refused, actor="user:chair")
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})
    let_in, refused_entry = _attendant_request(svc.db, 1, "d0006"), _attendant_request(svc.db, 2, "d0005")
    with svc.db.session() as s:
        lane.decide(s, let_in, True, actor="user:technician")
        lane.decide(s, refused_entry, False, actor="user:technician")
    kinds = {e.event for e in rebinds.exceptions(1)}
    assert kinds == set(KeypadEvent), kinds  # every kind is in this ballot's minutes
    assert set(KEYPAD_SENTENCES) == set(KeypadEvent)


def _visible(html: str) -> str:
    body = html.split('id="exceptions"', 1)[1].split("</ul>", 1)[0]
    return re.sub(r"<[^>]+>", " ", body)


def _no_codes(text: str, lang: str) -> None:
    """No code as a word of its own; in English "keypad", "lost" and "found" are words of the sentences."""
    for code in CODES:
        if lang == "vi" or "_" in code or "." in code:
            assert not re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text), (lang, code, text)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_minutes_exceptions_read_as_sentences(web, tmp_path, lang):  # noqa: F811
    _every_exception(web)
    obs, otoken = client_as(web, "observer")
    obs.post("/language", data={"csrf_token": otoken, "lang": lang, "next": "/congress/minutes"})
    page = _visible(obs.get("/congress/minutes").get_data(as_text=True))
    expected = {
        "en": ["Ballot 1 was opened without quorum.",
               "Ballot 1: a new binding of keypad 6 to Delegate 4 (d0004) was asked for.",
               "Ballot 1: the chair confirmed the new binding of keypad 6 to Delegate 4 (d0004).",
               "Ballot 1: the chair refused the new binding of keypad 2 to Delegate 3 (d0003).",
               "Ballot 1: keypad 3 of Delegate 3 (d0003) was reported lost.",
               "Ballot 1: keypad 3 of Delegate 3 (d0003) was found again.",
               "Ballot 1: keypad 2 was taken back from Delegate 2 (d0002).",
               "The attendant let Delegate 6 (d0006) in (door unit door-1).",
               "The attendant refused entry to Delegate 5 (d0005) (door unit door-1)."],
        "vi": ["Cuộc biểu quyết 1 được bắt đầu khi chưa đủ túc số.",
               "Cuộc biểu quyết 1: máy bấm 3 của Delegate 3 (d0003) được báo mất.",
               "Nhân viên xác nhận đã cho Delegate 6 (d0006) vào (thiết bị cửa door-1).",
               "Nhân viên xác nhận đã từ chối cho Delegate 5 (d0005) vào (thiết bị cửa door-1)."],
    }[lang]
    flat = " ".join(page.split())
    for sentence in expected:
        assert sentence in flat, (lang, sentence, flat)
    _no_codes(flat, lang)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    r = obs.get(f"/congress/minutes.pdf?lang={lang}")
    assert r.status_code == 200
    path = tmp_path / f"minutes-{lang}.pdf"
    path.write_bytes(r.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    heading = {"vi": "trường hợp ngoại lệ", "en": "Exceptions"}[lang]
    part = " ".join(text.rsplit(heading, 1)[1].split())
    assert expected[0] in part, (lang, part)
    assert part.count("door-1") == 2  # both lane answers, as sentences
    _no_codes(part, lang)

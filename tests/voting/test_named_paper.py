"""Paper voters in a named ballot's roll call. Their votes are public like the keypads': the counting
committee reads every paper ballot delegate by delegate (two counters, who must agree on every
delegate), and the ballot page, the projector, the exports and the minutes list each voter with the
channel (keypad or paper), never a paper voter as "not voted". A secret ballot's paper stays a tally."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest

from congress.keypads.protocol import AckStatus, VoteFrame
from controller.checkins.attendance import QuorumPolicy
from controller.voting.assignment import Assignments
from controller.voting.ballots import BallotError, Ballots
from controller.voting.named_roll import Channel, VoteState, roll_call
from controller.voting.paper import PaperBallots, PaperReading
from controller.voting.tables import BallotForm, BallotKind

from .test_web import client_as, create, web  # noqa: F401  (the fixture)

_ctr = iter(range(1, 10**9))


def _vote(ballots, db, kid, bid, *choices) -> AckStatus:
    with db.session() as s:
        return ballots.record_vote(s, VoteFrame(kid, next(_ctr), bid, frozenset(choices)))


def test_named_paper_read_per_delegate_on_both_backends(db, roster):
    ids = roster.add(6)
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, 6)}, actor="tech")  # d0006: no keypad
    roster.check_in(ids)
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    paper = PaperBallots(ballots)
    bid = ballots.create("Ban Thư ký", BallotKind.ELECTION, options=["An", "Bình", "Châu"], seats=2,
                         form=BallotForm.STRIKE, actor="chair")
    ballots.open(bid, actor="chair")
    assert _vote(ballots, db, 1, bid, 3) == AckStatus.ACCEPTED  # strikes Châu: An + Bình
    assert _vote(ballots, db, 2, bid, 2) == AckStatus.ACCEPTED  # An + Châu
    with pytest.raises(BallotError, match="already voted"):
        paper.issue(bid, "d0001", actor="counter")  # a keypad vote counted: no paper ballot
    for did in ("d0003", "d0004", "d0006"):
        paper.issue(bid, did, actor="counter")
    assert _vote(ballots, db, 3, bid, 1) == AckStatus.ALREADY_VOTED  # paper issued: the keypad is refused
    with db.session() as s:
        b = ballots.get(bid)
        live = {e.delegate_id: (e.channel, e.state) for e in roll_call(s, b, with_votes=False)}
    assert live == {"d0001": (Channel.KEYPAD, VoteState.HIDDEN), "d0002": (Channel.KEYPAD, VoteState.HIDDEN),
                    "d0003": (Channel.PAPER, VoteState.HIDDEN), "d0004": (Channel.PAPER, VoteState.HIDDEN),
                    "d0006": (Channel.PAPER, VoteState.HIDDEN)}
    assert ballots.progress(bid)["not_heard"] == [5]  # only delegate 5 has not voted (paper voters have)
    ballots.close(bid, actor="chair")

    with pytest.raises(BallotError, match="delegate by delegate"):
        paper.enter(bid, "lan", collected=3, invalid=0, blank=0, votes=[2, 2, 1])
    with pytest.raises(BallotError, match="every paper ballot issued"):
        paper.enter_named(bid, "lan", {"d0003": PaperReading((3,))})
    lan = {"d0003": PaperReading((3,)), "d0004": PaperReading((1, 2, 3)),  # every name struck: blank
           "d0006": PaperReading(handed_in=False)}
    with pytest.raises(BallotError, match=r"not issued: d0001"):  # voted by keypad: never on paper too
        paper.enter_named(bid, "lan", lan | {"d0001": PaperReading((1,))})
    st = paper.enter_named(bid, "lan", lan)
    hung = lan | {"d0004": PaperReading((1,), spoilt=True)}
    st = paper.enter_named(bid, "hung", hung)
    assert st.agreed is None and "Delegate 4 (d0004)" in st.differences
    with pytest.raises(BallotError, match="do not match"):
        paper.combine(bid, actor="lan")
    st = paper.enter_named(bid, "hung", lan)
    assert st.differences == [] and st.agreed is not None
    with db.session() as s:  # before the committee counts the paper in, the votes of paper are not known
        states = {e.delegate_id: e.state for e in roll_call(s, ballots.get(bid))}
    assert states["d0003"] == VoteState.UNCOUNTED and states["d0001"] == VoteState.VOTED
    result = paper.combine(bid, actor="lan")
    assert result["counts"] == {"An": 3, "Bình": 2, "Châu": 1}  # keypads 2+1, 1+1, 0+1; paper 1 blank
    assert (result["valid"], result["invalid"], result["blank"]) == (4, 0, 1)
    assert ballots.recount(bid) == {1: 3, 2: 2, 3: 1, 0: 4, -2: 1}  # the named votes agree with the counts
    with db.session() as s:
        roll = {e.delegate_id: e for e in roll_call(s, ballots.get(bid))}
    assert set(roll) == {"d0001", "d0002", "d0003", "d0004", "d0006"}
    assert (roll["d0003"].channel, roll["d0003"].choices) == (Channel.PAPER, ("An", "Bình"))
    assert roll["d0004"].blank and roll["d0006"].state == VoteState.NOT_HANDED_IN
    assert (roll["d0002"].channel, roll["d0002"].choices) == (Channel.KEYPAD, ("An", "Châu"))
    with pytest.raises(BallotError, match="already counted in"):
        paper.enter_named(bid, "lan", lan)

    secret = ballots.create("Kín", BallotKind.MOTION, secret=True, actor="chair")
    ballots.open(secret, actor="chair")
    paper.issue(secret, "d0006", actor="counter")
    ballots.close(secret, actor="chair")
    with pytest.raises(BallotError, match="as a tally"):
        paper.enter_named(secret, "lan", {"d0006": PaperReading((1,))})
    with db.session() as s, pytest.raises(ValueError):
        roll_call(s, ballots.get(secret))


def test_paper_voters_on_the_page_projector_exports_and_minutes(web, tmp_path):  # noqa: F811
    svc = web.extensions["congress"]
    chair, ctoken = client_as(web, "chair")
    obs, otoken = client_as(web, "observer")
    tech, ttoken = client_as(web, "technician")
    members = "observer, Bùi Thị Lan\ntechnician, Đỗ Mạnh Hùng"
    assert chair.post("/committee", data={"csrf_token": ctoken, "head": "observer",
                                          "members": members}).status_code == 302
    create(chair, ctoken, title="Thông qua Nghị quyết")  # a named motion
    chair.post("/ballots/1/open", data={"csrf_token": ctoken})
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(1, 1, 1, frozenset({1})), VoteFrame(2, 1, 1, frozenset({2}))])
    r = obs.post("/ballots/1/paper/issue", data={"csrf_token": otoken, "delegate": "d0001"})
    assert r.status_code == 409  # voted by keypad: no paper ballot
    for did in ("d0004", "d0005"):
        r = obs.post("/ballots/1/paper/issue", data={"csrf_token": otoken, "delegate": did})
        assert r.status_code == 302

    progress = obs.get("/api/ballots/1").get_json()["progress"]
    assert progress["not_voted"] == ["Delegate 3"]  # the paper voters are not "not voted"
    assert sorted((v["name"], v["channel"]) for v in progress["voted"]) == [
        ("Delegate 1", "keypad"), ("Delegate 2", "keypad"), ("Delegate 4", "paper"), ("Delegate 5", "paper")]
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert "Delegate 4 (paper)" in page and "Delegate 1 (keypad)" in page
    assert "by keypad 2, on paper 2" in page
    projector = obs.get("/ballots/1/projector").get_data(as_text=True)
    assert "Delegate 5 (paper)" in projector and "1 delegate has not voted yet" in projector
    assert 'id="not-voted-list"><li>Delegate 3</li></ul>' in projector

    chair.post("/ballots/1/close", data={"csrf_token": ctoken, "confirmed": "yes"})
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert 'id="named-paper-entry"' in page and "Delegate 4 (d0004)" in page
    reading = {"csrf_token": otoken, "marks-d0004": "1", "marks-d0005": "3"}
    assert obs.post("/ballots/1/paper/enter", data=reading).status_code == 302
    minutes = obs.get("/congress/minutes").get_data(as_text=True)
    assert "paper ballot not counted in yet" in minutes
    assert tech.post("/ballots/1/paper/enter",
                     data={**reading, "csrf_token": ttoken, "marks-d0005": "2"}).status_code == 302
    assert "The two entries differ in: " in obs.get("/ballots/1").get_data(as_text=True)
    tech.post("/ballots/1/paper/enter", data={**reading, "csrf_token": ttoken})
    assert tech.post("/ballots/1/paper/combine", data={"csrf_token": ttoken}).status_code == 302
    result = obs.get("/api/ballots/1").get_json()
    assert result["result"]["counts"] == {"Yes": 2, "No": 1, "Abstain": 1}
    roll = {v["delegate"]: v for v in result["roll_call"]}
    assert (roll["d0004"]["channel"], roll["d0004"]["choices"]) == ("paper", ["Yes"])
    assert (roll["d0005"]["channel"], roll["d0005"]["choices"]) == ("paper", ["Abstain"])
    assert (roll["d0002"]["channel"], roll["d0002"]["choices"]) == ("keypad", ["No"])
    assert obs.get("/ballots/1/export.json").get_json()["roll_call"] == result["roll_call"]
    rows = list(csv.DictReader(io.StringIO(obs.get("/ballots/1/roll-call.csv").get_data(as_text=True))))
    assert {(r["delegate"], r["channel"], r["vote"]) for r in rows} == {
        ("d0001", "keypad", "Yes"), ("d0002", "keypad", "No"), ("d0004", "paper", "Yes"),
        ("d0005", "paper", "Abstain")}
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert 'id="roll-call"' in page and page.count('data-channel="paper"') == 2

    minutes = obs.get("/congress/minutes").get_data(as_text=True)
    assert minutes.count('data-channel="paper"') == 2 and "Delegate 5" in minutes
    assert obs.get("/ballots/1/minutes").get_data(as_text=True).count('data-channel="paper"') == 2
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    for lang, paper_word, yes in (("en", "paper", "Yes"), ("vi", "phiếu giấy", "Tán thành")):
        r = obs.get(f"/congress/minutes.pdf?lang={lang}")
        path = tmp_path / f"minutes-{lang}.pdf"
        path.write_bytes(r.data)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        line = next(x for x in text.splitlines() if "Delegate 4" in x)
        assert paper_word in line and yes in line, (lang, line)

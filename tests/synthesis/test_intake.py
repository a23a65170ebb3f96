"""Every contribution gets a status and a message: none is dropped, only clean Vietnamese is analysed."""

from __future__ import annotations

from controller.synthesis import sources
from controller.synthesis.intake import admit
from controller.synthesis.records import Contribution, IntakeStatus, SourceKind

from .pdfs import blank_pdf, text_pdf
from .test_transcripts import SRT
from .test_vietnamese import TCVN3, TEXT, VNI

META = dict(delegation="Đoàn Huế", source_kind=SourceKind.WRITTEN)


def c(source_id: str, text: str, delegate: str = "DB1") -> Contribution:
    return Contribution(delegate, META["delegation"], SourceKind.WRITTEN, source_id, text)


def test_statuses_for_every_kind_of_bad_input():
    inputs = [
        c("ok", TEXT),
        c("empty", "  \n\t "),
        c("punct", "... --- !!!"),
        c("dup", TEXT.replace(" ", "  ").upper(), delegate="DB2"),  # same words, other spacing and case
        c("huge", (TEXT + " ") * 3000),
        c("english", "The committee approved the budget for the coming year after a long debate."),
        c("tcvn3", TCVN3, delegate="DB3"),
        c("vni", VNI.replace("Thuû", "Hoâm nay Thuû"), delegate="DB4"),
        c("garbage", "¤¥¦§ ©ª«¬ ®¯°± ²³´µ ¶·¸¹ º»¼½ ¾¿ÀÁ"),
    ]
    out = admit(inputs, max_words=20000)
    status = {r.source_id: r for r in out.results}
    assert [r.source_id for r in out.results] == [x.source_id for x in inputs], (
        "one verdict per input, in order"
    )
    assert {k: v.status for k, v in status.items()} == {
        "ok": IntakeStatus.ANALYSED,
        "empty": IntakeStatus.EMPTY,
        "punct": IntakeStatus.EMPTY,
        "dup": IntakeStatus.DUPLICATE,
        "huge": IntakeStatus.TOO_LARGE,
        "english": IntakeStatus.NOT_VIETNAMESE,
        "tcvn3": IntakeStatus.DUPLICATE,
        "vni": IntakeStatus.ANALYSED,
        "garbage": IntakeStatus.UNREADABLE,
    }
    assert status["dup"].duplicate_of == "ok" and status["tcvn3"].duplicate_of == "ok"
    assert out.also_raised_by == {"ok": ("DB2", "DB3")}
    assert status["huge"].params == {"words": 54000, "limit": 20000}
    assert "not recognised as Vietnamese" in status["english"].message
    assert [x.source_id for x in out.analysed] == ["ok", "vni"]
    vni = out.analysed[1]
    assert vni.text.startswith("Hôm nay Thủ tướng") and "converted from VNI" in vni.notes[-1]
    assert "converted from VNI" in status["vni"].params["notes"]


def test_files_text_srt_pdf_and_their_failures():
    meta = dict(delegate_id="DB9", delegation="Đoàn Huế", source_kind=SourceKind.WRITTEN, source_id="f")
    srt = sources.from_bytes(SRT.encode(), **meta)
    assert srt.source_kind is SourceKind.TRANSCRIPT and srt.segments[1].label == "cue 2"
    legacy = sources.from_bytes(TCVN3.encode("latin-1"), **meta)
    assert legacy.notes == ("decoded as latin-1",)
    pdf = sources.from_bytes(
        text_pdf(["Đại hội thông qua nghị quyết.", "Trang hai về bảo hiểm y tế."]), **meta
    )
    assert pdf.text == "Đại hội thông qua nghị quyết.\n\nTrang hai về bảo hiểm y tế."
    assert [(s.label, pdf.text[s.start : s.end]) for s in pdf.segments] == [
        ("page 1", "Đại hội thông qua nghị quyết."),
        ("page 2", "Trang hai về bảo hiểm y tế."),
    ]
    scan = sources.from_bytes(blank_pdf(2), **meta)
    huge = sources.from_bytes(blank_pdf(300), **meta)
    broken = sources.from_bytes(b"%PDF-1.4\nthis is not a pdf", **meta)
    bad_srt = sources.from_bytes(b"1\n", filename="talk.srt", **meta)
    out = admit([pdf, scan, huge, broken, bad_srt, legacy])
    got = [(r.status, r.params.get("reason", "")) for r in out.results]
    assert got[0] == (IntakeStatus.ANALYSED, "")
    assert got[1][0] is IntakeStatus.UNREADABLE and "no text layer" in got[1][1]
    assert got[2][0] is IntakeStatus.UNREADABLE and "300 pages" in got[2][1]
    assert got[3][0] is IntakeStatus.UNREADABLE and "cannot be read" in got[3][1]
    assert got[4][0] is IntakeStatus.UNREADABLE and "no cue text" in got[4][1]
    assert got[5][0] is IntakeStatus.ANALYSED and out.analysed[-1].text == TEXT


def test_engine_source_ref_names_the_cue(engine):
    meta = dict(delegate_id="DB9", delegation="Đoàn Huế", source_kind=SourceKind.TRANSCRIPT, source_id="talk")
    talk = sources.from_bytes(SRT.encode(), **meta)
    out = engine.run(engine.start("item", [talk]))
    [sentence] = [d.source for d in out.draft]
    assert sentence.text == "Tôi đề nghị tăng lương cho giáo viên mầm non ở vùng núi."
    assert sentence.place == "cue 2" and talk.text[sentence.start : sentence.end] == sentence.text

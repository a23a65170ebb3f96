"""SRT and WebVTT transcripts: cue text kept, positions mapped back to the file, broken times named."""

from __future__ import annotations

import pytest

from controller.synthesis import transcripts

SRT = """1
00:00:01,000 --> 00:00:04,200
Kính thưa Đoàn Chủ tịch, kính thưa Đại hội.

2
00:00:04,500 --> 00:00:09,000
Tôi đề nghị tăng lương cho giáo viên
mầm non ở vùng núi.

3
00:00:09,100 --> 00:00:12,000
Xin trân trọng cảm ơn.
"""

VTT = """WEBVTT
Kind: captions

NOTE recorded in hall A

intro
00:01.000 --> 00:04.000 align:start position:10%
<v Nguyễn Văn A>Thủ tục bảo hiểm y tế còn rườm rà.</v>

00:00:04.000 --> 00:00:07.500
<v Nguyễn Văn A><i>Người bệnh</i> phải chờ rất lâu.
"""


def test_srt_cues_joined_with_segments_mapping_back_to_the_file():
    t = transcripts.parse(SRT)
    assert t.text == (
        "Kính thưa Đoàn Chủ tịch, kính thưa Đại hội. Tôi đề nghị tăng lương cho giáo viên "
        "mầm non ở vùng núi. Xin trân trọng cảm ơn."
    )
    assert not t.notes
    assert [(c.index, c.start_ms, c.end_ms, c.line) for c in t.cues] == [
        (1, 1000, 4200, 3),
        (2, 4500, 9000, 7),
        (3, 9100, 12000, 12),
    ]
    for seg, cue in zip(t.segments, t.cues, strict=True):
        assert t.text[seg.start : seg.end] == cue.text
        # no markup: every character maps one for one (the line break became a space)
        assert SRT[seg.source_start : seg.source_end].replace("\n", " ") == cue.text
    offset = t.text.index("mầm non")
    seg = next(s for s in t.segments if s.start <= offset < s.end)
    assert seg.label == "cue 2"
    assert SRT[seg.source_start + offset - seg.start :].startswith("mầm non")


def test_webvtt_header_notes_settings_and_markup():
    t = transcripts.parse(VTT)
    assert transcripts.detect_format(VTT) == "vtt"
    assert t.text == "Thủ tục bảo hiểm y tế còn rườm rà. Người bệnh phải chờ rất lâu."
    assert [(c.start_ms, c.end_ms, c.voice) for c in t.cues] == [
        (1000, 4000, "Nguyễn Văn A"),
        (4000, 7500, "Nguyễn Văn A"),
    ]
    assert VTT[t.cues[0].source_start : t.cues[0].source_end].startswith("<v Nguyễn Văn A>")


@pytest.mark.parametrize(
    "timing, reason",
    [
        ("00:00:04,500 -> 00:00:09", None),  # a short arrow and no milliseconds: still understood
        ("00:00:04,500 --> 00:00:03,000", "ends before it starts"),
        ("00:61:04,500 --> 00:61:09,000", "above 59"),
        ("00:00:04.5OO --> 00:00:09,000", "not a time"),
        ("00:00:04,500 -->", "no end time"),
    ],
)
def test_broken_timestamps_keep_the_text_and_say_which_cue(timing, reason):
    broken = SRT.replace("00:00:04,500 --> 00:00:09,000", timing)
    t = transcripts.parse(broken)
    assert "tăng lương cho giáo viên mầm non" in t.text  # the cue's words are kept
    cue = t.cues[1]
    if reason is None:
        assert (cue.start_ms, cue.end_ms, t.notes) == (4500, 9000, ())
    else:
        assert (cue.start_ms, cue.end_ms) == (None, None)
        assert len(t.notes) == 1 and t.notes[0].startswith("cue 2 (line 6)") and reason in t.notes[0]
        assert t.segments[1].start_ms is None


def test_missing_timing_line_and_out_of_order_cues():
    no_timing = SRT.replace("2\n00:00:04,500 --> 00:00:09,000\n", "2\n")
    t = transcripts.parse(no_timing)
    assert "giáo viên" in t.text and "no timing line" in t.notes[0]
    backwards = SRT.replace("00:00:09,100 --> 00:00:12,000", "00:00:02,000 --> 00:00:03,000")
    t = transcripts.parse(backwards)
    assert "starts before the cue above it" in t.notes[0] and t.cues[2].start_ms == 2000


def test_crlf_and_bom_files_parse():
    t = transcripts.parse("\ufeff" + SRT.replace("\n", "\r\n"))
    assert t.text.startswith("Kính thưa") and len(t.cues) == 3


def test_plain_text_passes_through_and_junk_is_refused():
    assert transcripts.parse("Một đoạn văn bản thường.").text == "Một đoạn văn bản thường."
    with pytest.raises(transcripts.TranscriptError, match="no cue text"):
        transcripts.parse("WEBVTT\n\nNOTE nothing here\n")
    assert transcripts.format_ms(3_723_000) == "01:02:03" and transcripts.format_ms(None) == "--:--:--"

"""Speech transcripts as the venue's recording system exports them: plain text, SRT or WebVTT.

Speech recognition is not done here: the synthesis reads transcripts someone (or some system) made.
A subtitle file becomes one text, the cue texts joined by single spaces (so a sentence may run over
several cues), and one :class:`~controller.synthesis.records.Segment` per cue that maps its range of
the text back to the cue's number, its lines in the file and its times. A cue without markup keeps
its characters one for one (LF line breaks become spaces), so an offset inside it maps to
``segment.source_start + (offset - segment.start)`` in the file.

Broken timestamps (unparseable, minutes or seconds past 59, an end before its start, a cue starting
before the previous one) never lose text: the cue is kept without times and a note names its number
and line. Markup (``<v Speaker>``, ``<i>``, ``{\\an8}``, inline times) is removed from the cue text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .records import Segment

_TIME = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")
_ARROW = re.compile(r"-->|->|—>|–>")
_TAG = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")


class TranscriptError(ValueError):
    """A transcript that cannot be read at all (not a timing line in it, or not text)."""


@dataclass(frozen=True)
class Cue:
    """One cue: its number, text (markup removed), times (``None`` when broken) and speaker if tagged."""

    index: int
    text: str
    start_ms: int | None
    end_ms: int | None
    line: int  # 1-based line of the cue's first text line in the file
    source_start: int
    source_end: int
    voice: str | None = None


@dataclass(frozen=True)
class Transcript:
    """A transcript read into one text with a segment per cue, and notes on what was wrong in it."""

    text: str
    segments: tuple[Segment, ...]
    cues: tuple[Cue, ...]
    notes: tuple[str, ...]


def parse_time(stamp: str) -> int:
    """``HH:MM:SS,mmm`` / ``MM:SS.mmm`` (hours optional, comma or dot) to milliseconds.

    Raises ``ValueError`` for anything else, including minutes or seconds above 59.
    """
    m = _TIME.match(stamp.strip())
    if not m:
        raise ValueError(f"not a time: {stamp!r}")
    hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
    if minutes > 59 or seconds > 59:
        raise ValueError(f"minutes or seconds above 59: {stamp!r}")
    frac = (m.group(4) or "0").ljust(3, "0")
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + int(frac)


def _timing(line: str) -> tuple[int, int]:
    left, right = _ARROW.split(line, maxsplit=1)
    start = parse_time(left)
    end_fields = right.split()  # WebVTT cue settings may follow the end time
    if not end_fields:
        raise ValueError("no end time")
    end = parse_time(end_fields[0])
    if end < start:
        raise ValueError("the cue ends before it starts")
    return start, end


def detect_format(text: str) -> str:
    """``"vtt"``, ``"srt"`` or ``"text"`` from the content (not the file name)."""
    head = text.lstrip("\ufeff").lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if _ARROW.search("\n".join(head.splitlines()[:6])):
        return "srt"
    return "text"


def _blocks(text: str):
    """Blocks of non-blank lines: ``[(line_no, offset, line), ...]`` each."""
    block, offset = [], 0
    for no, line in enumerate(text.splitlines(keepends=True), 1):
        stripped = line.rstrip("\r\n")
        if stripped.strip():
            block.append((no, offset, stripped))
        elif block:
            yield block
            block = []
        offset += len(line)
    if block:
        yield block


def parse(text: str, fmt: str | None = None) -> Transcript:
    """Read a transcript (format detected when ``fmt`` is None). Plain text is taken as it is."""
    fmt = fmt or detect_format(text)
    if fmt == "text":
        return Transcript(text, (), (), ())
    cues: list[Cue] = []
    notes: list[str] = []
    last_start = -1
    for block in _blocks(text):
        first = block[0][2].strip()
        if fmt == "vtt" and (first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION"))):
            continue
        timing_at = next((i for i, (_, _, line) in enumerate(block[:2]) if _ARROW.search(line)), None)
        index = len(cues) + 1
        start_ms = end_ms = None
        if timing_at is None:
            payload = block[1:] if first.isdigit() else block
            if not payload:
                continue  # a lone cue number
            notes.append(f"cue {index} (line {payload[0][0]}): no timing line; text kept without time")
        else:
            payload = block[timing_at + 1 :]
            line_no, _, timing_line = block[timing_at]
            try:
                start_ms, end_ms = _timing(timing_line)
                if start_ms < last_start:
                    notes.append(
                        f"cue {index} (line {line_no}): starts before the cue above it; "
                        "text kept, times kept as written"
                    )
                last_start = max(last_start, start_ms)
            except (ValueError, IndexError) as exc:
                notes.append(
                    f"cue {index} (line {line_no}): timestamp {timing_line.strip()!r} not "
                    f"understood ({exc}); text kept without time"
                )
        if not payload:
            continue
        raw = " ".join(line for _, _, line in payload)
        voice = _VOICE.search(raw)
        clean = " ".join(_TAG.sub("", raw).split()) if _TAG.search(raw) else raw.strip()
        if not clean:
            continue
        src_start = payload[0][1] + (len(raw) - len(raw.lstrip()))
        src_end = payload[-1][1] + len(payload[-1][2])
        cues.append(
            Cue(
                index,
                clean,
                start_ms,
                end_ms,
                payload[0][0],
                src_start,
                src_end,
                voice.group(1).strip() if voice else None,
            )
        )
    if not cues:
        raise TranscriptError("no cue text found: is this an SRT or WebVTT file?")
    parts, segments, pos = [], [], 0
    for cue in cues:
        if parts:
            parts.append(" ")
            pos += 1
        parts.append(cue.text)
        segments.append(
            Segment(
                pos,
                pos + len(cue.text),
                f"cue {cue.index}",
                cue.source_start,
                cue.source_end,
                cue.start_ms,
                cue.end_ms,
            )
        )
        pos += len(cue.text)
    return Transcript("".join(parts), tuple(segments), tuple(cues), tuple(notes))


def format_ms(ms: int | None) -> str:
    """``HH:MM:SS`` for a reader, ``--:--:--`` when unknown."""
    if ms is None:
        return "--:--:--"
    s = ms // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"

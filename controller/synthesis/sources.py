"""Contributions from files: plain text, PDF (text layer, via pypdf), SRT and WebVTT transcripts.

Each loader returns a :class:`~controller.synthesis.records.Contribution`; a file that cannot be read
comes back with an empty text and a ``problem`` note, so the intake lists it as unreadable with the
reason instead of losing it. Bytes are decoded by :func:`vietnamese.decode` (UTF-8, UTF-16, Windows-1258,
else Latin-1 for the legacy check). A PDF's pages are joined by a blank line and each page is a segment
(``page 3``); a PDF with more than ``max_pages`` pages is not opened past its page count.
"""

from __future__ import annotations

import io
from pathlib import Path

from . import transcripts, vietnamese
from .records import Contribution, Segment, SourceKind

PROBLEM = "problem: "  # prefix of the note that marks an unreadable source


def _unreadable(base: dict, reason: str) -> Contribution:
    return Contribution(text="", notes=(PROBLEM + reason,), **base)


def from_bytes(
    data: bytes,
    *,
    delegate_id: str,
    delegation: str,
    source_kind: SourceKind,
    source_id: str,
    filename: str = "",
    max_pages: int = 60,
) -> Contribution:
    """A contribution from a file's bytes; the format comes from the content (PDF, SRT, WebVTT, text)."""
    base = dict(delegate_id=delegate_id, delegation=delegation, source_kind=source_kind, source_id=source_id)
    if data.startswith(b"%PDF"):
        return _from_pdf(data, base, max_pages)
    text, codec = vietnamese.decode(data)
    notes: list[str] = [] if codec in ("utf-8", "utf-16") else [f"decoded as {codec}"]
    fmt = transcripts.detect_format(text)
    if fmt == "text" and not filename.lower().endswith((".srt", ".vtt")):
        return Contribution(text=text, notes=tuple(notes), **base)
    try:
        t = transcripts.parse(
            text, None if fmt != "text" else ("vtt" if filename.endswith(".vtt") else "srt")
        )
    except transcripts.TranscriptError as exc:
        return _unreadable(base, str(exc))
    kind = SourceKind.TRANSCRIPT if source_kind is SourceKind.WRITTEN else source_kind
    base["source_kind"] = kind
    return Contribution(text=t.text, segments=t.segments, notes=tuple(notes) + t.notes, **base)


def from_path(path: Path, **meta) -> Contribution:
    """:func:`from_bytes` on a file."""
    return from_bytes(Path(path).read_bytes(), filename=Path(path).name, **meta)


def _from_pdf(data: bytes, base: dict, max_pages: int) -> Contribution:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - depends on the install
        return _unreadable(base, "PDF support needs the synthesis extra (pypdf)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return _unreadable(base, "the PDF is encrypted: ask for an unprotected copy")
        pages = len(reader.pages)
        if pages > max_pages:
            return _unreadable(
                base,
                f"the PDF has {pages} pages (limit {max_pages} for one contribution): "
                "attach it as a document of the item instead",
            )
        parts, segments, pos = [], [], 0
        for number, page in enumerate(reader.pages, 1):
            page_text = (page.extract_text() or "").strip()
            if not page_text:
                continue
            if parts:
                parts.append("\n\n")
                pos += 2
            parts.append(page_text)
            segments.append(Segment(pos, pos + len(page_text), f"page {number}", pos, pos + len(page_text)))
            pos += len(page_text)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return _unreadable(base, f"the PDF cannot be read ({exc.__class__.__name__}: {exc})")
    if not parts:
        return _unreadable(base, "the PDF has no text layer (a scan?): text recognition is not done here")
    return Contribution(text="".join(parts), segments=tuple(segments), notes=(f"PDF, {pages} pages",), **base)

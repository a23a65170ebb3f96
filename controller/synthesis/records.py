"""Plain records the synthesis reads and writes: contributions in, themes, quotes and a draft out.

Everything here is a frozen dataclass of strings, numbers and tuples, so any feeder (the portal's
written contributions, comments on drafts, imported transcripts, staff uploads) can build the input
and any store can keep the output (:func:`to_dict` gives JSON-ready dictionaries).

Offsets are Python string indices (code points) into :attr:`Contribution.text`, end exclusive: a quote
``q`` always satisfies ``contribution.text[q.start:q.end] == q.text``. Where a text was assembled from
a file (transcript cues, PDF pages), :attr:`Contribution.segments` maps text ranges back to positions
in the file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SourceKind(StrEnum):
    """Where a contribution comes from."""

    WRITTEN = "written"  # a written contribution (portal form, or a file uploaded by staff)
    COMMENT = "comment"  # a comment anchored to a draft document
    TRANSCRIPT = "transcript"  # a speech transcript (plain text, SRT or WebVTT)


class IntakeStatus(StrEnum):
    """What the intake decided about one contribution. Every contribution gets one; none is dropped."""

    ANALYSED = "analysed"
    DUPLICATE = "duplicate"  # same text as an earlier contribution: counted for its delegate, quoted once
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_VIETNAMESE = "not_vietnamese"
    UNREADABLE = "unreadable"  # undecodable or doubtful legacy encoding, PDF without a text layer


@dataclass(frozen=True)
class Segment:
    """A range of the contribution text and where it came from in the source file.

    ``label`` names the place for a reader (``cue 12``, ``page 3``); ``source_start``/``source_end``
    are character offsets in the decoded file; ``start_ms``/``end_ms`` are a cue's times when known.
    """

    start: int
    end: int
    label: str
    source_start: int
    source_end: int
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class Contribution:
    """One input of an agenda item: who, from which delegation, what kind, which source, the text."""

    delegate_id: str
    delegation: str
    source_kind: SourceKind
    source_id: str
    text: str
    segments: tuple[Segment, ...] = ()
    notes: tuple[str, ...] = ()  # what the import found and did (conversion, broken timestamps)


@dataclass(frozen=True)
class IntakeResult:
    """The intake's verdict on one contribution, with a message a secretariat can act on."""

    source_id: str
    delegate_id: str
    status: IntakeStatus
    message: str  # a message id (English), rendered with ``params`` in the reader's language
    params: dict[str, Any]
    words: int
    duplicate_of: str | None = None


@dataclass(frozen=True)
class SourceRef:
    """Where an extracted sentence comes from: an exact substring ``text[start:end]`` of a source."""

    delegate_id: str
    delegation: str
    source_kind: SourceKind
    source_id: str
    start: int
    end: int
    text: str
    place: str = ""  # the segment label (cue, page) the sentence starts in, when the source has segments


@dataclass(frozen=True)
class Theme:
    """A point the delegates raised: its label, who raised it, and their own words."""

    theme_id: int
    label: str
    keywords: tuple[str, ...]
    delegates: tuple[str, ...]  # distinct delegate ids, sorted
    delegations: tuple[str, ...]
    sentences: int
    quotes: tuple[SourceRef, ...]

    @property
    def delegate_count(self) -> int:
        """Number of distinct delegates who raised the theme."""
        return len(self.delegates)


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of the draft, with the theme it summarises and its source."""

    theme_id: int
    source: SourceRef


@dataclass(frozen=True)
class Assignment:
    """An analysed sentence ``text[start:end]`` of source ``source_id`` and the theme it belongs to."""

    source_id: str
    start: int
    end: int
    theme_id: int


@dataclass(frozen=True)
class Synthesis:
    """The result for one agenda item."""

    item_id: str
    threshold: float
    themes: tuple[Theme, ...]
    draft: tuple[DraftSentence, ...]
    intake: tuple[IntakeResult, ...]
    assignments: tuple[Assignment, ...] = ()  # every analysed sentence and its theme
    draft_text: str = ""  # the draft rendered in the secretariat's template
    stats: dict[str, Any] = field(default_factory=dict)


def to_dict(record: Any) -> Any:
    """A JSON-ready form of any record of this module (enums become their values)."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: to_dict(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, StrEnum):
        return record.value
    if isinstance(record, tuple | list):
        return [to_dict(x) for x in record]
    if isinstance(record, dict):
        return {k: to_dict(v) for k, v in record.items()}
    return record

"""The state of one synthesis run as a plain record, so a job runner can persist it and resume.

:class:`JobState` holds the configuration, the input records, the step reached and what the finished
steps produced (intake verdicts, sentence spans and words, embeddings). :meth:`JobState.to_json` and
:meth:`JobState.from_json` round-trip it exactly (embeddings as base64 of little-endian float32), so a
run resumed from any checkpoint produces the same synthesis as an uninterrupted one.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from .records import Contribution, IntakeResult, IntakeStatus, Segment, SourceKind

FORMAT = 1


class Step(StrEnum):
    """The resumable steps, in order."""

    INTAKE = "intake"
    SEGMENT = "segment"
    EMBED = "embed"
    THEMES = "themes"  # themes, counts, quotes and the draft: one short step
    DONE = "done"


@dataclass
class SynthesisConfig:
    """Settings of a run (stored with the job, so a resumed run uses the same ones).

    ``threshold``: two groups of sentences form one theme while the average similarity between their
    sentences is at least this (similarity = ``dense_weight`` x cosine of the centred sentence
    embeddings + the rest x cosine of the TF-IDF word vectors; 1 = same words and meaning, ~0 unrelated).
    ``redundancy``: a draft sentence is skipped when it is this similar to one already in the draft.
    ``position_weight``: how much a sentence's place in its contribution counts (earlier = stated as
    the point; 0 = not at all). ``draft_words``: the draft's length budget in words (syllables).
    ``embed_syllable_budget``: above this many syllables in an item, each sentence is embedded from its
    first syllables only (the TF-IDF vectors still see every word).
    """

    threshold: float = 0.15
    dense_weight: float = 0.5
    redundancy: float = 0.3
    position_weight: float = 2.0
    draft_words: int = 500
    quotes_per_theme: int = 3
    max_words: int = 20000
    embed_batch: int = 64
    embed_syllable_budget: int = 60000
    min_embed_syllables: int = 8

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthesisConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown synthesis settings: {', '.join(sorted(unknown))}")
        return cls(**data)


def _contribution_to_dict(c: Contribution) -> dict[str, Any]:
    d = dataclasses.asdict(c)
    d["source_kind"] = c.source_kind.value
    return d


def _contribution_from_dict(d: dict[str, Any]) -> Contribution:
    return Contribution(
        delegate_id=d["delegate_id"],
        delegation=d["delegation"],
        source_kind=SourceKind(d["source_kind"]),
        source_id=d["source_id"],
        text=d["text"],
        segments=tuple(Segment(**s) for s in d.get("segments", ())),
        notes=tuple(d.get("notes", ())),
    )


@dataclass
class SentenceRow:
    """One sentence of an analysed contribution: which, where, its place and words."""

    contribution: int  # index into JobState.analysed
    start: int
    end: int
    procedural: bool
    words: list[str]


@dataclass
class JobState:
    """Everything a run needs to go on after a restart. Built by ``Engine.start``."""

    item_id: str
    config: SynthesisConfig
    contributions: list[Contribution]
    step: Step = Step.INTAKE
    analysed: list[Contribution] = field(default_factory=list)
    intake: list[IntakeResult] = field(default_factory=list)
    also_raised_by: dict[str, list[str]] = field(default_factory=dict)
    segmented: int = 0  # analysed contributions already split into sentences
    sentences: list[SentenceRow] = field(default_factory=list)
    embed_syllables: int | None = None  # per-sentence cap fixed when embedding starts (None: whole)
    embed_texts: list[str] = field(default_factory=list)  # distinct texts to embed, in order
    embeddings: np.ndarray | None = None  # rows for embed_texts[:len(embeddings)]
    result: dict[str, Any] | None = None  # the Synthesis as a dictionary, once done

    def to_json(self) -> str:
        """A JSON text of the whole state."""
        emb = None
        if self.embeddings is not None:
            arr = np.ascontiguousarray(self.embeddings, dtype="<f4")
            emb = {
                "rows": int(arr.shape[0]),
                "dim": int(arr.shape[1]),
                "data": base64.b64encode(arr.tobytes()).decode("ascii"),
            }
        return json.dumps(
            {
                "format": FORMAT,
                "item_id": self.item_id,
                "config": self.config.to_dict(),
                "contributions": [_contribution_to_dict(c) for c in self.contributions],
                "step": self.step.value,
                "analysed": [_contribution_to_dict(c) for c in self.analysed],
                "intake": [dict(dataclasses.asdict(r), status=r.status.value) for r in self.intake],
                "also_raised_by": self.also_raised_by,
                "segmented": self.segmented,
                "sentences": [
                    [s.contribution, s.start, s.end, s.procedural, s.words] for s in self.sentences
                ],
                "embed_syllables": self.embed_syllables,
                "embed_texts": self.embed_texts,
                "embeddings": emb,
                "result": self.result,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> JobState:
        d = json.loads(text)
        if d.get("format") != FORMAT:
            raise ValueError(
                f"synthesis job state format {d.get('format')!r}, expected {FORMAT}: start again"
            )
        emb = None
        if d["embeddings"] is not None:
            e = d["embeddings"]
            emb = np.frombuffer(base64.b64decode(e["data"]), dtype="<f4").reshape(e["rows"], e["dim"]).copy()
        return cls(
            item_id=d["item_id"],
            config=SynthesisConfig.from_dict(d["config"]),
            contributions=[_contribution_from_dict(c) for c in d["contributions"]],
            step=Step(d["step"]),
            analysed=[_contribution_from_dict(c) for c in d["analysed"]],
            intake=[IntakeResult(**dict(r, status=IntakeStatus(r["status"]))) for r in d["intake"]],
            also_raised_by=d["also_raised_by"],
            segmented=d["segmented"],
            sentences=[SentenceRow(c, a, b, p, list(w)) for c, a, b, p, w in d["sentences"]],
            embed_syllables=d["embed_syllables"],
            embed_texts=list(d["embed_texts"]),
            embeddings=emb,
            result=d["result"],
        )

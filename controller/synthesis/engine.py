"""The synthesis engine: resumable steps with progress, checkpoints and cancellation.

Wiring: the controller builds one :class:`Engine` with its services (the segmenter and the embedder
load their models once) and hands it job states. ``engine.start(item_id, contributions, config)``
makes a fresh :class:`~controller.synthesis.job.JobState`; ``engine.run(state, ...)`` carries it through
the steps (intake, segmentation per contribution, embedding per batch, then themes and draft) and
returns the :class:`~controller.synthesis.records.Synthesis`. After every unit of work it calls
``checkpoint(state)`` (the job runner persists ``state.to_json()``) and ``progress(Progress)``; when
``cancel`` is set it stops at the next unit boundary and raises :class:`Cancelled`, leaving the state
resumable. Running a restored state goes on where it stopped and gives the same result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import analysis, segment
from .embed import Embedder
from .intake import admit
from .job import JobState, SentenceRow, Step, SynthesisConfig
from .records import Contribution, Synthesis


class Cancelled(Exception):
    """The run was cancelled; its state is consistent and can be resumed."""


@dataclass(frozen=True)
class Progress:
    """Where a run is: the step, units done and the step's total units."""

    step: Step
    done: int
    total: int


def _truncate(text: str, syllables: int | None) -> str:
    if syllables is None:
        return text
    marks = list(segment._SYLLABLE.finditer(text))
    return text if len(marks) <= syllables else text[: marks[syllables - 1].end()]


def _syllable_cap(lengths: list[int], budget: int, floor: int) -> int | None:
    """The largest per-sentence cap keeping the total within ``budget`` (None if no cap is needed)."""
    if sum(lengths) <= budget:
        return None
    lo, hi = floor, max(lengths)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in lengths) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


class Engine:
    """Runs syntheses with one segmenter and one embedder."""

    def __init__(self, segmenter: segment.Segmenter, embedder: Embedder) -> None:
        self.segmenter = segmenter
        self.embedder = embedder

    def start(
        self, item_id: str, contributions: Sequence[Contribution], config: SynthesisConfig | None = None
    ) -> JobState:
        """A fresh job for ``contributions`` of agenda item ``item_id``."""
        return JobState(
            item_id=item_id, config=config or SynthesisConfig(), contributions=list(contributions)
        )

    def run(
        self,
        state: JobState,
        cancel: threading.Event | None = None,
        progress: Callable[[Progress], None] | None = None,
        checkpoint: Callable[[JobState], None] | None = None,
    ) -> Synthesis:
        """Carry ``state`` to the end (see the module docstring)."""
        cancel = cancel or threading.Event()

        def unit_done(step: Step, done: int, total: int) -> None:
            if checkpoint:
                checkpoint(state)
            if progress:
                progress(Progress(step, done, total))
            if cancel.is_set():
                raise Cancelled(f"cancelled during {step.value}")

        if cancel.is_set():
            raise Cancelled("cancelled before it started")
        if state.step is Step.INTAKE:
            admitted = admit(state.contributions, state.config.max_words)
            state.analysed = list(admitted.analysed)
            state.intake = list(admitted.results)
            state.also_raised_by = {k: list(v) for k, v in admitted.also_raised_by.items()}
            state.step = Step.SEGMENT
            unit_done(Step.INTAKE, len(state.contributions), len(state.contributions))
        if state.step is Step.SEGMENT:
            total = len(state.analysed)
            while state.segmented < total:
                index = state.segmented
                text = state.analysed[index].text
                for span in self.segmenter.sentences(text):
                    words = self.segmenter.words(text[span.start : span.end])
                    state.sentences.append(SentenceRow(index, span.start, span.end, span.procedural, words))
                state.segmented += 1
                if state.segmented == total:
                    state.step = Step.EMBED
                unit_done(Step.SEGMENT, state.segmented, total)
            state.step = Step.EMBED
        if state.step is Step.EMBED:
            self._embed(state, unit_done)
            state.step = Step.THEMES
        if state.step is Step.THEMES:
            synthesis = analysis.synthesise(state, self._vectors(state))
            state.result = analysis.synthesis_to_dict(synthesis)
            state.step = Step.DONE
            if checkpoint:  # finished: a cancel arriving now changes nothing
                checkpoint(state)
            if progress:
                progress(Progress(Step.THEMES, 1, 1))
            return synthesis
        return analysis.synthesis_from_dict(state.result)

    def _embed(self, state: JobState, unit_done: Callable[[Step, int, int], None]) -> None:
        cfg = state.config
        if not state.embed_texts:
            rows = analysis.eligible_rows(state)
            texts = [
                state.analysed[s.contribution].text[s.start : s.end]
                for s in (state.sentences[i] for i in rows)
            ]
            state.embed_syllables = _syllable_cap(
                [segment.syllable_count(t) for t in texts], cfg.embed_syllable_budget, cfg.min_embed_syllables
            )
            state.embed_texts = list(dict.fromkeys(_truncate(t, state.embed_syllables) for t in texts))
            state.embeddings = np.zeros((0, self.embedder.dim), np.float32)
        total = len(state.embed_texts)
        batches = max(1, -(-total // cfg.embed_batch))
        while len(state.embeddings) < total:
            lo = len(state.embeddings)
            batch = self.embedder.embed(state.embed_texts[lo : lo + cfg.embed_batch])
            state.embeddings = np.vstack([state.embeddings, batch.astype(np.float32)])
            unit_done(Step.EMBED, -(-len(state.embeddings) // cfg.embed_batch), batches)

    def _vectors(self, state: JobState) -> np.ndarray:
        """Embedding row of every eligible sentence (duplicates share their text's row)."""
        index = {t: i for i, t in enumerate(state.embed_texts)}
        rows = analysis.eligible_rows(state)
        texts = [
            state.analysed[s.contribution].text[s.start : s.end] for s in (state.sentences[i] for i in rows)
        ]
        if not texts:
            return np.zeros((0, self.embedder.dim), np.float32)
        return state.embeddings[[index[_truncate(t, state.embed_syllables)] for t in texts]]

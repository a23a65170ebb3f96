"""Themes, counts, quotes and the extractive draft, from the segmented and embedded sentences.

Only *eligible* sentences take part: not procedural (salutations, thanks) and at least
:data:`segment.MIN_SYLLABLES` syllables. Each is represented twice: its e5 embedding, centred on the
item's mean and re-normalised (what is said), and its TF-IDF word vector (which words say it); their
similarity is the weighted sum of the two cosines (``SynthesisConfig.dense_weight``).

* Themes: average-linkage clustering at ``threshold`` (:mod:`.cluster`). A theme's count is the number
  of distinct delegates with a sentence in it, plus the delegates whose duplicate copies of such a
  contribution the intake set aside.
* Labels: the theme's most distinctive words (class-based TF-IDF).
* Quotes: the sentences nearest the theme's centre, one per delegate.
* Draft: each sentence is scored by its *support* (the mean, over the other contributions, of its best
  similarity to a sentence there: how widely the point is shared) times a position prior
  ``(1 / (1 + p)) ** position_weight`` (``p`` = its place among the contribution's eligible sentences).
  Sentences are taken by score, skipping any more similar than ``redundancy`` to one already taken,
  until ``draft_words`` is reached. The draft lists them under their themes.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from . import lexical, segment
from .cluster import cluster
from .job import JobState
from .records import (
    Assignment,
    Contribution,
    DraftSentence,
    IntakeResult,
    IntakeStatus,
    SourceKind,
    SourceRef,
    Synthesis,
    Theme,
    to_dict,
)
from .template import render_draft


def eligible_rows(state: JobState) -> list[int]:
    """Indices of the sentences that take part in themes and draft."""
    out = []
    for i, s in enumerate(state.sentences):
        text = state.analysed[s.contribution].text[s.start : s.end]
        if not s.procedural and segment.syllable_count(text) >= segment.MIN_SYLLABLES:
            out.append(i)
    return out


def source_ref(c: Contribution, start: int, end: int) -> SourceRef:
    """The reference of ``c.text[start:end]``, with the segment (cue, page) it starts in."""
    place = next((s.label for s in c.segments if s.start <= start < s.end), "")
    return SourceRef(
        c.delegate_id, c.delegation, c.source_kind, c.source_id, start, end, c.text[start:end], place
    )


def centre(vectors: np.ndarray) -> np.ndarray:
    """Subtract the mean and re-normalise (spreads e5's narrow range of cosines)."""
    if len(vectors) == 0:
        return vectors
    out = vectors - vectors.mean(axis=0, keepdims=True)
    return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def similarity_rows(rows: np.ndarray, dense: np.ndarray, lex: sparse.csr_matrix, w: float) -> np.ndarray:
    """Combined similarity of sentences ``rows`` to all sentences."""
    return w * (dense[rows] @ dense.T) + (1 - w) * (lex[rows] @ lex.T).toarray()


def support_scores(dense: np.ndarray, lex: sparse.csr_matrix, owner: np.ndarray, w: float) -> np.ndarray:
    """Mean over the other contributions of each sentence's best similarity there (sentences sorted by
    owner); with a single contribution, the mean similarity to its other sentences."""
    n = len(owner)
    if n == 0:
        return np.zeros(0)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    k = len(starts)
    out = np.zeros(n)
    for lo in range(0, n, 512):
        rows = np.arange(lo, min(n, lo + 512))
        sim = similarity_rows(rows, dense, lex, w)
        if k == 1:
            sim[np.arange(len(rows)), rows] = 0.0
            out[rows] = sim.sum(axis=1) / max(n - 1, 1)
            continue
        best = np.maximum.reduceat(sim, starts, axis=1)  # rows x contributions
        own = np.searchsorted(starts, rows, side="right") - 1
        best[np.arange(len(rows)), own] = 0.0
        out[rows] = best.sum(axis=1) / (k - 1)
    return out


def synthesise(state: JobState, embeddings: np.ndarray) -> Synthesis:
    """The synthesis of a segmented, embedded job (``embeddings``: one row per eligible sentence)."""
    cfg = state.config
    rows = eligible_rows(state)
    sents = [state.sentences[i] for i in rows]
    owner = np.array([s.contribution for s in sents], dtype=np.int64)
    vocab, idf = lexical.build_vocabulary((s.words for s in sents), frozenset())
    lex = lexical.tfidf([s.words for s in sents], vocab, idf)
    dense = centre(np.asarray(embeddings, np.float32))
    labels = cluster(dense, cfg.threshold, lex, cfg.dense_weight) if sents else np.zeros(0, np.int64)

    members: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        members.setdefault(lab, []).append(i)
    keywords = lexical.keywords([[sents[i].words for i in m] for m in members.values()], vocab)
    themes: list[Theme] = []
    theme_of = np.zeros(len(sents), np.int64)
    for (lab, m), words in zip(members.items(), keywords, strict=True):
        contributions = sorted({sents[i].contribution for i in m})
        delegates, delegations = set(), set()
        for ci in contributions:
            c = state.analysed[ci]
            delegates.add(c.delegate_id)
            delegations.add(c.delegation)
            delegates.update(state.also_raised_by.get(c.source_id, ()))
        quotes = _quotes(m, dense, lex, cfg, sents, state)
        themes.append(
            Theme(
                lab,
                ", ".join(words[:3]) or "—",
                tuple(words),
                tuple(sorted(delegates)),
                tuple(sorted(d for d in delegations if d)),
                len(m),
                quotes,
            )
        )
        theme_of[m] = lab
    order = sorted(themes, key=lambda t: (-t.delegate_count, -t.sentences, t.theme_id))
    renumber = {t.theme_id: n for n, t in enumerate(order, 1)}
    themes = [_renumbered(t, renumber[t.theme_id]) for t in order]

    chosen = select_draft(dense, lex, owner, np.array(_positions(owner)), _lengths(sents, state), cfg)
    draft = []
    for i in chosen:
        s = sents[i]
        draft.append(
            DraftSentence(
                renumber[int(theme_of[i])], source_ref(state.analysed[s.contribution], s.start, s.end)
            )
        )
    assignments = tuple(
        Assignment(state.analysed[s.contribution].source_id, s.start, s.end, renumber[int(theme_of[i])])
        for i, s in enumerate(sents)
    )
    synthesis = Synthesis(
        state.item_id,
        cfg.threshold,
        tuple(themes),
        tuple(draft),
        tuple(state.intake),
        assignments,
        stats={
            "contributions": len(state.contributions),
            "analysed": len(state.analysed),
            "sentences": len(state.sentences),
            "eligible_sentences": len(sents),
            "embedded_from_first_syllables": state.embed_syllables,
            "delegates": len(
                {c.delegate_id for c in state.analysed}
                | {d for v in state.also_raised_by.values() for d in v}
            ),
        },
    )
    return Synthesis(**{**synthesis.__dict__, "draft_text": render_draft(synthesis)})


def _renumbered(t: Theme, number: int) -> Theme:
    return Theme(number, t.label, t.keywords, t.delegates, t.delegations, t.sentences, t.quotes)


def _positions(owner: np.ndarray) -> list[int]:
    out, last, p = [], None, 0
    for o in owner.tolist():
        p = p + 1 if o == last else 0
        last = o
        out.append(p)
    return out


def _lengths(sents, state: JobState) -> np.ndarray:
    return np.array(
        [segment.syllable_count(state.analysed[s.contribution].text[s.start : s.end]) for s in sents]
    )


def _quotes(m: list[int], dense, lex, cfg, sents, state: JobState) -> tuple[SourceRef, ...]:
    idx = np.array(m)
    centroid_d = dense[idx].mean(axis=0)
    centroid_l = np.asarray(lex[idx].mean(axis=0)).ravel()
    closeness = cfg.dense_weight * (dense[idx] @ centroid_d) + (1 - cfg.dense_weight) * (
        lex[idx] @ centroid_l
    )
    quotes, seen = [], set()
    for j in np.argsort(-closeness, kind="stable"):
        s = sents[m[j]]
        c = state.analysed[s.contribution]
        if c.delegate_id in seen:
            continue
        seen.add(c.delegate_id)
        quotes.append(source_ref(c, s.start, s.end))
        if len(quotes) == cfg.quotes_per_theme:
            break
    return tuple(quotes)


def select_draft(
    dense: np.ndarray,
    lex: sparse.csr_matrix,
    owner: np.ndarray,
    positions: np.ndarray,
    lengths: np.ndarray,
    cfg,
) -> list[int]:
    """Sentence indices of the draft, best first (see the module docstring)."""
    if len(owner) == 0:
        return []
    score = (
        support_scores(dense, lex, owner, cfg.dense_weight) * (1.0 / (1.0 + positions)) ** cfg.position_weight
    )
    score = np.where(lengths < 6, -1.0, score)
    chosen: list[int] = []
    used = 0
    for i in np.argsort(-score, kind="stable").tolist():
        if used >= cfg.draft_words or score[i] < 0:
            break
        if chosen:
            sim = similarity_rows(np.array([i]), dense, lex, cfg.dense_weight)[0, chosen]
            if sim.max() > cfg.redundancy:
                continue
        chosen.append(i)
        used += int(lengths[i])
    return chosen


def synthesis_to_dict(s: Synthesis) -> dict:
    """JSON-ready form of a synthesis."""
    return to_dict(s)


def synthesis_from_dict(d: dict) -> Synthesis:
    """The synthesis back from :func:`synthesis_to_dict`."""

    def ref(r: dict) -> SourceRef:
        return SourceRef(**dict(r, source_kind=SourceKind(r["source_kind"])))

    themes = tuple(
        Theme(
            t["theme_id"],
            t["label"],
            tuple(t["keywords"]),
            tuple(t["delegates"]),
            tuple(t["delegations"]),
            t["sentences"],
            tuple(ref(q) for q in t["quotes"]),
        )
        for t in d["themes"]
    )
    draft = tuple(DraftSentence(x["theme_id"], ref(x["source"])) for x in d["draft"])
    intake = tuple(IntakeResult(**dict(r, status=IntakeStatus(r["status"]))) for r in d["intake"])
    assignments = tuple(Assignment(**a) for a in d["assignments"])
    return Synthesis(
        d["item_id"], d["threshold"], themes, draft, intake, assignments, d["draft_text"], d["stats"]
    )

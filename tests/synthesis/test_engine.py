"""The engine on a seeded item: themes and counts match the truth, every quote and draft sentence is
an exact substring of its source, and a run cancelled and resumed (through JSON) equals an
uninterrupted one."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from controller.synthesis.engine import Cancelled, Progress
from controller.synthesis.job import JobState, Step, SynthesisConfig
from controller.synthesis.records import Contribution, IntakeStatus, SourceKind, to_dict

from .corpus import TOPICS, build


@pytest.fixture(scope="module")
def seeded():
    return build(seed=7)


@pytest.fixture(scope="module")
def result(engine, seeded):
    contributions, _ = seeded
    return engine.run(engine.start("item-7", contributions))


def topic_of(text: str) -> str | None:
    return next((t for t, bank in TOPICS.items() if text in bank), None)


def test_every_topic_is_one_theme_and_its_count_is_the_delegates_who_raised_it(seeded, result):
    contributions, raised = seeded
    by_source = {c.source_id: c for c in contributions}
    members: dict[int, Counter] = {}
    for a in result.assignments:
        topic = topic_of(by_source[a.source_id].text[a.start : a.end])
        assert topic is not None, "only topic sentences are analysed (salutations are procedural)"
        members.setdefault(a.theme_id, Counter())[topic] += 1
    assert all(len(c) == 1 for c in members.values()), f"themes mix topics: {members}"
    theme_topic = {tid: next(iter(c)) for tid, c in members.items()}
    assert sorted(theme_topic.values()) == sorted(TOPICS), "one theme per topic"
    for theme in result.themes:
        assert set(theme.delegates) == raised[theme_topic[theme.theme_id]]
        assert theme.delegate_count == len(raised[theme_topic[theme.theme_id]])
    counts = [t.delegate_count for t in result.themes]
    assert counts == sorted(counts, reverse=True), "themes come most raised first"


def test_counts_equal_the_distinct_delegates_of_the_theme_sentences(seeded, result):
    contributions, _ = seeded
    delegate = {c.source_id: c.delegate_id for c in contributions}
    for theme in result.themes:
        sources = {a.source_id for a in result.assignments if a.theme_id == theme.theme_id}
        assert theme.delegate_count == len({delegate[s] for s in sources})
        assert theme.sentences == sum(1 for a in result.assignments if a.theme_id == theme.theme_id)


def test_quotes_and_draft_are_exact_substrings_with_their_sources(seeded, result):
    contributions, _ = seeded
    by_source = {c.source_id: c for c in contributions}
    refs = [q for t in result.themes for q in t.quotes] + [d.source for d in result.draft]
    assert len(refs) > 10
    for ref in refs:
        source = by_source[ref.source_id]
        assert source.text[ref.start : ref.end] == ref.text
        assert (ref.delegate_id, ref.delegation, ref.source_kind) == (
            source.delegate_id,
            source.delegation,
            source.source_kind,
        )
        assert ref.text.strip() == ref.text and ref.text
    for theme in result.themes:
        quoted = [q.delegate_id for q in theme.quotes]
        assert len(quoted) == len(set(quoted)), "one quote per delegate"
        assert all(q.delegate_id in theme.delegates for q in theme.quotes)
    for d in result.draft:
        assert by_source[d.source.source_id].text[d.source.start : d.source.end] in result.draft_text


def test_draft_is_within_budget_and_not_redundant(engine, seeded):
    contributions, _ = seeded
    out = engine.run(engine.start("item-7", contributions, SynthesisConfig(draft_words=60)))
    lengths = [len(d.source.text.split()) for d in out.draft]
    assert sum(lengths[:-1]) < 60 <= sum(lengths) or sum(lengths) < 60
    texts = [d.source.text for d in out.draft]
    assert len(texts) == len(set(texts))
    assert "Kính thưa" not in " ".join(texts) and "cảm ơn" not in " ".join(texts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_substring_property_on_other_seeds(engine, seed):
    """Property-style: whatever the corpus, references are exact and every input has a verdict."""
    contributions, _ = build(seed=seed, delegates=12)
    extra = [
        Contribution("DX1", "Đoàn X", SourceKind.WRITTEN, "x-empty", " \n "),
        Contribution("DX2", "Đoàn X", SourceKind.WRITTEN, "x-dup", contributions[0].text),
    ]
    out = engine.run(engine.start("item", contributions + extra))
    assert [r.source_id for r in out.intake] == [c.source_id for c in contributions + extra]
    statuses = {r.source_id: r.status for r in out.intake}
    assert statuses["x-empty"] is IntakeStatus.EMPTY and statuses["x-dup"] is IntakeStatus.DUPLICATE
    by_source = {c.source_id: c for c in contributions}
    for ref in [q for t in out.themes for q in t.quotes] + [d.source for d in out.draft]:
        assert by_source[ref.source_id].text[ref.start : ref.end] == ref.text
    first = contributions[0]
    for theme in out.themes:
        if any(a.source_id == first.source_id and a.theme_id == theme.theme_id for a in out.assignments):
            assert "DX2" in theme.delegates, "the duplicate's delegate counts for the themes of its text"


def test_cancel_and_resume_through_json_equals_an_uninterrupted_run(engine, seeded, result):
    contributions, _ = seeded
    config = SynthesisConfig(embed_batch=8)
    reference = to_dict(engine.run(engine.start("item-7", contributions, config)))
    saved: list[str] = []
    seen: list[Progress] = []
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.step is Step.EMBED and p.done == 2:
            cancel.set()

    state = engine.start("item-7", contributions, config)
    with pytest.raises(Cancelled):
        engine.run(state, cancel=cancel, progress=progress, checkpoint=lambda s: saved.append(s.to_json()))
    restored = JobState.from_json(saved[-1])  # what a job runner would load after a restart
    assert restored.step is Step.EMBED and 0 < len(restored.embeddings) < len(restored.embed_texts)
    assert {p.step for p in seen} >= {Step.SEGMENT, Step.EMBED}
    resumed = engine.run(restored, checkpoint=lambda s: saved.append(s.to_json()))
    assert to_dict(resumed) == reference
    # a state saved after the end gives the result again without recomputing
    done = JobState.from_json(saved[-1])
    assert done.step is Step.DONE and to_dict(engine.run(done)) == reference


def test_cancel_during_segmentation_then_resume(engine, seeded):
    contributions, _ = seeded
    cancel = threading.Event()
    saved = []

    def progress(p: Progress) -> None:
        if p.step is Step.SEGMENT and p.done == 5:
            cancel.set()

    state = engine.start("item-7", contributions)
    with pytest.raises(Cancelled, match="segment"):
        engine.run(state, cancel=cancel, progress=progress, checkpoint=lambda s: saved.append(s.to_json()))
    restored = JobState.from_json(saved[-1])
    assert restored.segmented == 5
    assert to_dict(engine.run(restored)) == to_dict(engine.run(engine.start("item-7", contributions)))


def test_draft_template_in_vietnamese_and_english(result):
    from controller.synthesis.template import render_draft

    assert result.draft_text.startswith("Tổng hợp ý kiến đóng góp")
    assert "Vấn đề 1:" in result.draft_text and "đại biểu nêu" in result.draft_text
    english = render_draft(result, language="en")
    assert english.startswith("Synthesis of the contributions") and "Theme 1:" in english
    assert "[DB" in english  # every sentence carries its reference


def test_state_refuses_unknown_settings_and_formats():
    with pytest.raises(ValueError, match="unknown synthesis settings: colour"):
        SynthesisConfig.from_dict({"colour": 1})
    with pytest.raises(ValueError, match="format"):
        JobState.from_json('{"format": 99}')


def test_a_sentence_embeds_the_same_in_any_batch(embedder):
    """What makes a resumed run exact: each text's vector does not depend on its batch."""
    import numpy as np

    texts = [bank[0] for bank in TOPICS.values()]
    whole = embedder.embed(texts)
    parts = np.vstack([embedder.embed(texts[:1]), embedder.embed(texts[1:4]), embedder.embed(texts[4:])])
    assert np.array_equal(whole, parts)
    assert np.allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)


def test_progress_reports_each_step_in_order_up_to_its_total(engine, seeded):
    contributions, _ = seeded
    seen: list[Progress] = []
    engine.run(engine.start("item-7", contributions, SynthesisConfig(embed_batch=8)), progress=seen.append)
    steps = [p.step for p in seen]
    assert steps == sorted(steps, key=list(Step).index)
    assert steps[0] is Step.INTAKE and steps[-1] is Step.THEMES
    for step in (Step.INTAKE, Step.SEGMENT, Step.EMBED):
        mine = [p for p in seen if p.step is step]
        assert [p.done for p in mine] == list(range(mine[0].done, mine[-1].done + 1))
        assert mine[-1].done == mine[-1].total
    assert sum(p.step is Step.SEGMENT for p in seen) == len(contributions)


def test_cancel_after_the_last_unit_still_returns_the_result(engine, seeded):
    contributions, _ = seeded
    cancel = threading.Event()
    state = engine.start("item-7", contributions)

    def progress(p: Progress) -> None:
        if p.step is Step.THEMES:
            cancel.set()

    out = engine.run(state, cancel=cancel, progress=progress)
    assert state.step is Step.DONE and out.themes
    with pytest.raises(Cancelled, match="before it started"):
        engine.run(engine.start("item-7", contributions), cancel=cancel)

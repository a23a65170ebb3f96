"""ROUGE against cases computed by hand."""

from __future__ import annotations

import pytest

from controller.synthesis import rouge


def test_tokens_are_lower_cased_syllables_without_punctuation():
    assert rouge.tokens("Thủ tướng, Chính phủ: 5.000 người!") == [
        "thủ",
        "tướng",
        "chính",
        "phủ",
        "5",
        "000",
        "người",
    ]
    # a decomposed (NFD) text gives the same syllables as its NFC form
    assert rouge.tokens("Vie\u0302\u0323t Nam") == ["việt", "nam"]


def test_hand_computed_scores():
    cand = rouge.tokens("a b c d")
    ref = rouge.tokens("a b e d c")
    # ROUGE-1: overlap 4, P 4/4, R 4/5 -> F 8/9
    assert rouge.rouge_n(cand, ref, 1) == pytest.approx(8 / 9)
    # ROUGE-2: cand {ab, bc, cd}, ref {ab, be, ed, dc}: overlap 1 -> P 1/3, R 1/4, F 2/7
    assert rouge.rouge_n(cand, ref, 2) == pytest.approx(2 / 7)
    # LCS(a b c d, a b e d c) = 3 (a b d or a b c) -> P 3/4, R 3/5, F 2/3
    assert rouge.lcs_length(cand, ref) == 3
    assert rouge.rouge_l(cand, ref) == pytest.approx(2 / 3)


def test_clipped_counts_and_empty_inputs():
    # "the the the" vs "the": overlap clipped to 1 -> P 1/3, R 1 -> F 0.5
    assert rouge.rouge_n(["x", "x", "x"], ["x"], 1) == pytest.approx(0.5)
    assert rouge.rouge_n([], ["x"], 1) == 0.0
    assert rouge.rouge_n(["x"], ["x"], 2) == 0.0  # no bigram at all
    assert rouge.score(["a"], ["a"]) == rouge.Scores(1.0, 0.0, 1.0)


def test_best_of_two_references_per_measure_and_cap():
    cand = rouge.tokens("hội nghị thông qua nghị quyết")
    refs = [rouge.tokens("hội nghị thông qua"), rouge.tokens("nghị quyết được thông qua")]
    best = rouge.best_of(cand, refs)
    assert best.rouge1 == max(rouge.rouge_n(cand, r, 1) for r in refs)
    # ROUGE-2: 5 candidate bigrams; the first reference's 3 all match (P 3/5, R 1 -> F 0.75), the
    # second's 2 of 4 (P 2/5, R 1/2 -> F 4/9): the best is 0.75
    assert best.rouge2 == pytest.approx(0.75)
    assert rouge.cap(cand, 2) == ["hội", "nghị"]

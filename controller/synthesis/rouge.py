"""ROUGE-1/2/L F1 on lower-cased syllables, the protocol of the Vietnamese summarisation benchmark.

Text is NFC-normalised and lower-cased; its tokens are the runs of word characters (``\\w+``), so
punctuation is dropped and a Vietnamese syllable is one token. ROUGE-N counts clipped n-gram matches;
ROUGE-L uses the longest common subsequence of the two token sequences (the whole text as one sequence).
Each score is the F1 of recall and precision. :func:`best_of` takes, per measure, the best score over
several references; :func:`cap` cuts a candidate to a length budget in tokens.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Scores:
    """ROUGE F1 scores of one candidate against one reference (or the best of several)."""

    rouge1: float
    rouge2: float
    rougeL: float


def tokens(text: str) -> list[str]:
    """Lower-cased syllables of ``text``: the ``\\w+`` runs of its NFC form."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def cap(toks: list[str], budget: int) -> list[str]:
    """The first ``budget`` tokens (the protocol's length cap)."""
    return toks[:budget]


def _f1(overlap: int, n_cand: int, n_ref: int) -> float:
    if overlap == 0 or n_cand == 0 or n_ref == 0:
        return 0.0
    p, r = overlap / n_cand, overlap / n_ref
    return 2 * p * r / (p + r)


def rouge_n(cand: list[str], ref: list[str], n: int) -> float:
    """ROUGE-N F1: matches of n-grams clipped to their count in the other text."""
    c = Counter(tuple(cand[i : i + n]) for i in range(len(cand) - n + 1))
    r = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
    overlap = sum((c & r).values())
    return _f1(overlap, sum(c.values()), sum(r.values()))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row kept)."""
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(cand: list[str], ref: list[str]) -> float:
    """ROUGE-L F1 from the longest common subsequence."""
    return _f1(lcs_length(cand, ref), len(cand), len(ref))


def score(cand: list[str], ref: list[str]) -> Scores:
    """ROUGE-1, -2 and -L F1 of token lists ``cand`` against ``ref``."""
    return Scores(rouge_n(cand, ref, 1), rouge_n(cand, ref, 2), rouge_l(cand, ref))


def best_of(cand: list[str], refs: list[list[str]]) -> Scores:
    """Per measure, the best F1 of ``cand`` over ``refs``."""
    all_scores = [score(cand, r) for r in refs]
    return Scores(
        max(s.rouge1 for s in all_scores),
        max(s.rouge2 for s in all_scores),
        max(s.rougeL for s in all_scores),
    )

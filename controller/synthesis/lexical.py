"""Lexical vectors: TF-IDF over the words of each sentence, as unit rows of a sparse matrix.

Weights are ``(1 + log tf) * log(N / df)`` over the sentences of one agenda item; stop words (the list
shipped with underthesea plus congress formulas) and numbers carry no weight. Words are underthesea's
(``giáo_dục`` is one word), so two sentences share a dimension only when they share a word, not a
syllable. The same statistics give the theme labels (:func:`keywords`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

# Words that a congress contribution (or any Vietnamese text) uses for its form, not its content.
_CONGRESS_STOPWORDS = """
tôi chúng_tôi chúng_ta em anh chị ông bà các_bạn đồng_chí đại_biểu kính thưa xin cảm_ơn trân_trọng
đề_nghị kiến_nghị ý_kiến nhất_trí đồng_ý cho_rằng thấy cũng rất nữa việc vấn_đề nội_dung như
về theo với còn thì nên cần phải hơn nhất mỗi nhiều ít lại đang vẫn hết hay hoặc nếu vì bởi do nhưng
tuy_nhiên đồng_thời ngoài_ra bên_cạnh trên dưới sau trước giữa cùng hiện_nay thời_gian tới qua vừa
nhằm đây kia ấy nào gì ai sao bao_giờ đâu thế vậy đều từng luôn chưa mới đối_với tại bị bằng
cuộc sự cái chiếc loại tiến_hành thực_hiện đưa_ra cho_biết nói biết cho_hay khoảng gồm có_thể
"""
CONGRESS_STOPWORDS = frozenset(_CONGRESS_STOPWORDS.split())


def build_vocabulary(
    docs: Iterable[Sequence[str]], stopwords: frozenset[str]
) -> tuple[dict[str, int], np.ndarray]:
    """Word index and inverse document frequencies of the content words of ``docs``."""
    df: Counter[str] = Counter()
    n = 0
    for words in docs:
        n += 1
        df.update({w for w in words if _content(w, stopwords)})
    vocab = {w: i for i, w in enumerate(sorted(df))}
    idf = np.array([math.log((n + 1) / df[w]) for w in sorted(df)], dtype=np.float64)
    return vocab, idf


def _content(word: str, stopwords: frozenset[str]) -> bool:
    return not (
        word in stopwords or word in CONGRESS_STOPWORDS or word.replace("_", "").isdigit() or len(word) < 2
    )


def tfidf(docs: Sequence[Sequence[str]], vocab: dict[str, int], idf: np.ndarray) -> sparse.csr_matrix:
    """Unit-length TF-IDF rows (a row without content words stays zero)."""
    rows, cols, vals = [], [], []
    for r, words in enumerate(docs):
        counts = Counter(w for w in words if w in vocab)
        if not counts:
            continue
        weights = {vocab[w]: (1 + math.log(c)) * idf[vocab[w]] for w, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        for col, v in weights.items():
            rows.append(r)
            cols.append(col)
            vals.append(v / norm)
    return sparse.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(len(docs), len(vocab)))


def keywords(
    groups: Sequence[Sequence[Sequence[str]]], vocab: dict[str, int], top: int = 4
) -> list[list[str]]:
    """Class-based TF-IDF keywords of each group of sentences (words frequent in it, rare elsewhere)."""
    counts = [Counter(w for words in g for w in words if w in vocab) for g in groups]
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    avg = max(1.0, sum(total.values()) / max(len(groups), 1))
    out = []
    for c in counts:
        size = sum(c.values()) or 1
        scored = sorted(((v / size) * math.log(1 + avg / total[w]), w) for w, v in c.items() if v >= 1)
        out.append([w.replace("_", " ") for _, w in sorted(scored, key=lambda x: (-x[0], x[1]))[:top]])
    return out

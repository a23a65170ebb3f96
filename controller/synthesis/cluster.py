"""Themes by average-linkage clustering with a similarity threshold.

Two groups of sentences merge while the *average* cosine similarity between a sentence of one and a
sentence of the other is at least ``threshold``. With unit vectors that average is exact from the
groups' vector sums: ``avg(A, B) = (ΣA · ΣB) / (|A| |B|)``, so the clustering keeps one sum per group,
never the pairwise matrix of all sentences. Large inputs are clustered in chunks of ``chunk`` sentences
(in input order), and the groups of all chunks are then merged by the same rule: groups formed inside a
chunk stay together, which is the only approximation, and it only matters above ``chunk`` sentences.
Ties break on the lower index, so the result is deterministic.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def _row_avg(gram: np.ndarray, counts: np.ndarray, alive: np.ndarray, r: int) -> np.ndarray:
    row = gram[r] / (counts[r] * counts)
    row[~alive] = -np.inf
    row[r] = -np.inf
    return row


def _agglomerate(gram: np.ndarray, counts: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage merge of groups, from the Gram matrix of their vector sums and their sizes."""
    k = len(counts)
    members: list[list[int]] = [[i] for i in range(k)]
    if k < 2:
        return members
    counts = counts.astype(np.float32, copy=True)
    alive = np.ones(k, bool)
    best_idx = np.empty(k, np.int64)
    best_val = np.empty(k, np.float32)
    for lo in range(0, k, 512):
        block = gram[lo : lo + 512] / np.outer(counts[lo : lo + 512], counts)
        block[np.arange(len(block)), np.arange(lo, lo + len(block))] = -np.inf
        best_idx[lo : lo + 512] = np.argmax(block, axis=1)
        best_val[lo : lo + 512] = block[np.arange(len(block)), best_idx[lo : lo + 512]]
    while True:
        i = int(np.argmax(best_val))
        if best_val[i] < threshold:
            break
        j = int(best_idx[i])
        i, j = min(i, j), max(i, j)
        members[i].extend(members[j])
        members[j] = []
        counts[i] += counts[j]
        gram[i, :] += gram[j, :]
        gram[:, i] = gram[i, :]
        alive[j] = False
        best_val[j] = -np.inf
        # a row's best can only have fallen if it pointed at i or j (an average never exceeds its parts)
        stale = np.flatnonzero(alive & ((best_idx == i) | (best_idx == j)))
        for r in {*stale.tolist(), i}:
            row = _row_avg(gram, counts, alive, r)
            best_idx[r] = int(np.argmax(row))
            best_val[r] = row[best_idx[r]]
    return [m for m in members if m]


def _gram(dense: np.ndarray, lexical: sparse.csr_matrix | None, weight: float) -> np.ndarray:
    """Weighted Gram matrix ``w D Dᵀ + (1 - w) L Lᵀ`` (float32, dense)."""
    gram = (dense @ dense.T).astype(np.float32)
    if lexical is None:
        return gram
    gram *= weight
    gram += (1.0 - weight) * (lexical @ lexical.T).toarray().astype(np.float32)
    return gram


def cluster(
    dense: np.ndarray,
    threshold: float,
    lexical: sparse.csr_matrix | None = None,
    weight: float = 1.0,
    chunk: int = 2500,
) -> np.ndarray:
    """Theme label per sentence, numbered by first appearance.

    ``dense`` holds unit rows (sentence embeddings); ``lexical``, if given, unit rows of TF-IDF, and the
    similarity of two sentences is ``weight * dense_cos + (1 - weight) * lexical_cos``.
    """
    n = len(dense)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    dense = np.asarray(dense, dtype=np.float32)
    groups: list[list[int]] = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        gram = _gram(dense[lo:hi], None if lexical is None else lexical[lo:hi], weight)
        for g in _agglomerate(gram, np.ones(hi - lo), threshold):
            groups.append([lo + x for x in g])
    if n > chunk:
        rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        cols = np.fromiter((x for g in groups for x in g), dtype=np.int64, count=n)
        member = sparse.csr_matrix((np.ones(n, np.float32), (rows, cols)), shape=(len(groups), n))
        gram = _gram(np.asarray(member @ dense), None if lexical is None else member @ lexical, weight)
        merged = _agglomerate(gram, np.array([len(g) for g in groups], dtype=np.float32), threshold)
        groups = [[x for gi in m for x in groups[gi]] for m in merged]
    groups.sort(key=min)
    for label, g in enumerate(groups):
        labels[g] = label
    return labels

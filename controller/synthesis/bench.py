"""``bench synthesis``: extractive drafting on Vietnamese multi-document clusters, with baselines.

Data: the layout of the VietnameseMDS corpus (``cluster_N/ID.body.txt`` documents, two references
``cluster_N.ref1.txt`` / ``.ref2.txt``). Each document is one contribution (its own "delegate"); our
draft is the engine's sentence selection in priority order. In the same run, on the same underthesea
sentences: *lead* (the first sentence of every document in file order, then the second, ...), *LexRank*
(sumy, top-ranked sentences in document order) and *human* (the second reference against the first).
Scores are ROUGE-1/2/L F1 on lower-cased syllables, best of the two references, every output capped at
the mean reference length (:mod:`.rouge`). ``purity``/``ari``: all documents of all clusters pooled as one
item; each document takes the theme holding most of its sentences; compared with the cluster labels.

Split: odd cluster numbers are the development half (the settings in ``SynthesisConfig`` were chosen
on them), even numbers are held out; ``split`` in the JSON reports both halves.

``--congress N`` instead times one synthetic agenda item: N contributions of about 400 words assembled
from the corpus sentences (seeded), with delegate ids, delegations, salutations and closing formulas.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import rouge
from .embed import CachingEmbedder, E5Embedder
from .engine import Engine
from .job import SynthesisConfig
from .records import Contribution, SourceKind
from .segment import Segmenter


@dataclass
class Cluster:
    """One cluster: its number, documents (name, text) and references."""

    number: int
    docs: list[tuple[str, str]]
    refs: list[str]


def load(data: Path) -> list[Cluster]:
    """Clusters of ``data`` in numeric order."""
    if not data.is_dir():
        raise SystemExit(f"no data folder {data}")
    out = []
    for d in sorted(data.glob("cluster_*"), key=lambda p: int(p.name.split("_")[1])):
        docs = [
            (p.name.removesuffix(".body.txt"), p.read_text(encoding="utf-8-sig"))
            for p in sorted(d.glob("*.body.txt"))
            if not p.name.endswith(".tok.txt")
        ]
        refs = [(d / f"{d.name}.ref{i}.txt").read_text(encoding="utf-8-sig") for i in (1, 2)]
        out.append(Cluster(int(d.name.split("_")[1]), docs, refs))
    if not out:
        raise SystemExit(f"no cluster_N folders in {data}")
    return out


class _Words:
    """sumy tokenizer: underthesea words."""

    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter

    def to_words(self, text: str) -> list[str]:
        return self.segmenter.words(text)


def lexrank(sentences: list[str], budget: int, segmenter: Segmenter) -> list[str]:
    """The fewest top-ranked sentences (sumy LexRank) reaching ``budget`` tokens, in document order."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph
    from sumy.models.dom import Sentence as SumySentence
    from sumy.summarizers.lex_rank import LexRankSummarizer

    tok = _Words(segmenter)
    doc = ObjectDocumentModel([Paragraph([SumySentence(s, tok) for s in sentences])])
    summarizer = LexRankSummarizer()
    lo, hi = 1, len(sentences)
    while lo < hi:  # smallest count whose summary reaches the budget
        mid = (lo + hi) // 2
        if sum(len(rouge.tokens(str(s))) for s in summarizer(doc, mid)) >= budget:
            hi = mid
        else:
            lo = mid + 1
    return [str(s) for s in summarizer(doc, lo)]


def lead(doc_sentences: list[list[str]]) -> list[str]:
    """First sentence of each document in turn, then the second, ..."""
    out = []
    for i in range(max((len(s) for s in doc_sentences), default=0)):
        out += [s[i] for s in doc_sentences if i < len(s)]
    return out


def _score(sentences: list[str], refs: list[list[str]], budget: int) -> rouge.Scores:
    return rouge.best_of(rouge.cap(rouge.tokens(" ".join(sentences)), budget), refs)


def _ari(a: list, b: list) -> float:
    from collections import Counter
    from math import comb

    pairs = sum(comb(v, 2) for v in Counter(zip(a, b, strict=False)).values())
    sa = sum(comb(v, 2) for v in Counter(a).values())
    sb = sum(comb(v, 2) for v in Counter(b).values())
    expected = sa * sb / comb(len(a), 2)
    top = (sa + sb) / 2
    return (pairs - expected) / (top - expected) if top != expected else 1.0


def _purity(pred: list, truth: list) -> float:
    from collections import Counter

    groups: dict = {}
    for p, t in zip(pred, truth, strict=True):
        groups.setdefault(p, []).append(t)
    return sum(Counter(g).most_common(1)[0][1] for g in groups.values()) / len(pred)


def _mean(xs: list[float]) -> float:
    return round(float(np.mean(xs)), 4) if xs else 0.0


def run(data: Path, limit: int | None = None, threads: int | None = None, log=None) -> dict:
    """The benchmark on ``data`` (first ``limit`` clusters if given)."""
    t0 = time.perf_counter()
    clusters = load(data)[:limit]
    segmenter = Segmenter()
    embedder = CachingEmbedder(E5Embedder(threads))
    engine = Engine(segmenter, embedder)
    rows = []
    for n, cl in enumerate(clusters, 1):
        refs = [rouge.tokens(r) for r in cl.refs]
        budget = round(sum(map(len, refs)) / 2)
        contributions = [
            Contribution(name, f"cluster_{cl.number}", SourceKind.WRITTEN, name, text)
            for name, text in cl.docs
        ]
        ours = engine.run(
            engine.start(f"cluster_{cl.number}", contributions, SynthesisConfig(draft_words=budget))
        )
        doc_sents = [[text[s.start : s.end] for s in segmenter.sentences(text)] for _, text in cl.docs]
        flat = [s for d in doc_sents for s in d]
        rows.append(
            {
                "cluster": cl.number,
                "ours": _score([d.source.text for d in ours.draft], refs, budget),
                "lead": _score(lead(doc_sents), refs, budget),
                "lexrank": _score(lexrank(flat, budget, segmenter), refs, budget),
                "human": rouge.score(rouge.cap(refs[1], budget), refs[0]),
            }
        )
        if log:
            log(
                f"cluster {n}/{len(clusters)}: R-2 ours {rows[-1]['ours'].rouge2:.3f} "
                f"lead {rows[-1]['lead'].rouge2:.3f}"
            )
    # theme clustering of all documents pooled as one item
    pooled, truth = [], []
    for cl in clusters:
        for name, text in cl.docs:
            pooled.append(Contribution(name, "", SourceKind.WRITTEN, f"{cl.number}/{name}", text))
            truth.append(cl.number)
    pooled_result = engine.run(
        engine.start("pooled", pooled, SynthesisConfig(draft_words=0)),
        progress=(lambda p: log(f"pooled: {p.step} {p.done}/{p.total}")) if log else None,
    )
    votes: dict[str, list[int]] = {}
    for a in pooled_result.assignments:
        votes.setdefault(a.source_id, []).append(a.theme_id)
    pred = []
    for i, c in enumerate(pooled):
        v = votes.get(c.source_id, [])
        pred.append(max(sorted(set(v)), key=v.count) if v else -1 - i)  # a document without sentences: alone

    def measure(sel: list[dict]) -> dict:
        return {
            "clusters": len(sel),
            "rouge1": _mean([r["ours"].rouge1 for r in sel]),
            "rouge2": _mean([r["ours"].rouge2 for r in sel]),
            "rougeL": _mean([r["ours"].rougeL for r in sel]),
            "lead_rouge2": _mean([r["lead"].rouge2 for r in sel]),
            "lexrank_rouge2": _mean([r["lexrank"].rouge2 for r in sel]),
            "human_rouge2": _mean([r["human"].rouge2 for r in sel]),
        }

    result = measure(rows)
    result.update(
        {
            "lead_rouge1": _mean([r["lead"].rouge1 for r in rows]),
            "lead_rougeL": _mean([r["lead"].rougeL for r in rows]),
            "purity": round(_purity(pred, truth), 4),
            "ari": round(_ari(pred, truth), 4),
            "themes": len(pooled_result.themes),
            "pooled_embedded_from_first_syllables": pooled_result.stats.get("embedded_from_first_syllables"),
            "split": {
                "dev_odd": measure([r for r in rows if r["cluster"] % 2 == 1]),
                "heldout_even": measure([r for r in rows if r["cluster"] % 2 == 0]),
            },
            "threshold": SynthesisConfig().threshold,
            "seconds": round(time.perf_counter() - t0, 1),
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )
    return result


PROVINCES = (
    "Hà Nội",
    "Hải Phòng",
    "Đà Nẵng",
    "TP. Hồ Chí Minh",
    "Cần Thơ",
    "Nghệ An",
    "Thanh Hóa",
    "Quảng Ninh",
    "Lào Cai",
    "Điện Biên",
    "Đắk Lắk",
    "Khánh Hòa",
    "An Giang",
    "Cà Mau",
    "Huế",
)
OPENINGS = (
    "Kính thưa Đoàn Chủ tịch, kính thưa Đại hội.",
    "Kính thưa các vị đại biểu.",
    "Thưa Chủ tọa, thưa các đồng chí.",
)
CLOSINGS = ("Xin trân trọng cảm ơn.", "Tôi xin hết ý kiến, xin cảm ơn.", "Xin cảm ơn Đại hội.")


def congress_corpus(
    clusters: list[Cluster], segmenter: Segmenter, contributions: int = 500, words: int = 400, seed: int = 17
) -> list[Contribution]:
    """A synthetic agenda item: each delegate opens with a salutation, speaks on two to four corpus
    topics in runs of consecutive sentences, and closes with thanks (seeded, so every run is the same)."""
    rng = random.Random(seed)
    topics = [[[d[s.start : s.end] for s in segmenter.sentences(d)] for _, d in cl.docs] for cl in clusters]
    popularity = [1.0 / (1 + i) ** 0.8 for i in range(len(topics))]  # a few topics raised by many
    out = []
    for n in range(contributions):
        parts = [rng.choice(OPENINGS)]
        chosen = rng.choices(range(len(topics)), weights=popularity, k=rng.randint(2, 4))
        budget = words - 15
        per_topic = budget // len(chosen)
        for t in chosen:
            doc = rng.choice(topics[t])
            i = rng.randrange(max(1, len(doc) - 3))
            got = 0
            while i < len(doc) and got < per_topic:
                parts.append(doc[i])
                got += len(rouge.tokens(doc[i]))
                i += 1
        parts.append(rng.choice(CLOSINGS))
        province = PROVINCES[n % len(PROVINCES)]
        out.append(
            Contribution(
                f"DB{n + 1:04d}",
                f"Đoàn {province}",
                SourceKind.TRANSCRIPT if n % 3 == 0 else SourceKind.WRITTEN,
                f"item-1/{n + 1}",
                " ".join(parts),
            )
        )
    return out


def run_congress(data: Path, contributions: int, words: int, threads: int | None = None, log=None) -> dict:
    """Time one synthetic agenda item of ``contributions`` x ``words`` (model loading included)."""
    clusters = load(data)
    t0 = time.perf_counter()
    segmenter = Segmenter()
    corpus = congress_corpus(clusters, segmenter, contributions, words)
    t_corpus = time.perf_counter() - t0
    t1 = time.perf_counter()
    engine = Engine(segmenter, E5Embedder(threads))
    steps: dict[str, float] = {}
    last = [time.perf_counter()]

    def progress(p) -> None:
        now = time.perf_counter()
        steps[p.step.value] = round(steps.get(p.step.value, 0.0) + now - last[0], 2)
        last[0] = now
        if log and p.done == p.total:
            log(f"{p.step} done")

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    result = engine.run(engine.start("item-1", corpus), progress=progress)
    seconds = time.perf_counter() - t1
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "contributions": len(corpus),
        "words": sum(len(rouge.tokens(c.text)) for c in corpus),
        "sentences": result.stats["sentences"],
        "themes": len(result.themes),
        "themes_2plus": sum(1 for t in result.themes if t.delegate_count >= 2),
        "top_theme_delegates": result.themes[0].delegate_count if result.themes else 0,
        "draft_sentences": len(result.draft),
        "embedded_from_first_syllables": result.stats.get("embedded_from_first_syllables"),
        "steps_seconds": steps,
        "corpus_seconds": round(t_corpus, 1),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # the run's own CPU time (both cores count): less load-dependent
        "load_average": round(os.getloadavg()[0], 1),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m controller.synthesis.bench --data DIR [--json]``."""
    ap = argparse.ArgumentParser(prog="congress bench synthesis", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, required=True, help="folder of cluster_N/ folders (VietnameseMDS layout)"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--limit", type=int, help="only the first N clusters")
    ap.add_argument("--threads", type=int, help="embedding threads (default: all cores)")
    ap.add_argument(
        "--congress", type=int, metavar="N", help="time one synthetic item of N contributions instead"
    )
    ap.add_argument(
        "--words", type=int, default=400, help="words per synthetic contribution (with --congress)"
    )
    args = ap.parse_args(argv)
    log = None if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    if args.congress:
        out = run_congress(args.data, args.congress, args.words, args.threads, log)
    else:
        out = run(args.data, args.limit, args.threads, log)
    print(json.dumps(out, ensure_ascii=False) if args.json else json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

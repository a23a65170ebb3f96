"""Accuracy protocols: LFW pairs (N-fold) and open-set 1:N identification from CSV lists.

A pipeline is anything with ``embed_image(bgr) -> embedding | None`` (the largest face of the image,
L2-normalised, or None when no face is found), so our engine and the dlib reference are measured by
the same code on the same data. An image with no face counts against the pipeline: a pair with a
missing face is judged "different", a probe with no face is a miss (or a correct rejection for an
impostor).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from congress.errors import ConfigError, ImageError
from congress.faces.gallery import Gallery, threshold_for_far
from congress.faces.imageio import decode_image

LOG = logging.getLogger(__name__)
Embedder = Callable[[np.ndarray], np.ndarray | None]
FPIR_POINTS = (0.001, 0.01, 0.05)


class EmbeddingCache:
    """Embeds each image path once; remembers which images had no face."""

    def __init__(self, embed_image: Embedder) -> None:
        self.embed_image = embed_image
        self.cache: dict[Path, np.ndarray | None] = {}

    def __call__(self, path: Path) -> np.ndarray | None:
        if path not in self.cache:
            try:
                self.cache[path] = self.embed_image(decode_image(path))
            except ImageError as exc:
                LOG.warning("skipping %s: %s", path, exc)
                self.cache[path] = None
        return self.cache[path]

    @property
    def no_face_images(self) -> int:
        return sum(v is None for v in self.cache.values())


@dataclass(frozen=True)
class Pair:
    first: Path
    second: Path
    same: bool
    fold: int


def check_present(paths: list[Path], listed_in: Path, where: str) -> None:
    """Refuse a list whose images are not there: a wrong folder must not become a figure."""
    missing = [p for p in dict.fromkeys(paths) if not p.is_file()]
    if not missing:
        return
    total = len(set(paths))
    if len(missing) == total:
        raise ConfigError(f"none of the {total} images named in {listed_in} is under {where} "
                          f"(the first would be {missing[0]})", hint=HINT_FOLDER)
    raise ConfigError(f"{len(missing)} of the {total} images named in {listed_in} are missing "
                      f"(the first: {missing[0]})", hint="complete the image folder or drop those lines")


HINT_FOLDER = "give the folder that holds one folder per person (name/name_0001.jpg)"


def check_folds(folds: int, available: int, pairs_file: Path) -> None:
    """N-fold needs at least 2 folds (each fold's threshold is chosen on the others), each non-empty."""
    if folds < 2:
        raise ConfigError(f"--folds {folds}: at least 2 folds are needed (each fold's threshold is "
                          "chosen on the other folds)", hint="use --folds 10 for LFW's protocol")
    if folds > available:
        raise ConfigError(f"--folds {folds}: {pairs_file} can be cut into at most {available} folds",
                          hint=f"use --folds {available} or fewer")


def read_pairs(pairs_file: Path, images: Path, folds: int) -> list[Pair]:
    """LFW ``pairs.txt``: header ``sets<TAB>n``, then per set n same and n different pairs.

    Every set's same and different pairs are cut into ``folds`` equal consecutive parts (one set), or
    the sets are dealt into ``folds`` folds. Refuses fewer than 2 folds, more folds than the file can
    fill, and a list whose images are not in ``images``.
    """
    def image(name: str, number: str) -> Path:
        return images / name / f"{name}_{int(number):04d}.jpg"

    try:
        text = pairs_file.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read pairs file {pairs_file}: {exc.strerror or exc}") from exc
    try:
        lines = [ln.split() for ln in text.splitlines() if ln.strip()]
        sets, per_set = int(lines[0][0]), int(lines[0][1])
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"cannot read pairs file {pairs_file}: {exc}",
                          hint="the first line must be 'sets<TAB>pairs per set'") from exc
    pairs, rows = [], lines[1:]
    if sets < 1 or per_set < 1:
        raise ConfigError(f"{pairs_file}: the header must name at least one set of at least one pair")
    if len(rows) != sets * per_set * 2:
        raise ConfigError(f"{pairs_file}: expected {sets * per_set * 2} pairs, found {len(rows)}")
    check_folds(folds, per_set if sets == 1 else sets, pairs_file)
    for index, row in enumerate(rows):
        within = index % per_set
        fold = (within * folds // per_set) if sets == 1 else (index // (2 * per_set)) % folds
        if len(row) == 3:
            pairs.append(Pair(image(row[0], row[1]), image(row[0], row[2]), True, fold))
        elif len(row) == 4:
            pairs.append(Pair(image(row[0], row[1]), image(row[2], row[3]), False, fold))
        else:
            raise ConfigError(f"{pairs_file}: line {index + 2} is not 'name i j' or 'a i b j'")
    if not images.is_dir():
        raise ConfigError(f"the image folder {images} does not exist", hint=HINT_FOLDER)
    check_present([p for pair in pairs for p in (pair.first, pair.second)], pairs_file, str(images))
    return pairs


def _best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    finite = np.unique(scores[np.isfinite(scores)])
    if finite.size == 0:
        raise ConfigError("no pair of these folds has a face in both images: no threshold can be chosen",
                          hint="check that the images are face photos the detector finds")
    candidates = np.concatenate([[finite[0] - 1e-6], (finite[:-1] + finite[1:]) / 2, [finite[-1] + 1e-6]])
    accuracy = [np.mean((scores >= t) == same) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def evaluate_pairs(pairs: list[Pair], embed: EmbeddingCache, folds: int) -> dict:
    """Accuracy (mean over folds), its std, mean chosen threshold and pairs with a missing face."""
    scores, no_face = [], 0
    for pair in pairs:
        a, b = embed(pair.first), embed(pair.second)
        if a is None or b is None:
            no_face += 1
            scores.append(-np.inf)
        else:
            scores.append(float(a @ b))
    scores = np.array(scores)
    same = np.array([p.same for p in pairs])
    fold_of = np.array([p.fold for p in pairs])
    accuracies, thresholds = [], []
    for fold in range(folds):
        test = fold_of == fold
        if not test.any():
            continue
        threshold = _best_threshold(scores[~test], same[~test])  # read_pairs: >= 2 non-empty folds
        thresholds.append(threshold)
        accuracies.append(float(np.mean((scores[test] >= threshold) == same[test])))
    return {
        "accuracy": round(float(np.mean(accuracies)), 4),
        "std": round(float(np.std(accuracies)), 4),
        "threshold": round(float(np.mean(thresholds)), 4),
        "no_face": no_face,
        "pairs": len(pairs),
        "folds": len(accuracies),
    }


def read_list(csv_file: Path) -> list[tuple[Path, str]]:
    """``path,identity`` rows, paths relative to the CSV file."""
    try:
        with csv_file.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        listed = [(csv_file.parent / r["path"], r["identity"]) for r in rows]
    except (OSError, KeyError, TypeError, csv.Error) as exc:
        raise ConfigError(f"cannot read {csv_file}: {exc}", hint="columns must be path,identity") from exc
    if not listed:
        raise ConfigError(f"{csv_file} lists no images", hint="columns must be path,identity")
    check_present([p for p, _ in listed], csv_file, "the paths it gives (relative to the file)")
    return listed


def open_set_scores(enroll: list[tuple[Path, str]], probes: list[tuple[Path, str]], embed: EmbeddingCache,
                    enroll_embed: EmbeddingCache | None = None):
    """Gallery from ``enroll`` (embedded by ``enroll_embed`` if given); per probe (is_genuine, top-1
    correct, top-1 score)."""
    gallery = Gallery()
    for path, identity in enroll:
        vector = (enroll_embed or embed)(path)
        if vector is not None:
            gallery.add(identity, vector)
    results = []
    for path, identity in probes:
        vector = embed(path)
        genuine = identity in gallery
        if vector is None or len(gallery) == 0:
            results.append((genuine, False, -np.inf))
            continue
        match = gallery.search(vector)
        results.append((genuine, match.identity == identity, match.score))
    return gallery, results


def evaluate_open_set(enroll: list[tuple[Path, str]], probes: list[tuple[Path, str]],
                      embed: EmbeddingCache, enroll_embed: EmbeddingCache | None = None,
                      distractors: set[str] | frozenset[str] = frozenset()) -> dict:
    """rank-1 rate and TPIR at FPIR 0.1 %, 1 %, 5 % (impostor = probe whose identity is not enrolled).

    ``distractors`` names enrolled identities that are only there to make the gallery venue-sized; a
    probe of one of them would not be a fair impostor, so such probes are refused."""
    if any(i in distractors for _, i in probes):
        raise ConfigError("a probe belongs to a distractor identity",
                          hint="distractors must be people who appear in no probe")
    gallery, results = open_set_scores(enroll, probes, embed, enroll_embed)
    genuine = [(ok, s) for g, ok, s in results if g]
    impostor = np.array([s for g, _, s in results if not g])
    if not genuine:
        raise ConfigError("no probe belongs to an enrolled identity")
    out = {"rank1": round(sum(ok for ok, _ in genuine) / len(genuine), 4)}
    for fpir in FPIR_POINTS:
        if impostor.size:
            threshold = threshold_for_far(impostor, fpir)
            hits = sum(ok and s >= threshold for ok, s in genuine)
            out[f"tpir@fpir={fpir}"] = round(hits / len(genuine), 4)
            out[f"threshold@fpir={fpir}"] = round(threshold, 4)
        else:
            out[f"tpir@fpir={fpir}"] = None
    no_face = embed.no_face_images + (enroll_embed.no_face_images if enroll_embed else 0)
    out.update(no_face=no_face, genuine_probes=len(genuine), impostor_probes=int(impostor.size),
               enrolled=len({i for _, i in enroll}), gallery_size=len(gallery))
    return out

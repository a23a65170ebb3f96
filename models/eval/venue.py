"""Open set at venue scale: ``python -m models.eval.venue [--faces DIR] [--model sface] [--size 2000]``.

No registry package we could find ships ~1,900 distractor faces under a licence that allows it
(docs/benchmarks.md says which were checked), so the gallery is the largest the dev data gives,
built honestly, and the 2,000-person figure is an extrapolation that is checked against the
measurement:

* **measured**: LFW-dev's 100 enrolled people and ``celebs``' 13 (first photo enrolled, the others
  probed), plus the 200 one-photo LFW-dev people rotated in 5 folds: in each fold 40 are impostor
  probes and the other 160 are enrolled as distractors (gallery: 273 identities). Genuine probes are
  counted once (fold 0), impostor probes once each (in their own fold).
* **extrapolated to N identities**: each probe's non-mated scores (against every enrolled identity
  but its own) are fitted with a normal distribution (mean μ, std σ): the chance that none of N
  non-mated identities reaches a score s is Φ((s − μ)/σ)^N. An impostor is falsely identified at
  threshold t with probability 1 − Φ((t − μ)/σ)^N; a genuine probe with mated score s is a hit with
  probability [s ≥ t] · Φ((s − μ)/σ)^(N−1). The same model at the measured N reproduces the measured
  rates (``model_check``), which is what lets it be trusted at N = 2,000.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from congress.faces.evaluation import EmbeddingCache, read_list
from congress.faces.gallery import Gallery, threshold_for_far

FOLDS = 5
FPIR_POINTS = (0.001, 0.01, 0.05)
#: The extrapolation also gives the threshold for one false identification in 10,000 strangers.
EXTRA_POINTS = (0.0001,)
DEFAULT_FACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "faces"


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def lists(faces: Path) -> tuple[list, list, list]:
    """(enrolled, genuine probes, one-photo people) as (path, identity) rows."""
    lfw = faces / "lfw-dev"
    enroll = read_list(lfw / "enroll.csv")
    probes = read_list(lfw / "probes.csv")
    enrolled = {i for _, i in enroll}
    genuine = [(p, i) for p, i in probes if i in enrolled]
    singles = [(p, i) for p, i in probes if i not in enrolled]
    for folder in sorted((faces / "celebs").glob("id*")):
        photos = sorted(folder.glob("*.jpg"))
        if len(photos) >= 2:
            enroll.append((photos[0], f"celebs-{folder.name}"))
            genuine += [(p, f"celebs-{folder.name}") for p in photos[1:]]
    return enroll, genuine, singles


def scores(gallery: Gallery, vector: np.ndarray | None, identity: str) -> tuple[float, np.ndarray]:
    """(mated score or -inf, non-mated scores) of one probe."""
    if vector is None:
        return -np.inf, np.zeros(0)
    per_identity = gallery.scores(vector)
    mated = per_identity.pop(identity, -np.inf)
    return mated, np.array(list(per_identity.values()))


def collect(faces: Path, embed: EmbeddingCache, enroll_embed: EmbeddingCache) -> dict:
    enroll, genuine, singles = lists(faces)
    order = np.random.default_rng(16).permutation(len(singles))
    folds = [[singles[i] for i in order[f::FOLDS]] for f in range(FOLDS)]
    gen, imp = [], []
    for f, held_out in enumerate(folds):
        gallery = Gallery()
        for path, identity in enroll + [r for g, fold in enumerate(folds) if g != f for r in fold]:
            vector = enroll_embed(path)
            if vector is not None:
                gallery.add(identity, vector)
        for path, identity in held_out:
            imp.append(scores(gallery, embed(path), identity))
        if f == 0:
            gen = [scores(gallery, embed(path), identity) for path, identity in genuine]
    return {"gallery_size": len(gallery), "genuine": gen, "impostor": imp,
            "no_face": embed.no_face_images + enroll_embed.no_face_images}


def measured(data: dict) -> dict:
    """rank-1 and TPIR at FPIR points, from the measured top scores."""
    imp_top = np.array([nm.max() if nm.size else -np.inf for _, nm in data["impostor"]])
    gen = [(m, nm.max() if nm.size else -np.inf) for m, nm in data["genuine"]]
    out = {"rank1": round(float(np.mean([m > o for m, o in gen])), 4)}
    for fpir in FPIR_POINTS:
        t = threshold_for_far(imp_top, fpir)
        out[f"tpir@fpir={fpir}"] = round(float(np.mean([m > o and m >= t for m, o in gen])), 4)
    return out


def _fit(nonmated: np.ndarray) -> tuple[float, float]:
    return float(nonmated.mean()), float(max(nonmated.std(), 1e-4))


def extrapolated(data: dict, size: int) -> dict:
    """The same figures for a gallery of ``size`` identities, from the per-probe normal model."""
    imp_fit = [_fit(nm) for _, nm in data["impostor"] if nm.size]
    gen_fit = [(m, *_fit(nm)) for m, nm in data["genuine"] if nm.size]
    grid = np.linspace(-0.2, 1.0, 1201)

    def fpir(t: float) -> float:
        return float(np.mean([1 - _phi(np.array([(t - mu) / sd]))[0] ** size for mu, sd in imp_fit]))

    fp = np.array([fpir(t) for t in grid])
    out = {"gallery_size": size}
    mated = np.array([m for m, _, _ in gen_fit])
    hit_all = np.array([_phi(np.array([(m - mu) / sd]))[0] ** (size - 1) if np.isfinite(m) else 0.0
                        for m, mu, sd in gen_fit])
    out["rank1"] = round(float(hit_all.mean()), 4)
    for point in FPIR_POINTS + EXTRA_POINTS:
        if not np.any(fp <= point):  # no cosine threshold reaches this FPIR at this size
            out[f"tpir@fpir={point}"] = out[f"threshold@fpir={point}"] = None
            continue
        t = float(grid[np.argmax(fp <= point)])
        out[f"tpir@fpir={point}"] = round(float(np.mean(hit_all * (mated >= t))), 4)
        out[f"threshold@fpir={point}"] = round(t, 3)
    return out


def main(argv: list[str] | None = None) -> int:
    from congress.faces import FaceEngine

    parser = argparse.ArgumentParser(prog="python -m models.eval.venue", description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--model", default="sface", choices=["sface", "dlib-resnet"])
    parser.add_argument("--embedder", choices=["int8", "float"], help="default: the door's precision")
    parser.add_argument("--size", type=int, default=2000, help="gallery size to extrapolate to")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    engine = FaceEngine(model=args.model, embedder=args.embedder, threads=args.threads)

    def probe(bgr):
        face = engine.central_face(bgr)
        return None if face is None else face.embedding

    def enroll(bgr):
        face = engine.central_face(bgr, flip=True)
        return None if face is None else face.embedding

    data = collect(args.faces, EmbeddingCache(probe), EmbeddingCache(enroll))
    n = data["gallery_size"]
    result = {"model": args.model, "embedder": str(engine.embedder_model), "no_face": data["no_face"],
              "genuine_probes": len(data["genuine"]), "impostor_probes": len(data["impostor"]),
              "measured": {"gallery_size": n, **measured(data)},
              "model_check": extrapolated(data, n), "extrapolated": extrapolated(data, args.size)}
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

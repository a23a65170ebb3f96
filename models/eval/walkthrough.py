"""The door's decision over walk-throughs, simulated from photos: ``python -m models.eval.walkthrough``.

A walk-through is one person in front of the door for ``frames`` camera frames. Each frame is one of
the person's photos, perturbed as a camera sees a walking person (scale, shift, a few degrees of
roll, light, blur, JPEG), run through the face engine; the frames go through the door's own
:class:`edge.recognition.Recognizer` (tracking, votes, thresholds, attendant lane; liveness off), so
what is counted is exactly what a unit would decide. The gallery and the people follow
``models.eval.venue``: LFW-dev's 100 and ``celebs``' 13 enrolled (their other photos walk through as
delegates), the 200 one-photo LFW-dev people rotated in 5 folds (40 walk through as strangers, 160
are enrolled as distractors: 273 identities).

Per 1,000 walk-throughs it reports: strangers checked in (as anyone), delegates checked in as someone
else, delegates checked in correctly, sent to the attendant lane, and left undecided. ``--sweep``
repeats the count over door thresholds and frames to confirm (the same frames), which is how the
defaults in ``[recognition]`` were chosen (docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from congress.config.edge import DoorMode, DoorSection, RecognitionSection
from edge.gallery import GalleryIndex
from edge.recognition import Decision, Recognizer
from edge.tracking import Face
from models.eval.venue import DEFAULT_FACES, lists

FOLDS = 5
BOX = (200.0, 120.0, 440.0, 400.0)


def perturb(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One camera frame of a photo: scale, shift, roll, light, blur and JPEG, all mild."""
    h, w = image.shape[:2]
    angle = rng.uniform(-8, 8)
    scale = rng.uniform(0.85, 1.15)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += rng.uniform(-0.04, 0.04, 2) * (w, h)
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    gain, bias = rng.uniform(0.6, 1.3), rng.uniform(-20, 20)
    out = np.clip(out.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.5))
    ok, jpg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR) if ok else out


@dataclass
class People:
    """Embeddings: the gallery rows, and per photo the embeddings of its perturbed frames."""

    enrolled: dict[str, list[np.ndarray]] = field(default_factory=dict)
    distractor_photos: dict[str, np.ndarray] = field(default_factory=dict)
    delegate_frames: list[tuple[str, list[np.ndarray]]] = field(default_factory=list)
    stranger_frames: list[tuple[str, list[np.ndarray]]] = field(default_factory=list)


def embed_people(faces: Path, engine, variants: int = 6, seed: int = 16) -> People:
    """Embed enrollment photos (flip-averaged, as the controller does) and ``variants`` frames of
    every probe photo."""
    from congress.faces import decode_image

    rng = np.random.default_rng(seed)
    enroll, genuine, singles = lists(faces)
    people = People()
    for path, identity in enroll:
        face = engine.central_face(decode_image(path), flip=True)
        if face is not None:
            people.enrolled.setdefault(identity, []).append(face.embedding)
    for rows, target in ((genuine, people.delegate_frames), (singles, people.stranger_frames)):
        for path, identity in rows:
            image = decode_image(path)
            frames = [f.embedding for f in (engine.central_face(perturb(image, rng)) for _ in range(variants))
                      if f is not None]
            target.append((identity, frames))
            if target is people.stranger_frames:
                face = engine.central_face(image, flip=True)
                if face is not None:
                    people.distractor_photos[identity] = face.embedding
    return people


def folds(people: People) -> list[tuple[GalleryIndex, list]]:
    """Per fold: the gallery (enrolled + the other folds' one-photo people) and its strangers."""
    order = np.random.default_rng(16).permutation(len(people.stranger_frames))
    out = []
    for f in range(FOLDS):
        strangers = [people.stranger_frames[i] for i in order[f::FOLDS]]
        held = {s for s, _ in strangers}
        ids, rows = [], []
        for identity, vectors in people.enrolled.items():
            ids += [identity] * len(vectors)
            rows += vectors
        for identity, vector in people.distractor_photos.items():
            if identity not in held:
                ids.append(identity)
                rows.append(vector)
        out.append((GalleryIndex(1, tuple(ids), np.array(rows)), strangers))
    return out


def walk(recognizer: Recognizer, gallery: GalleryIndex, frames: list[np.ndarray], fps: float = 10.0):
    """The first decision of the door over one walk-through, or None when it decided nothing."""
    blank = np.zeros((8, 8, 3), np.uint8)
    for n, embedding in enumerate(frames):
        out = recognizer.process(blank, [Face(BOX, 1.0, None, embedding)], n / fps, gallery)
        if out:
            return out[0]
    return None


def count(people: People, settings: RecognitionSection, *, walks: int, frames: int, seed: int = 1) -> dict:
    """Outcomes per 1,000 delegate and stranger walk-throughs at ``settings`` (attendant mode)."""
    door = DoorSection(mode=DoorMode.ATTENDANT, liveness=False)
    rng = np.random.default_rng(seed)
    tally = {k: 0 for k in ("delegate_correct", "delegate_wrong", "delegate_attendant",
                            "delegate_attendant_wrong", "delegate_undecided", "stranger_accepted",
                            "stranger_attendant", "stranger_undecided")}
    n_delegate = n_stranger = 0
    fold_list = folds(people)
    for f, (gallery, strangers) in enumerate(fold_list):
        delegates = [d for d in people.delegate_frames if d[1]] if f == 0 else []
        for kind, pool, n in (("delegate", delegates, walks), ("stranger", [s for s in strangers if s[1]],
                                                                walks // FOLDS)):
            for _ in range(n if pool else 0):
                identity, variants = pool[int(rng.integers(len(pool)))]
                chosen = [variants[int(i)] for i in rng.integers(len(variants), size=frames)]
                outcome = walk(Recognizer(settings, door), gallery, chosen)
                decision = outcome.decision if outcome else None
                if kind == "delegate":
                    n_delegate += 1
                    right = outcome is not None and outcome.delegate_id == identity
                    if decision is Decision.ACCEPTED:
                        tally["delegate_correct" if right else "delegate_wrong"] += 1
                    elif decision is Decision.ATTENDANT:
                        tally["delegate_attendant" if right else "delegate_attendant_wrong"] += 1
                    else:
                        tally["delegate_undecided"] += 1
                else:
                    n_stranger += 1
                    key = {Decision.ACCEPTED: "stranger_accepted", Decision.ATTENDANT: "stranger_attendant"}
                    tally[key.get(decision, "stranger_undecided")] += 1
    out = {k: round(1000 * v / (n_delegate if k.startswith("delegate") else n_stranger), 2)
           for k, v in tally.items()}
    out.update(delegate_walks=n_delegate, stranger_walks=n_stranger, gallery_size=len(fold_list[0][0]),
               strangers=len(people.stranger_frames), wrong_checkins_observed=tally["delegate_wrong"]
               + tally["stranger_accepted"])
    return out


def sweep(people: People, model: str, *, walks: int, frames: int, scores, confirms) -> list[dict]:
    rows = []
    for score, confirm in itertools.product(scores, confirms):
        settings = RecognitionSection(model=model, min_score=score, confirm_frames=confirm)
        rows.append({"min_score": score, "confirm_frames": confirm,
                     **count(people, settings, walks=walks, frames=frames)})
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    import sys

    from congress.faces import FaceEngine

    parser = argparse.ArgumentParser(prog="python -m models.eval.walkthrough",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--model", default="sface", choices=["sface", "dlib-resnet"])
    parser.add_argument("--walks", type=int, default=5000,
                        help="delegate walk-throughs (strangers: the same)")
    parser.add_argument("--frames", type=int, default=10,
                        help="camera frames per walk-through (1 s at 10 fps)")
    parser.add_argument("--sweep", action="store_true", help="count over thresholds and frames to confirm")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    engine = FaceEngine(model=args.model, threads=args.threads)
    people = embed_people(args.faces, engine)
    default = RecognitionSection(model=args.model)
    result = {"model": args.model, "frames_per_walk": args.frames,
              "defaults": {"min_score": default.min_score, "attendant_score": default.attendant_score,
                           "min_margin": default.min_margin, "confirm_frames": default.confirm_frames},
              "at_defaults": count(people, default, walks=args.walks, frames=args.frames)}
    if args.sweep:
        base = default.min_score
        scores = [round(base + d, 3) for d in (-0.12, -0.08, -0.04, 0.0, 0.04)]
        result["sweep"] = sweep(people, args.model, walks=args.walks // 5, frames=args.frames,
                                scores=scores, confirms=(1, 2, 3, 5))
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

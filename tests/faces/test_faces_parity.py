"""Our float and int8 embedders against dlib's own ``compute_face_descriptor`` on the same chips."""

from __future__ import annotations

import numpy as np
import pytest

from congress.faces import decode_image

dlib = pytest.importorskip("dlib", reason="dlib-bin is not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def chips(faces_dir):
    from congress.faces.reference import DlibPipeline

    pipeline = DlibPipeline()
    paths = sorted((faces_dir / "lfw-dev" / "images").rglob("*.jpg"))[::25]
    paths += sorted((faces_dir / "celebs").rglob("*.jpg"))[::4]
    out = []
    for path in paths:
        image = decode_image(path)
        _, found = pipeline.shapes(image)
        for _, shape in found[:1]:
            chip = pipeline.chip(image, shape)
            reference = pipeline.descriptor(chip)
            out.append((chip, reference / np.linalg.norm(reference)))
    assert len(out) >= 30
    return out


@pytest.mark.parametrize(
    ("embedder", "mean_min", "min_min"), [("float", 0.9999, 0.999), ("int8", 0.99, 0.98)]
)
def test_embeddings_match_dlib(chips, embedder, mean_min, min_min):
    from congress.faces import FaceEngine

    engine = FaceEngine(embedder=embedder, threads=2, model="dlib-resnet")
    cosines = np.array([float(engine.embed(chip) @ reference) for chip, reference in chips])
    print(f"{embedder}: {len(cosines)} chips, cosine mean {cosines.mean():.5f}, min {cosines.min():.5f}")
    assert cosines.mean() >= mean_min
    assert cosines.min() >= min_min

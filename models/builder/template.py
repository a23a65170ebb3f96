"""Measure the alignment templates: where our landmarks fall inside each embedder's reference chips.

``--embedder sface`` does the same for SFace: the reference chip is OpenCV's ``alignCrop`` (YuNet's
five landmarks fitted to ArcFace's 112×112 template, the crop SFace was trained and published with);
it prints ``SFACE_MESH_TEMPLATE`` and ``SFACE_BLAZEFACE_TEMPLATE``. YuNet (OpenCV Zoo, MIT) is read
from the same wheel as SFace (``make model-sources``) and is used only here.

``python -m models.builder.template [--faces DIR]`` runs dlib's pipeline (HOG, 5 points) and ours
(BlazeFace, face mesh) on the calibration photos, maps each matched face's BlazeFace keypoints and
mesh points through dlib's chip transform and prints the median position of each point (and its
spread) for ``BLAZEFACE_TEMPLATE`` and ``MESH_TEMPLATE`` in ``congress/faces/align.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from congress.faces.align import (
    ARCFACE_TEMPLATE,
    BLAZEFACE_POINTS,
    MESH_POINTS,
    dlib5_transform,
    sface_points,
    similarity,
)
from congress.faces.engine import FaceEngine
from congress.faces.reference import DlibPipeline
from models.builder.__main__ import CALIBRATION_FOLDERS, DEFAULT_FACES, MODELS_DIR


def to_chip(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    return np.hstack([points[:, :2], np.ones((len(points), 1))]) @ transform.T


def measure(faces_dir: Path, models_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Chip positions of BlazeFace keypoints (N×6×2) and mesh points (N×468×2), faces both found."""
    engine = FaceEngine(models_dir, detector="group", embedder="float", model="dlib-resnet")
    dlib = DlibPipeline()
    keypoints, mesh = [], []
    for folder in CALIBRATION_FOLDERS:
        for path in sorted((faces_dir / folder).rglob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            _, found = dlib.shapes(image)
            detections = engine.detect(image)
            for rect, shape in found:
                centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
                near = [d for d in detections
                        if np.hypot(*((d.box[:2] + d.box[2:]) / 2 - centre)) < 0.3 * rect.width()]
                if len(near) != 1:
                    continue
                transform = dlib5_transform(np.array([(p.x, p.y) for p in shape.parts()], dtype=float))
                keypoints.append(to_chip(near[0].keypoints, transform))
                mesh.append(to_chip(engine.landmarks(image, near[0]).points, transform))
    return np.array(keypoints), np.array(mesh)


def measure_sface(faces_dir: Path, models_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Chip positions (112×112) of BlazeFace keypoints (N×6×2) and our five mesh points (N×5×2) in
    YuNet-aligned reference chips."""
    import tempfile

    from models.builder import sources

    engine = FaceEngine(models_dir, detector="group", model="dlib-resnet")
    with tempfile.NamedTemporaryFile(suffix=".onnx") as onnx:
        onnx.write(sources.wheel_member(sources.YUNET_ONNX))
        onnx.flush()
        yunet = cv2.FaceDetectorYN.create(onnx.name, "", (320, 320), 0.8)
    keypoints, mesh = [], []
    for folder in CALIBRATION_FOLDERS:
        for path in sorted((faces_dir / folder).rglob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            yunet.setInputSize((image.shape[1], image.shape[0]))
            _, found = yunet.detect(image)
            detections = engine.detect(image)
            for row in [] if found is None else found:
                x, y, w, h = row[:4]
                centre = np.array([x + w / 2, y + h / 2])
                near = [d for d in detections if np.hypot(*((d.box[:2] + d.box[2:]) / 2 - centre)) < 0.3 * w]
                if len(near) != 1:
                    continue
                transform = similarity(row[4:14].reshape(5, 2).astype(float), ARCFACE_TEMPLATE)
                keypoints.append(to_chip(near[0].keypoints, transform))
                mesh.append(to_chip(sface_points(engine.landmarks(image, near[0]).points), transform))
    return np.array(keypoints), np.array(mesh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    parser.add_argument("--embedder", choices=["dlib-resnet", "sface"], default="dlib-resnet")
    args = parser.parse_args()
    if args.embedder == "sface":
        keypoints, mesh = measure_sface(args.faces, args.models)
        print(f"{len(keypoints)} faces")
        for name, samples, indices in (("SFACE_BLAZEFACE_TEMPLATE", keypoints, BLAZEFACE_POINTS),
                                       ("SFACE_MESH_TEMPLATE", mesh, range(5))):
            print(name)
            for index in indices:
                median, spread = np.median(samples[:, index], axis=0), samples[:, index].std(axis=0)
                print(f"  point {index}: [{median[0]:.2f}, {median[1]:.2f}]", f"std {spread.round(2)}")
        return
    keypoints, mesh = measure(args.faces, args.models)
    print(f"{len(keypoints)} faces")
    for name, samples, indices in (("BLAZEFACE_TEMPLATE", keypoints, BLAZEFACE_POINTS),
                                   ("MESH_TEMPLATE", mesh, MESH_POINTS)):
        print(name)
        for index in indices:
            median, spread = np.median(samples[:, index], axis=0), samples[:, index].std(axis=0)
            print(f"  point {index}: [{median[0]:.2f}, {median[1]:.2f}]", f"std {spread.round(2)}")


if __name__ == "__main__":
    main()

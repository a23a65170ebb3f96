"""BlazeFace face detection: letterbox, anchors, box and keypoint decoding, weighted NMS.

The MediaPipe BlazeFace models give, per anchor, a score logit and 16 regressors: box centre offset,
width, height and six keypoints (x, y) relative to the anchor, in input pixels. Anchors follow
MediaPipe's ``SsdAnchorsCalculator`` with fixed anchor size: short range is 128×128 with strides
8, 16, 16, 16 (2 and 6 anchors per cell), full range is 192×192 with stride 4 (1 anchor per cell).
Frames of any size are letterboxed (aspect kept, padded) so faces are not distorted, and results are
mapped back to frame pixels. Overlapping detections are merged by score-weighted averaging.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from congress.faces.align import shrink
from congress.faces.runtime import load_interpreter


class Keypoint(enum.IntEnum):
    """BlazeFace keypoint order. "Right" is the person's right (left side of the image)."""

    RIGHT_EYE = 0
    LEFT_EYE = 1
    NOSE_TIP = 2
    MOUTH = 3
    RIGHT_EAR = 4
    LEFT_EAR = 5


class DetectorModel(enum.StrEnum):
    """Which detector: BlazeFace short range (faces within ~2 m: door units), full range (smaller
    faces), or ``group``: both models on the frame and on four overlapping tiles (group photos,
    enrollment; ~10 inferences instead of one)."""

    SHORT = "short"
    FULL = "full"
    GROUP = "group"


@dataclass(frozen=True)
class _Variant:
    file: str
    size: int
    strides: tuple[int, ...]
    per_layer: int  # anchors added per cell by each layer
    min_score: float


VARIANTS = {
    DetectorModel.SHORT: _Variant("blazeface_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.55),
    DetectorModel.FULL: _Variant("blazeface_full_range.tflite", 192, (4,), 1, 0.6),
}


@dataclass
class Detection:
    """One face: box (x0, y0, x1, y1) and six keypoints (see ``Keypoint``) in frame pixels."""

    box: np.ndarray
    score: float
    keypoints: np.ndarray = field(repr=False)
    #: The face mesh of this detection once ``FaceEngine.align`` or ``landmarks`` computed it.
    mesh: object | None = field(default=None, repr=False, compare=False)

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])


def make_anchors(size: int, strides: tuple[int, ...], per_layer: int) -> np.ndarray:
    """Anchor centres (x, y) in [0, 1], in the order the model emits them."""
    anchors = []
    layer = 0
    while layer < len(strides):
        stride, count = strides[layer], 0
        while layer < len(strides) and strides[layer] == stride:
            count += per_layer
            layer += 1
        cells = int(np.ceil(size / stride))
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        anchors.append(np.repeat(centres, count, axis=1).reshape(-1, 2))
    return np.concatenate(anchors).astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, iou: float = 0.3):
    """MediaPipe's weighted NMS: each cluster becomes the score-weighted mean of its members."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    remaining = np.ones(len(scores), dtype=bool)
    merged = []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        cluster = remaining & (_iou(boxes[i], boxes) > iou)
        cluster[i] = True
        weights = scores[cluster][:, None]
        total = weights.sum()
        merged.append(
            (
                (boxes[cluster] * weights).sum(0) / total,
                (points[cluster] * weights[:, :, None]).sum(0) / total,
                float(scores[i]),
            )
        )
        remaining &= ~cluster
    return merged


class BlazeFace:
    """A BlazeFace detector over frames of any size (BGR uint8)."""

    def __init__(self, content: bytes, model: DetectorModel, *, threads: int | None = None,
                 min_score: float | None = None) -> None:
        self.variant = VARIANTS[model]
        self.min_score = self.variant.min_score if min_score is None else min_score
        self.interpreter = load_interpreter(Path(self.variant.file), threads, content)
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = self.interpreter.get_output_details()
        self.regressors = next(o["index"] for o in outputs if o["shape"][-1] == 16)
        self.scores = next(o["index"] for o in outputs if o["shape"][-1] == 1)
        v = self.variant
        self.anchors = make_anchors(v.size, v.strides, v.per_layer)

    def letterbox(self, bgr: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        """Model input [1,S,S,3] in [-1,1], with the scale and padding used."""
        size = self.variant.size
        height, width = bgr.shape[:2]
        scale = size / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        resized = shrink(bgr, new_w, new_h)
        pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
        canvas = np.zeros((size, size, 3), dtype=np.uint8)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized[:, :, ::-1]
        tensor = canvas.astype(np.float32) * (1 / 127.5) - 1.0
        return tensor[None], scale, pad_x, pad_y

    def __call__(self, bgr: np.ndarray) -> list[Detection]:
        """Faces in the frame, most confident first."""
        boxes, points, scores = self.candidates(bgr)
        return [Detection(b, s, p) for b, p, s in weighted_nms(boxes, points, scores)]

    def candidates(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every anchor above the score threshold: boxes (N×4), keypoints (N×6×2), scores, in pixels."""
        tensor, scale, pad_x, pad_y = self.letterbox(bgr)
        self.interpreter.set_tensor(self.input_index, tensor)
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.regressors)[0]
        logits = np.clip(self.interpreter.get_tensor(self.scores)[0, :, 0], -100, 100)
        scores = 1 / (1 + np.exp(-logits.astype(np.float64)))
        keep = scores >= self.min_score
        raw, scores, anchors = raw[keep], scores[keep], self.anchors[keep]
        size = self.variant.size
        centre = raw[:, 0:2] + anchors * size
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        points = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :] * size
        offset = np.array([pad_x, pad_y], dtype=np.float32)
        boxes = (boxes - np.tile(offset, 2)) / scale
        points = (points - offset) / scale
        return boxes, points, scores


class GroupDetector:
    """Short and full range on the frame and on four overlapping tiles (each 2/3 of the frame, so
    faces look 1.5× larger), and the same again with the frame inside a grey border, merged by one
    weighted NMS: finds small, partly hidden and edge-cut faces in group photos that one pass over the
    whole frame misses. Enrollment and group photos only: ten passes of two models."""

    TILE = 2 / 3
    #: Border added around the frame, as a share of its longer side: BlazeFace misses faces cut by
    #: the frame edge, and finds them once they no longer touch the image border.
    BORDER = 0.15

    def __init__(self, short: BlazeFace, full: BlazeFace) -> None:
        self.models = (short, full)

    def __call__(self, bgr: np.ndarray) -> list[Detection]:
        border = round(self.BORDER * max(bgr.shape[:2]))
        framed = cv2.copyMakeBorder(bgr, border, border, border, border, cv2.BORDER_CONSTANT,
                                    value=(127, 127, 127))
        parts = self._passes(bgr, 0) + self._passes(framed, border)
        boxes, points, scores = (np.concatenate([p[i] for p in parts]) for i in range(3))
        return [Detection(b, s, p) for b, p, s in weighted_nms(boxes, points, scores)]

    def _passes(self, image: np.ndarray, border: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Candidates of both models on ``image`` and its four tiles, in the coordinates of the frame
        that ``image`` holds inside a border of ``border`` pixels."""
        height, width = image.shape[:2]
        tile_h, tile_w = round(height * self.TILE), round(width * self.TILE)
        regions = [(0, 0, width, height)]
        if min(tile_h, tile_w) >= 64:
            corners = [(x, y) for y in (0, height - tile_h) for x in (0, width - tile_w)]
            regions += [(x, y, x + tile_w, y + tile_h) for x, y in corners]
        parts = []
        for x0, y0, x1, y1 in regions:
            for model in self.models:
                boxes, points, scores = model.candidates(image[y0:y1, x0:x1])
                shift = np.array([x0 - border, y0 - border], dtype=np.float32)
                parts.append((boxes + np.tile(shift, 2), points + shift, scores))
        return parts

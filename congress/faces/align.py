"""Alignment: a similarity transform from face landmarks onto dlib's 150×150 chip template.

dlib's descriptor was trained on chips cut by ``get_face_chip_details(shape, 150, 0.25)``: the five
landmarks of its shape predictor (outer and inner eye corners, nose base) are fitted by least squares
to a fixed template. We have two sources of landmarks:

* ``AlignMode.MESH`` (default): the same five points taken from the MediaPipe face mesh (eye corners
  263, 362, 33, 133 and nose base 2), fitted to ``MESH_TEMPLATE``;
* ``AlignMode.KEYPOINTS``: BlazeFace's own keypoints (eye centres, nose tip, mouth centre; the ear
  points are unreliable once the head turns), fitted to ``BLAZEFACE_TEMPLATE``. No extra model runs,
  but the chips agree less with dlib's (LFW-dev: mean cosine to dlib's descriptor 0.990 vs 0.995).

Both templates are the median chip position of those points in dlib's own chips of real faces,
measured by ``python -m models.builder.template`` (the five mesh points sit within ~2 px of dlib's
template; measuring removes the small systematic offsets).
"""

from __future__ import annotations

import enum

import cv2
import numpy as np


class AlignMode(enum.StrEnum):
    """Which landmarks place the face on the chip template."""

    MESH = "mesh"
    KEYPOINTS = "keypoints"


CHIP_SIZE = 150
CHIP_PADDING = 0.25

#: dlib's template for its 5-point model (unit square, before padding), from get_face_chip_details.
DLIB_5_TEMPLATE = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ]
)

#: Median chip position (pixels, 150×150 chip) of BlazeFace's right eye, left eye, nose tip and mouth.
BLAZEFACE_TEMPLATE = np.array(
    [
        [46.93, 46.71],
        [100.52, 47.13],
        [73.72, 80.22],
        [73.51, 105.12],
    ]
)
#: Face-mesh indices matching dlib's five points: left eye outer/inner, right eye outer/inner, nose base.
MESH_POINTS = (263, 362, 33, 133, 2)
#: Median chip position (pixels, 150×150 chip) of ``MESH_POINTS``.
MESH_TEMPLATE = np.array(
    [
        [112.15, 45.47],
        [88.31, 47.33],
        [34.90, 45.79],
        [59.02, 47.35],
        [73.86, 85.58],
    ]
)
#: BlazeFace keypoints used for alignment (see ``congress.faces.detector.Keypoint``).
BLAZEFACE_POINTS = (0, 1, 2, 3)


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize to ``width``×``height`` without aliasing: halve with bilinear sampling (an exact 2×2
    average) while the image is at least twice the target, then one bilinear step — an image
    pyramid like dlib's. (OpenCV's INTER_AREA does the same job several times slower.)"""
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def dlib_template(size: int = CHIP_SIZE, padding: float = CHIP_PADDING) -> np.ndarray:
    """dlib's 5-point template in chip pixels."""
    return (padding + DLIB_5_TEMPLATE) / (2 * padding + 1) * size


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2×3 least-squares similarity (rotation, uniform scale, shift) mapping ``src`` onto ``dst``."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    # Closed form for 2-D: minimise sum |a*R*s + t - d|^2 over a = scale*(cos, sin).
    denom = (src_c**2).sum()
    a = (src_c * dst_c).sum() / denom
    b = (src_c[:, 0] * dst_c[:, 1] - src_c[:, 1] * dst_c[:, 0]).sum() / denom
    rot = np.array([[a, -b], [b, a]])
    shift = dst_mean - rot @ src_mean
    return np.hstack([rot, shift[:, None]])


def warp_chip(bgr: np.ndarray, transform: np.ndarray, size: int = CHIP_SIZE) -> np.ndarray:
    """Cut the chip ``transform`` maps the image onto, RGB uint8 ``size``×``size``.

    When the face is much larger than the chip, the region is first shrunk by ``shrink`` (as
    dlib's image pyramid does) so the bilinear sampling does not alias.
    """
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if scale < 0.75:
        inverse = cv2.invertAffineTransform(transform)
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
        pts = corners @ inverse.T
        x0, y0 = np.floor(pts.min(0)).astype(int) - 2
        x1, y1 = np.ceil(pts.max(0)).astype(int) + 2
        height, width = bgr.shape[:2]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            crop = bgr[y0:y1, x0:x1]
            factor = min(1.0, scale * 1.25)
            new_w, new_h = max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor))
            small = shrink(crop, new_w, new_h)
            fx, fy = new_w / crop.shape[1], new_h / crop.shape[0]
            # image -> small: x_s = (x - x0 + 0.5) * fx - 0.5
            to_small = np.array([[fx, 0, (0.5 - x0) * fx - 0.5], [0, fy, (0.5 - y0) * fy - 0.5], [0, 0, 1]])
            transform = transform @ np.linalg.inv(to_small)
            bgr = small
    chip = cv2.warpAffine(bgr, transform, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return np.ascontiguousarray(chip[:, :, ::-1])


def blazeface_transform(keypoints: np.ndarray) -> np.ndarray:
    """Similarity from a detection's keypoints (6×2 frame pixels) onto the chip."""
    return similarity(keypoints[list(BLAZEFACE_POINTS)], BLAZEFACE_TEMPLATE)


def mesh_transform(points: np.ndarray) -> np.ndarray:
    """Similarity from face-mesh points (468×2 or 468×3 frame pixels) onto the chip."""
    return similarity(np.asarray(points)[list(MESH_POINTS), :2], MESH_TEMPLATE)


def dlib5_transform(points: np.ndarray) -> np.ndarray:
    """Similarity from dlib's 5 shape-predictor points onto the chip (as dlib computes it)."""
    return similarity(points, dlib_template())

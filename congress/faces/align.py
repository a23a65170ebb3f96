"""Alignment: a similarity transform from face landmarks onto the chip template of each embedder.

SFace (the default embedder) was trained on 112×112 chips cut ArcFace-style: five landmarks (eye
centres, nose tip, mouth corners, as YuNet or RetinaFace find them) fitted to ``ARCFACE_TEMPLATE``
(OpenCV's ``FaceRecognizerSF.alignCrop``). Our five points are the face mesh's eye-contour centres,
nose tip (1) and mouth corners (61, 291), fitted to ``SFACE_MESH_TEMPLATE``: their median position in
the reference chips of real faces (YuNet + ``alignCrop``), measured by
``python -m models.builder.template``, so our chips match the training crop. The dlib embedder:

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

#: ArcFace's 112×112 template (eye centres, nose tip, mouth corners), as OpenCV's alignCrop uses it.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)
#: Face-mesh eye contours (image left eye first), whose mean is the eye centre.
MESH_EYES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)
#: Face-mesh nose tip and mouth corners (image left first).
MESH_NOSE_MOUTH = (1, 61, 291)
#: Median chip position (pixels, 112×112 SFace chip) of the five mesh points (``sface_points``).
SFACE_MESH_TEMPLATE = np.array(
    [
        [37.48, 53.17],
        [73.87, 52.62],
        [55.60, 76.45],
        [39.21, 90.15],
        [72.73, 89.52],
    ]
)
#: Median chip position (pixels, 112×112 SFace chip) of BlazeFace's eyes, nose tip and mouth.
SFACE_BLAZEFACE_TEMPLATE = np.array(
    [
        [37.01, 53.44],
        [74.00, 53.32],
        [55.54, 74.82],
        [55.64, 92.65],
    ]
)


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


def mesh_transform(points: np.ndarray, template: str = "dlib") -> np.ndarray:
    """Similarity from face-mesh points (468×2 or 468×3 frame pixels) onto the chip of ``template``
    (``"dlib"``: 150×150 dlib chip; ``"sface"``: 112×112 ArcFace-style chip)."""
    if template == "sface":
        return similarity(sface_points(points), SFACE_MESH_TEMPLATE)
    return similarity(np.asarray(points)[list(MESH_POINTS), :2], MESH_TEMPLATE)


def sface_points(points: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners (5×2) from face-mesh points."""
    points = np.asarray(points)[:, :2]
    eyes = [points[list(indices)].mean(0) for indices in MESH_EYES]
    return np.vstack([*eyes, points[list(MESH_NOSE_MOUTH)]])


def keypoints_transform(keypoints: np.ndarray, template: str = "dlib") -> np.ndarray:
    """Similarity from BlazeFace keypoints onto the chip of ``template``."""
    target = SFACE_BLAZEFACE_TEMPLATE if template == "sface" else BLAZEFACE_TEMPLATE
    return similarity(np.asarray(keypoints)[list(BLAZEFACE_POINTS)], target)


def dlib5_transform(points: np.ndarray) -> np.ndarray:
    """Similarity from dlib's 5 shape-predictor points onto the chip (as dlib computes it)."""
    return similarity(points, dlib_template())

"""``decode_image``: bytes or a path → BGR uint8, or an ``ImageError`` a technician understands.

Handles what enrollment photos and uploads really contain: grey and 16-bit images, PNG with alpha
(composited onto white), EXIF-rotated JPEGs (turned upright by OpenCV), and rejects empty files,
truncated JPEG/PNG files and images above a pixel limit (checked from the header before decoding, so a
decompression bomb never allocates its pixels).
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import cv2
import numpy as np

from congress.errors import ImageError

LOG = logging.getLogger(__name__)

#: Largest image accepted, in pixels (a 40 MP photo; door frames are ~1 MP).
MAX_PIXELS = 40_000_000

_JPEG = b"\xff\xd8"
_PNG = b"\x89PNG\r\n\x1a\n"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG or PNG header, or None for other formats."""
    if data.startswith(_PNG) and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data.startswith(_JPEG):
        return _jpeg_size(data)
    return None


def _check_complete(data: bytes, name: str) -> None:
    if data.startswith(_JPEG) and not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        raise ImageError(f"{name} is a truncated JPEG (no end-of-image marker)",
                         hint="copy the photo again; the file was cut short")
    if data.startswith(_PNG) and b"IEND" not in data[-16:]:
        raise ImageError(f"{name} is a truncated PNG (no IEND chunk)",
                         hint="copy the photo again; the file was cut short")


def _to_bgr8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        image = np.clip(image * 255.0, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if channels == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        white = np.full_like(image[:, :, :3], 255, dtype=np.float32)
        return (image[:, :, :3] * alpha + white * (1 - alpha) + 0.5).astype(np.uint8)
    if channels == 3:
        return np.ascontiguousarray(image)
    raise ImageError(f"unsupported image with {channels} channels")


def decode_image(source: bytes | bytearray | memoryview | str | Path, *,
                 max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file's bytes (or read ``source`` as a path) into a BGR uint8 array."""
    if isinstance(source, str | Path):
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read image {name}: {exc.strerror or exc}") from exc
    elif isinstance(source, bytes | bytearray | memoryview):
        name, data = "the image", bytes(source)
    else:
        raise ImageError(f"cannot decode a {type(source).__name__} as an image; pass bytes or a path")
    if not data:
        raise ImageError(f"{name} is empty (0 bytes)")
    size = header_size(data)
    if size is not None:
        width, height = size
        if width == 0 or height == 0:
            raise ImageError(f"{name} has zero width or height")
        if width * height > max_pixels:
            raise ImageError(f"{name} is {width}x{height}, above the limit of {max_pixels} pixels",
                             hint="scale the photo down before uploading")
    _check_complete(data, name)
    buffer = np.frombuffer(data, dtype=np.uint8)
    flags = cv2.IMREAD_COLOR if data.startswith(_JPEG) else cv2.IMREAD_UNCHANGED
    image = cv2.imdecode(buffer, flags)
    if image is None or image.size == 0:
        raise ImageError(f"{name} is not a readable image (JPEG, PNG, BMP, WebP, TIFF…)",
                         hint="check the file type; it may be damaged")
    if image.shape[0] * image.shape[1] > max_pixels:
        height, width = image.shape[:2]
        raise ImageError(f"{name} is {width}x{height}, above the limit of {max_pixels} pixels")
    return _to_bgr8(image)

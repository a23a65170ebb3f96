"""``decode_image``: bytes or a path → BGR uint8, or an ``ImageError`` a technician understands.

Accepts the formats photos really arrive in — JPEG, PNG, WebP, and HEIC/HEIF from phones (with the
optional ``pi-heif`` package) — recognised by content (:mod:`congress.faces.image_formats`), and
refuses every other format by name before any decoder sees it. The pixel count each header declares
is checked before decoding, so a decompression bomb never allocates its pixels. Pillow (and libheif)
decode: they report damage as exceptions and write nothing to stderr, where OpenCV's codecs print
libjpeg/libpng/libtiff lines. Handles grey and 16-bit images, alpha (composited onto white), palette
images and EXIF orientation (turned upright); rejects empty, truncated and damaged files.

Every refusal carries ``ImageError.text``, a translatable :class:`congress.i18n.Message` for pages;
``str(exc)`` is the English text for the command line.
"""

from __future__ import annotations

import importlib
import io
import logging
from pathlib import Path

import numpy as np

from congress.errors import ImageError
from congress.faces.image_formats import Format, declared_size, sniff
from congress.i18n import M_, Message

LOG = logging.getLogger(__name__)

#: Largest image accepted, in pixels (a 40 MP photo; door frames are ~1 MP). Pillow's own bomb check
#: (``Image.MAX_IMAGE_PIXELS``, 89 MP) is higher, so it never fires on what this check let through.
MAX_PIXELS = 40_000_000
#: Pillow's plugin name for each accepted format (the only plugin ``Image.open`` may try).
_PIL_FORMAT = {Format.JPEG: "JPEG", Format.PNG: "PNG", Format.WEBP: "WEBP"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _refuse(text: Message, hint: str | None = None) -> ImageError:
    return ImageError(str(text), hint=hint, text=text)


def _read(source, name: str | None) -> tuple[str | Message, bytes]:
    if isinstance(source, str | Path):
        try:
            return str(source), Path(source).read_bytes()
        except OSError as exc:
            raise _refuse(M_("cannot read image %(file)s: %(reason)s", file=str(source),
                             reason=exc.strerror or str(exc))) from exc
    if isinstance(source, bytes | bytearray | memoryview):
        return name or M_("the image"), bytes(source)
    raise _refuse(M_("cannot decode a %(kind)s as an image; pass bytes or a path",
                     kind=type(source).__name__))


def _check_header(data: bytes, fmt: Format, name, max_pixels: int) -> None:
    size = declared_size(data, fmt)
    if size is None:
        raise _refuse(M_("%(file)s is a damaged %(format)s file (its header cannot be read)",
                         file=name, format=fmt.value), hint="copy the photo again, or export it anew")
    _check_size(size, name, max_pixels)
    if fmt is Format.JPEG and not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        raise _refuse(M_("%(file)s is a truncated JPEG file: copy the photo again", file=name))
    if fmt is Format.PNG and b"IEND" not in data[-16:]:
        raise _refuse(M_("%(file)s is a truncated PNG file: copy the photo again", file=name))


def _check_size(size: tuple[int, int], name, max_pixels: int) -> None:
    width, height = size
    if width == 0 or height == 0:
        raise _refuse(M_("%(file)s has zero width or height", file=name))
    if width * height > max_pixels:
        raise _refuse(M_("%(file)s is %(width)dx%(height)d, above the limit of %(limit)d pixels",
                         file=name, width=width, height=height, limit=max_pixels),
                      hint="scale the photo down before uploading")


def _heif_module():
    """``pi_heif`` (decoder only, LGPL libheif + libde265, 4 MB), or ``pillow_heif`` (same interface;
    its wheels add the x265 encoder, GPLv2, 23 MB), or None."""
    for module in ("pi_heif", "pillow_heif"):
        try:
            return importlib.import_module(module)
        except ImportError:
            continue
    return None


def _open_heif(data: bytes, name, max_pixels: int):
    heif_module = _heif_module()
    if heif_module is None:
        raise _refuse(M_("%(file)s is a HEIC/HEIF photo, and this installation has no HEIF decoder",
                         file=name), hint="pip install pi-heif, or send the photo as JPEG")
    heif = heif_module.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)  # header only
    _check_size(heif.size, name, max_pixels)
    return heif.to_pillow()  # decodes; libheif has already turned it upright (irot/imir)


def _pillow(data: bytes, fmt: Format, name, max_pixels: int):
    from PIL import Image, ImageOps

    if fmt is Format.HEIF:
        return _open_heif(data, name, max_pixels)
    image = Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[fmt]])  # header only
    _check_size(image.size, name, max_pixels)
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _to_bgr8(image) -> np.ndarray:
    """A Pillow image of any mode → BGR uint8 (16-bit scaled down, alpha composited onto white)."""
    import cv2

    if image.mode.startswith("I"):  # 16-bit grey ("I;16", or "I" holding 0..65535)
        grey = (np.asarray(image).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8)
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"))
        alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
        rgb = (rgba[:, :, :3] * alpha + 255.0 * (1 - alpha) + 0.5).astype(np.uint8)
    else:
        rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def decode_image(source: bytes | bytearray | memoryview | str | Path, *,
                 max_pixels: int = MAX_PIXELS, name: str | None = None) -> np.ndarray:
    """Decode an image file's bytes (or read ``source`` as a path) into a BGR uint8 array; ``name``
    is the file's name as the person knows it, for the messages (default: the path, or "the image")."""
    name, data = _read(source, name)
    if not data:
        raise _refuse(M_("%(file)s is empty (0 bytes)", file=name))
    fmt = sniff(data)
    if fmt is None:
        raise _refuse(M_("%(file)s is not a photo in a format we accept (JPEG, PNG, WebP or HEIC)",
                         file=name), hint="check the file; it may be damaged or not an image")
    if not isinstance(fmt, Format):
        raise _refuse(M_("%(file)s is a %(format)s file; photos must be JPEG, PNG, WebP or HEIC",
                         file=name, format=fmt), hint="export the photo as JPEG")
    _check_header(data, fmt, name, max_pixels)
    try:
        image = _pillow(data, fmt, name, max_pixels)
        return _to_bgr8(image)
    except ImageError:
        raise
    except Exception as exc:  # hostile or damaged data: whatever the codec raises, one clear refusal
        LOG.debug("decoding %s failed: %r", name, exc)
        raise _refuse(M_("%(file)s is a damaged %(format)s file that cannot be decoded", file=name,
                         format=fmt.value), hint="copy the photo again, or export it anew") from None

"""What an image file is, by its content, and how large it says it is, before anything decodes it.

``sniff`` names the format from the first bytes (never from the file name): one of the four that
photos really arrive in (``ACCEPTED``: JPEG, PNG, WebP, and HEIC/HEIF from phones), the name of a
known format that we refuse (BMP, TIFF, GIF, JPEG 2000, PCX…), or None. ``declared_size`` reads the
width and height each accepted format declares in its header (JPEG SOF, PNG IHDR, WebP VP8/VP8L/VP8X,
HEIF ``ispe`` properties: the largest item of the file), so a decompression bomb is refused before a
decoder allocates its pixels.
"""

from __future__ import annotations

import struct
from enum import StrEnum


class Format(StrEnum):
    """The image formats ``decode_image`` accepts; the value is the name shown to people."""

    JPEG = "JPEG"
    PNG = "PNG"
    WEBP = "WebP"
    HEIF = "HEIC/HEIF"


ACCEPTED = tuple(Format)

_PNG = b"\x89PNG\r\n\x1a\n"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
#: ISO base media "ftyp" brands of HEIF stills (HEVC-coded and the generic image brands).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
#: Formats we recognise only to name them in the refusal (magic bytes → name).
_REFUSED = (
    (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"), (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\x76\x2f\x31\x01", "OpenEXR"), (b"#?RADIANCE", "Radiance HDR"), (b"#?RGBE", "Radiance HDR"),
    (b"8BPS", "Photoshop"), (b"\x00\x00\x01\x00", "ICO"), (b"%PDF", "PDF"), (b"qoif", "QOI"),
    (b"\xff\x0a", "JPEG XL"), (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"), (b"DDS ", "DDS"),
    (b"\x59\xa6\x6a\x95", "Sun raster"), (b"gimp xcf", "GIMP"),
)


def sniff(data: bytes) -> Format | str | None:
    """An accepted :class:`Format`, the name of a refused format (``str``), or None if unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return Format.JPEG
    if data.startswith(_PNG):
        return Format.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Format.WEBP
    if data[4:8] == b"ftyp":
        size = struct.unpack(">I", data[:4])[0]
        brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(size, len(data), 64), 4)}
        if b"avif" in brands or b"avis" in brands:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return Format.HEIF
        return "MP4/QuickTime"
    for magic, name in _REFUSED:
        if data.startswith(magic):
            return name
    if len(data) > 2 and data[0] == 0x0A and data[1] in (0, 2, 3, 4, 5) and data[2] == 1:
        return "PCX"
    if len(data) > 2 and data[0:1] == b"P" and data[1:2] in b"1234567" and data[2:3].isspace():
        return "PNM"
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ", b"<svg>"):
        return "SVG/XML"
    return None


def declared_size(data: bytes, fmt: Format) -> tuple[int, int] | None:
    """(width, height) the header of ``data`` declares, or None when the header is unreadable."""
    try:
        if fmt is Format.JPEG:
            return _jpeg(data)
        if fmt is Format.PNG:
            return struct.unpack(">II", data[16:24]) if data[12:16] == b"IHDR" else None
        if fmt is Format.WEBP:
            return _webp(data)
        return _heif(data)
    except struct.error:  # a header cut short
        return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan before any frame header
            return None
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        bits = struct.unpack("<I", data[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, payload end) of the ISO base media boxes between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _heif(data: bytes) -> tuple[int, int] | None:
    """The largest ``ispe`` (image spatial extents) of the file: tiles, thumbnails and the image."""
    largest = None
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"meta":
            continue
        for k2, s2, e2 in _boxes(data, start + 4, end):  # meta is a full box: version and flags
            if k2 != b"iprp":
                continue
            for k3, s3, e3 in _boxes(data, s2, e2):
                if k3 != b"ipco":
                    continue
                for k4, s4, _ in _boxes(data, s3, e3):
                    if k4 == b"ispe":
                        width, height = struct.unpack(">II", data[s4 + 4 : s4 + 12])
                        if largest is None or width * height > largest[0] * largest[1]:
                            largest = (width, height)
    return largest

"""decode_image: conversions that must work and bad input that must be refused clearly."""

from __future__ import annotations

import io
import re
import struct
import sys
import zlib

import cv2
import numpy as np
import pytest

from congress.errors import ImageError
from congress.faces import decode_image
from congress.i18n import Message


def encode(image: np.ndarray, ext: str) -> bytes:
    ok, buffer = cv2.imencode(ext, image)
    assert ok
    return buffer.tobytes()


@pytest.fixture
def photo(faces_dir) -> bytes:
    return (faces_dir / "single" / "obama_240p.jpg").read_bytes()


def test_jpeg_bytes_and_path(faces_dir, photo):
    from_bytes = decode_image(photo)
    from_path = decode_image(faces_dir / "single" / "obama_240p.jpg")
    assert from_bytes.shape == (240, 427, 3) and from_bytes.dtype == np.uint8
    assert np.array_equal(from_bytes, from_path)


def test_truncated_jpeg(photo):
    with pytest.raises(ImageError, match="truncated JPEG"):
        decode_image(photo[: len(photo) // 2])


def test_truncated_png():
    data = encode(np.full((40, 40, 3), 90, np.uint8), ".png")
    with pytest.raises(ImageError, match="truncated PNG"):
        decode_image(data[:-20])


def test_png_with_alpha_is_composited_on_white():
    image = np.zeros((8, 8, 4), dtype=np.uint8)
    image[:, :, 2] = 255  # red
    image[:4, :, 3] = 255  # top half opaque, bottom half transparent
    out = decode_image(encode(image, ".png"))
    assert out.shape == (8, 8, 3)
    assert out[0, 0].tolist() == [0, 0, 255] and out[7, 7].tolist() == [255, 255, 255]


def test_sixteen_bit_and_grey():
    deep = np.full((6, 6, 3), 40000, dtype=np.uint16)
    assert decode_image(encode(deep, ".png"))[0, 0].tolist() == [156, 156, 156]
    grey = np.full((6, 6), 77, dtype=np.uint8)
    out = decode_image(encode(grey, ".png"))
    assert out.shape == (6, 6, 3) and out[0, 0].tolist() == [77, 77, 77]
    assert decode_image(encode(grey, ".jpg")).shape == (6, 6, 3)


def test_huge_image_is_refused_before_decoding():
    data = bytearray(encode(np.zeros((4, 4, 3), np.uint8), ".png"))
    data[16:24] = struct.pack(">II", 100_000, 100_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    with pytest.raises(ImageError, match="above the limit"):
        decode_image(bytes(data))
    with pytest.raises(ImageError, match="above the limit"):
        decode_image(encode(np.zeros((300, 300, 3), np.uint8), ".png"), max_pixels=10_000)


def test_empty_zero_size_and_garbage(tmp_path):
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")
    zero = bytearray(encode(np.zeros((4, 4, 3), np.uint8), ".png"))
    zero[16:24] = struct.pack(">II", 0, 4)
    with pytest.raises(ImageError, match="zero width or height"):
        decode_image(bytes(zero))
    with pytest.raises(ImageError, match="not a photo in a format we accept"):
        decode_image(b"this is not an image at all")
    with pytest.raises(ImageError, match="cannot read image"):
        decode_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageError, match="pass bytes or a path"):
        decode_image(12345)  # type: ignore[arg-type]


def test_engine_refuses_non_images(engine):
    with pytest.raises(ImageError):
        engine.detect(np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(ImageError, match="empty"):
        engine.detect(np.zeros((0, 10, 3), dtype=np.uint8))
    with pytest.raises(ImageError, match="sface face chip must be 112x112x3"):
        engine.embed(np.zeros((100, 100, 3), dtype=np.uint8))


# -- formats: what people send is decoded, anything else is refused by content ---------------------------

def pil_bytes(image: np.ndarray, fmt: str, **options) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).save(out, fmt, **options)
    return out.getvalue()


def heic_bytes(image: np.ndarray, **options) -> bytes:
    """A HEIC file made with pillow-heif's encoder (the dev extra; the project decodes with pi-heif)."""
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif (dev extra) encodes the HEIC files")
    out = io.BytesIO()
    pillow_heif.from_bytes(mode="RGB", size=(image.shape[1], image.shape[0]), data=image.tobytes()).save(
        out, quality=90, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    """A smooth colour gradient (lossy codecs keep it within a few levels)."""
    y, x = np.mgrid[0:48, 0:64]
    return np.dstack([x * 4, y * 5, 255 - x * 2]).astype(np.uint8)


def test_jpeg_png_webp_and_heic_are_decoded(rgb):
    bgr = rgb[:, :, ::-1]
    for data, tolerance in ((pil_bytes(rgb, "JPEG", quality=95), 12), (pil_bytes(rgb, "PNG"), 0),
                            (pil_bytes(rgb, "WEBP", quality=95), 16),
                            (pil_bytes(rgb, "WEBP", lossless=True), 0), (heic_bytes(rgb), 16)):
        out = decode_image(data)
        assert out.shape == (48, 64, 3) and out.dtype == np.uint8
        assert np.abs(out.astype(int) - bgr).mean() <= tolerance, data[:16]


def test_exif_orientation_turns_the_photo_upright(rgb):
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: turn 90° clockwise to show
    data = pil_bytes(rgb, "JPEG", quality=95, exif=exif.tobytes())
    out = decode_image(data)
    assert out.shape == (64, 48, 3)
    assert np.abs(out.astype(int) - np.rot90(rgb[:, :, ::-1], k=-1)).mean() <= 12


@pytest.fixture
def no_decoder(monkeypatch):
    """Fails the test if any decoder is reached (the refusal must come from the header alone)."""
    import congress.faces.imageio as imageio

    def reached(*args, **kwargs):
        raise AssertionError("a decoder was reached")

    monkeypatch.setattr(imageio, "_pillow", reached)
    monkeypatch.setattr(cv2, "imdecode", reached)


def other_formats(rgb) -> dict[str, bytes]:
    bmp = bytearray(encode(rgb, ".bmp"))
    bmp[18:26] = struct.pack("<ii", 60_000, 60_000)  # a BMP decompression bomb: 3.6 G pixels declared
    return {
        "BMP": bytes(bmp),
        "TIFF": pil_bytes(rgb, "TIFF"),
        "GIF": pil_bytes(rgb, "GIF"),
        "PCX": pil_bytes(rgb, "PCX"),
        "PNM": encode(rgb, ".ppm"),
        "ICO": pil_bytes(rgb, "ICO"),
        "JPEG 2000": encode(rgb, ".jp2"),
        "OpenEXR": b"\x76\x2f\x31\x01" + bytes(200),
        "Radiance HDR": b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 60000 +X 60000\n",
        "Photoshop": b"8BPS" + bytes(200),
        "PDF": b"%PDF-1.7\n" + bytes(100),
        "AVIF": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(100),
        "SVG/XML": b'<?xml version="1.0"?><svg width="60000" height="60000"/>',
    }


def test_other_formats_are_refused_by_content_before_any_decoder(rgb, no_decoder):
    for name, data in other_formats(rgb).items():
        with pytest.raises(ImageError, match=f"is a {re.escape(name)} file; photos must be JPEG"):
            decode_image(data)


def test_decompression_bombs_of_every_accepted_format_are_refused_from_the_header(rgb, no_decoder):
    jpeg = bytearray(pil_bytes(rgb, "JPEG"))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 60_000, 60_000)
    lossy, lossless = bytearray(pil_bytes(rgb, "WEBP")), bytearray(pil_bytes(rgb, "WEBP", lossless=True))
    assert lossy[12:16] == b"VP8 " and lossless[12:16] == b"VP8L"
    lossy[26:30] = struct.pack("<HH", 16_383, 16_383)
    lossless[21:25] = struct.pack("<I", 16_383 | 16_383 << 14)
    extended = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00" + (b"\xff\xff\x00" * 2)
    heic = bytearray(heic_bytes(rgb))
    ispe = heic.index(b"ispe")
    heic[ispe + 8 : ispe + 16] = struct.pack(">II", 60_000, 60_000)
    for data in (jpeg, lossy, lossless, extended, heic):
        with pytest.raises(ImageError, match="above the limit of 40000000 pixels"):
            decode_image(bytes(data))
    with pytest.raises(ImageError, match="above the limit of 1000 pixels"):
        decode_image(heic_bytes(rgb), max_pixels=1000)


def mutations(data: bytes, rng: np.random.Generator, count: int):
    """Truncations, flipped bytes, zeroed and duplicated spans of a valid file, as broken files are."""
    for _ in range(count):
        out = bytearray(data)
        kind = rng.integers(4)
        at = int(rng.integers(2, len(out) - 2))
        if kind == 0:
            del out[at:]
        elif kind == 1:
            for i in rng.integers(0, len(out), size=int(rng.integers(1, 12))):
                out[i] ^= int(rng.integers(1, 256))
        elif kind == 2:
            span = int(rng.integers(1, 400))
            out[at : at + span] = bytes(len(out[at : at + span]))
        else:
            out[at:at] = out[max(0, at - 300) : at]
        yield bytes(out)


def test_damaged_files_are_refused_clearly_and_the_codecs_stay_quiet(rgb, capfd):
    rng = np.random.default_rng(11)
    originals = [pil_bytes(rgb, "JPEG"), pil_bytes(rgb, "JPEG", progressive=True), pil_bytes(rgb, "PNG"),
                 pil_bytes(rgb, "WEBP"), pil_bytes(rgb, "WEBP", lossless=True), heic_bytes(rgb)]
    decoded = refused = 0
    for original in originals:
        for data in mutations(original, rng, 60):
            try:
                out = decode_image(data)
            except ImageError as exc:
                refused += 1
                assert str(exc.text) == exc.message
            else:
                decoded += 1
                assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert refused > 100 and decoded + refused == 360
    captured = capfd.readouterr()  # file descriptors 1 and 2: what libjpeg, libpng or OpenCV would print
    assert captured.err == "" and captured.out == ""


def test_heic_without_its_decoder_says_what_to_install(rgb, monkeypatch):
    data = heic_bytes(rgb)
    for module in ("pi_heif", "pillow_heif"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImageError, match="no HEIF decoder") as caught:
        decode_image(data)
    assert "pip install pi-heif" in str(caught.value)


def test_refusals_are_translatable_messages(rgb):
    with pytest.raises(ImageError) as caught:
        decode_image(other_formats(rgb)["BMP"])
    text = caught.value.text
    assert isinstance(text, Message)
    assert text.msgid == "%(file)s is a %(format)s file; photos must be JPEG, PNG, WebP or HEIC"
    vietnamese = {text.msgid: "%(file)s là tệp %(format)s; ảnh phải là JPEG, PNG, WebP hoặc HEIC",
                  "the image": "ảnh"}
    assert text.translate(lambda s: vietnamese.get(s, s)) == (
        "ảnh là tệp BMP; ảnh phải là JPEG, PNG, WebP hoặc HEIC")

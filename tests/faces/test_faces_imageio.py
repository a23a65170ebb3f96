"""decode_image: conversions that must work and bad input that must be refused clearly."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from congress.errors import ImageError
from congress.faces import decode_image


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
    with pytest.raises(ImageError, match="not a readable image"):
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

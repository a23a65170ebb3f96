"""Read the weights of dlib's face-recognition ResNet straight from its ``.dat`` serialization.

dlib writes a network as nested ``add_layer`` objects; the layer details come out from the input layer
to the loss layer, each introduced by its type tag as a dlib string (a one-byte length header and the
characters). Tensors are a version, four dimensions (dlib's compact integers: one header byte holding
the byte count and sign, then little-endian bytes) and raw little-endian float32 data. We only need
the tagged layers in order; the source file's sha256 is checked first, and the parsed structure is
checked against the known architecture, so a different file cannot be misread silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

#: sha256 of ``dlib_face_recognition_resnet_model_v1.dat`` in face_recognition_models 0.3.0.
DAT_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"

_TAG = re.compile(rb"\x01([\x04-\x20])([a-z_][a-z_0-9]{3,31})")


@dataclass
class Conv:
    """A dlib ``con_`` layer: weights as (num_filters, k, nr, nc), bias, stride and padding."""

    weights: np.ndarray
    bias: np.ndarray
    stride: int
    padding: int


@dataclass
class Affine:
    """A dlib ``affine_`` layer (batch norm folded by dlib): y = gamma * x + beta per channel."""

    gamma: np.ndarray
    beta: np.ndarray


@dataclass
class DlibResNet:
    """Layer sequence (tags) and parameters of the network, input to output."""

    tags: list[str] = field(default_factory=list)
    convs: list[Conv] = field(default_factory=list)
    affines: list[Affine] = field(default_factory=list)
    fc: np.ndarray | None = None  # (num_inputs, num_outputs), no bias
    input_mean: tuple[float, float, float] = (0.0, 0.0, 0.0)


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def integer(self) -> int:
        head = self.data[self.pos]
        count = head & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + count], "little")
        self.pos += 1 + count
        return -value if head & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        return float(mantissa) * 2.0**exponent

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise ValueError(f"unexpected dlib tensor version {version}")
        dims = [self.integer() for _ in range(4)]
        count = int(np.prod(dims))
        values = np.frombuffer(self.data, "<f4", count, self.pos).astype(np.float32)
        self.pos += 4 * count
        return values


def parse(data: bytes) -> DlibResNet:
    """Parse the network from the bytes of the ``.dat`` file."""
    net = DlibResNet()
    for match in _TAG.finditer(data):
        length = match.group(1)[0]
        tag = match.group(2)[:length].decode()
        reader = _Reader(data, match.start() + 2 + length)
        net.tags.append(tag)
        if tag == "input_rgb_image_sized":
            net.input_mean = (reader.real(), reader.real(), reader.real())
        elif tag == "con_4":
            params = reader.tensor()
            filters, rows, cols = reader.integer(), reader.integer(), reader.integer()
            stride_y, stride_x = reader.integer(), reader.integer()
            pad_y, pad_x = reader.integer(), reader.integer()
            if stride_y != stride_x or pad_y != pad_x or rows != cols:
                raise ValueError("unexpected non-square convolution")
            n_weights = params.size - filters
            channels = n_weights // (filters * rows * cols)
            weights = params[:n_weights].reshape(filters, channels, rows, cols)
            net.convs.append(Conv(weights, params[n_weights:].copy(), stride_y, pad_y))
        elif tag == "affine_":
            params = reader.tensor()
            half = params.size // 2
            net.affines.append(Affine(params[:half].copy(), params[half:].copy()))
        elif tag == "fc_2":
            outputs, inputs = reader.integer(), reader.integer()
            params = reader.tensor()
            if params.size != outputs * inputs:
                raise ValueError("the fully connected layer is expected to have no bias")
            net.fc = params.reshape(inputs, outputs)
    _check(net)
    return net


def _check(net: DlibResNet) -> None:
    if len(net.convs) != 29 or len(net.affines) != 29 or net.fc is None or net.fc.shape != (256, 128):
        raise ValueError(
            f"unexpected network structure: {len(net.convs)} conv, {len(net.affines)} affine layers"
        )
    first = net.convs[0]
    if first.weights.shape != (32, 3, 7, 7) or first.stride != 2 or first.padding != 0:
        raise ValueError("unexpected first convolution")

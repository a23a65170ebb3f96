"""The model builder's dlib reader: the .dat parses into the known architecture (no TensorFlow needed)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from congress.faces.reference import models_path

pytest.importorskip("face_recognition_models", reason="face_recognition_models is not installed")


@pytest.fixture(scope="module")
def net():
    from models.builder import dlib_weights

    data = models_path("dlib_face_recognition_resnet_model_v1.dat").read_bytes()
    assert hashlib.sha256(data).hexdigest() == dlib_weights.DAT_SHA256
    return dlib_weights.parse(data)


def test_architecture(net):
    from models.builder.embedder import _units

    assert len(net.convs) == 29 and len(net.affines) == 29 and net.fc.shape == (256, 128)
    assert net.input_mean == pytest.approx((122.782, 117.001, 104.298), abs=1e-3)
    downs = _units(net.tags)
    assert len(downs) == 14 and sum(downs) == 4  # 3×32, down+3×64, down+2×128, down+2×256, down 256
    widths = [c.weights.shape[0] for c in net.convs]
    assert widths[0] == 32 and widths[-1] == 256
    assert {(c.stride, c.padding) for c in net.convs[1:]} == {(1, 1), (2, 0)}


def test_folding_keeps_the_first_layer_exact(net):
    from models.builder.embedder import folded_layers

    weights, bias, stride, padding = folded_layers(net)[0]
    assert weights.shape == (7, 7, 3, 32) and (stride, padding) == (2, 0)
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (7, 7, 3)).astype(np.float64)
    conv, affine = net.convs[0], net.affines[0]
    scaled = (patch - np.asarray(net.input_mean)) / 256.0
    expected = np.einsum("fchw,hwc->f", conv.weights, scaled) + conv.bias
    expected = expected * affine.gamma + affine.beta
    ours = np.einsum("hwcf,hwc->f", weights, patch) + bias
    assert np.allclose(ours, expected, rtol=1e-4, atol=1e-4)

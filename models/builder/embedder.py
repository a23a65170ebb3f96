"""Rebuild dlib's face-recognition ResNet as a TensorFlow function and convert it to TFLite.

The graph follows dlib's ``anet_type`` (dnn_face_recognition_ex.cpp): a 7×7/2 convolution, 3×3/2 max
pool, 14 residual units (32, 64, 128, 256, 256 filters; a "down" unit strides by 2 and adds a 2×2/2
average pool of its input), global average pool and a 128-wide fully connected layer without bias.
dlib pads stride-2 convolutions and pools with 0 (VALID) and stride-1 3×3 convolutions with 1 (SAME).
Where a residual sum has tensors of different sizes, dlib's ``add_prev`` zero-pads the smaller one at
the end of each dimension; we do the same with ``tf.pad``. dlib's ``affine_`` layers are folded into
the preceding convolutions, and the input scaling ``(pixel - mean) / 256`` into the first convolution
(exact, because it has no padding), so the model takes raw RGB pixels 0..255.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from models.builder.dlib_weights import DlibResNet

CHIP_SIZE = 150


def _units(tags: list[str]) -> list[bool]:
    """Residual units after the stem, as a list of ``down`` flags read from the layer tags."""
    body = tags[tags.index("max_pool_2") + 1 : -2]  # up to the global avg_pool and fc
    units, i = [], 0
    while i < len(body):
        down = body[i + 5] == "avg_pool_2"
        expected = ["con_4", "affine_", "relu_", "con_4", "affine_"]
        expected += ["avg_pool_2"] if down else []
        expected += ["add_prev_", "relu_"]
        if body[i : i + len(expected)] != expected:
            raise ValueError(f"unexpected layer sequence at {i}: {body[i : i + len(expected)]}")
        units.append(down)
        i += len(expected)
    return units


def folded_layers(net: DlibResNet) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """Each convolution with its affine folded in: (HWIO weights, bias, stride, padding)."""
    layers = []
    for index, (conv, affine) in enumerate(zip(net.convs, net.affines, strict=True)):
        weights = conv.weights.astype(np.float64)
        bias = conv.bias.astype(np.float64)
        if index == 0:
            mean = np.asarray(net.input_mean, dtype=np.float64)
            bias = bias - np.einsum("fchw,c->f", weights, mean) / 256.0
            weights = weights / 256.0
        gamma = affine.gamma.astype(np.float64)
        weights = weights * gamma[:, None, None, None]
        bias = bias * gamma + affine.beta
        hwio = np.transpose(weights, (2, 3, 1, 0)).astype(np.float32)
        layers.append((hwio, bias.astype(np.float32), conv.stride, conv.padding))
    return layers


def make_function(net: DlibResNet):
    """A ``tf.function`` mapping [1,150,150,3] float RGB pixels to the raw 128-d descriptor."""
    import tensorflow as tf

    layers = [(tf.constant(w), tf.constant(b), s, p) for w, b, s, p in folded_layers(net)]
    fc = tf.constant(net.fc.astype(np.float32))
    units = _units(net.tags)

    def conv(x, layer):
        weights, bias, stride, padding = layer
        size = int(weights.shape[0])
        if padding == 0:
            mode = "VALID"
        elif stride == 1 and padding == size // 2:
            mode = "SAME"
        else:
            raise ValueError("unsupported convolution padding")
        return tf.nn.bias_add(tf.nn.conv2d(x, weights, stride, mode), bias)

    def add_padded(a, b):
        shape = [max(int(a.shape[i]), int(b.shape[i])) for i in range(4)]
        pad = lambda t: tf.pad(t, [[0, shape[i] - int(t.shape[i])] for i in range(4)])  # noqa: E731
        return pad(a) + pad(b)

    @tf.function(input_signature=[tf.TensorSpec([1, CHIP_SIZE, CHIP_SIZE, 3], tf.float32)])
    def descriptor(pixels):
        x = tf.nn.relu(conv(pixels, layers[0]))
        x = tf.nn.max_pool2d(x, 3, 2, "VALID")
        index = 1
        for down in units:
            y = tf.nn.relu(conv(x, layers[index]))
            y = conv(y, layers[index + 1])
            index += 2
            skip = tf.nn.avg_pool2d(x, 2, 2, "VALID") if down else x
            x = tf.nn.relu(add_padded(y, skip))
        x = tf.reduce_mean(x, axis=[1, 2])
        return tf.matmul(x, fc)

    return descriptor


def convert(net: DlibResNet, representative: Iterable[np.ndarray] | None) -> bytes:
    """TFLite flatbuffer: float when ``representative`` is None, else full-integer int8.

    The float model stores its weights as float16 (half the file size) and computes in float32:
    the runtime expands the weights once at load time.

    The int8 model takes uint8 RGB pixels and gives int8 descriptors (dequantize with the output's
    scale and zero point); weights are per-channel int8, activations calibrated on ``representative``
    (RGB uint8 150×150 face chips).
    """
    import tensorflow as tf

    function = make_function(net)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], function)
    if representative is not None:
        chips = [np.asarray(c, dtype=np.float32)[None] for c in representative]

        def dataset():
            for chip in chips:
                yield [chip]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.int8
    else:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()

"""TFLite conversion of graphs read by our own readers (:mod:`.onnx_graph`, :mod:`.tfjs_graph`).

:func:`convert` wraps a graph's ``run`` in a ``tf.function`` with a fixed NHWC input and writes a float
model (float16 weights, float32 compute) or, given representative inputs, a full-integer int8 model
whose input is uint8 pixels (``uint8_input``: the model takes RGB 0..255 exactly as the float model
takes them as float32) and whose output is int8 (scale and zero point in the manifest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


def convert(run: Callable, shape: list[int], representative: Iterable[np.ndarray] | None = None,
            *, uint8_input: bool = True) -> bytes:
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
    def model(x):
        return run(x)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([model.get_concrete_function()], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if representative is None:
        converter.target_spec.supported_types = [tf.float16]
        return converter.convert()
    samples = [np.asarray(s, dtype=np.float32)[None] for s in representative]

    def dataset():
        for sample in samples:
            yield [sample]

    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if uint8_input:
        converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    return converter.convert()

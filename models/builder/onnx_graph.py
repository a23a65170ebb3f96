"""Our own reader of ONNX face-embedder graphs, evaluated with TensorFlow ops in NHWC layout.

ONNX convolutions are NCHW; TFLite wants NHWC. :class:`OnnxGraph` keeps every activation NHWC:
convolution weights are transposed OIHW → HWIO (grouped convolutions with one input channel per
group become depthwise HWC1), per-channel parameters (batch norm, PReLU slopes) are flattened to the
channel axis, and the weight matrix of the first ``Gemm`` after a ``Flatten`` has its rows reordered
from ONNX's (C, H, W) order to NHWC's (H, W, C), so no transpose runs at inference and the result is
exactly ONNX's. A batch norm right after a convolution or ``Gemm`` is folded into its weights, and
PReLU is written as ``relu(x) + relu(-x) * -alpha``, which the TFLite converter turns
into its own PRELU op; a batch norm that feeds a ``Gemm`` (through ``Dropout``/``Flatten``) is folded
forward into that ``Gemm``: fewer quantized ops, so the int8 model stays close to the float one. Only
the ops of the embedders we build are known; any other stops the build by name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class OnnxGraph:
    """An ONNX model evaluated node by node with TensorFlow ops (inside ``tf.function`` for conversion)."""

    def __init__(self, path: Path | str) -> None:
        import onnx
        from onnx import numpy_helper

        self.path = Path(path)
        model = onnx.load(str(self.path))
        graph = model.graph
        self.weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes = list(graph.node)
        self.attrs = [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in self.nodes]
        inputs = [i for i in graph.input if i.name not in self.weights]
        self.input_name = inputs[0].name
        self.input_shape = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]  # NCHW
        self.output_name = graph.output[0].name
        self.ops = sorted({n.op_type for n in self.nodes})
        self._folded = self._fold_batch_norms()
        self._forward = self._forward_batch_norms()
        unknown = [op for op in self.ops if not hasattr(self, f"_op_{op}")]
        if unknown:
            raise ValueError(f"{self.path.name}: ONNX ops not supported by the reader: {unknown}")

    @property
    def nhwc_shape(self) -> list[int]:
        n, c, h, w = self.input_shape
        return [n, h, w, c]

    def run(self, image):
        """The model's output for one NHWC input tensor (same values as ONNX on the NCHW input)."""
        import tensorflow as tf

        self._tf = tf
        values = {self.input_name: image}
        self._flat: dict[str, tuple[int, int, int]] = {}
        self._pending: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        folded = self._folded
        for node, attrs in zip(self.nodes, self.attrs, strict=True):
            if node.output[0] in folded:
                values[node.output[0]] = values[folded[node.output[0]]]
                continue
            args = [values[i] if i in values else self.weights[i] for i in node.input if i]
            values[node.output[0]] = getattr(self, f"_op_{node.op_type}")(node, attrs, args)
        return values[self.output_name]

    def _forward_batch_norms(self) -> set[str]:
        """Outputs of batch norms (not folded backwards) whose only path is Dropout/Flatten → Gemm."""
        consumers: dict[str, list] = {}
        for node in self.nodes:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        out = set()
        for node in self.nodes:
            if node.op_type != "BatchNormalization" or node.output[0] in self._folded:
                continue
            name = node.output[0]
            while len(consumers.get(name, [])) == 1 and consumers[name][0].op_type in ("Dropout", "Flatten"):
                name = consumers[name][0].output[0]
            users = consumers.get(name, [])
            if len(users) == 1 and users[0].op_type == "Gemm" and users[0].input[0] == name:
                out.add(node.output[0])
        return out

    def _fold_batch_norms(self) -> dict[str, str]:
        """Fold each BatchNormalization whose input is only a Conv's or Gemm's output into that
        node's weights (scale the output channels, add the shift as bias); return bn output → input."""
        consumers: dict[str, int] = {}
        for node in self.nodes:
            for name in node.input:
                consumers[name] = consumers.get(name, 0) + 1
        producers = {n.output[0]: (n, a) for n, a in zip(self.nodes, self.attrs, strict=True)}
        folded = {}
        for node, attrs in zip(self.nodes, self.attrs, strict=True):
            if node.op_type != "BatchNormalization" or consumers.get(node.input[0]) != 1:
                continue
            source = producers.get(node.input[0])
            if source is None or source[0].op_type not in ("Conv", "Gemm"):
                continue
            prev, prev_attrs = source
            plain_gemm = (prev_attrs.get("alpha", 1.0) == 1.0 and prev_attrs.get("beta", 1.0) == 1.0
                          and prev_attrs.get("transB", 0))
            if prev.op_type == "Gemm" and not plain_gemm:
                continue
            gamma, beta, mean, var = (np.asarray(self.weights[i], np.float64) for i in node.input[1:5])
            scale = gamma / np.sqrt(var + attrs.get("epsilon", 1e-5))
            w = np.asarray(self.weights[prev.input[1]], np.float64)
            bias = np.asarray(self.weights[prev.input[2]], np.float64) if len(prev.input) > 2 else 0.0
            # Conv weights are (out, in, h, w); Gemm with transB (out, in): both scale along axis 0.
            w_name, b_name = prev.input[1] + "/bn_folded", prev.output[0] + "/bn_bias"
            self.weights[w_name] = (w * scale.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32)
            self.weights[b_name] = ((bias - mean) * scale + beta).astype(np.float32)
            del prev.input[1:]
            prev.input.extend([w_name, b_name])
            folded[node.output[0]] = node.input[0]
        return folded

    # --- ops -----------------------------------------------------------------------------------
    def _op_Sub(self, node, attrs, args):
        return args[0] - np.asarray(args[1], np.float32)

    def _op_Mul(self, node, attrs, args):
        return args[0] * np.asarray(args[1], np.float32)

    def _op_Add(self, node, attrs, args):
        return args[0] + args[1]

    def _op_Conv(self, node, attrs, args):
        tf = self._tf
        x, w = args[0], np.asarray(args[1], np.float32)
        group = attrs.get("group", 1)
        strides = attrs.get("strides", [1, 1])
        pads = attrs.get("pads", [0, 0, 0, 0])  # top, left, bottom, right
        kh, kw = w.shape[2:]
        same = strides == [1, 1] and pads == [(kh - 1) // 2, (kw - 1) // 2, kh // 2, kw // 2]
        if any(pads) and not same:
            x = tf.pad(x, [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]])
        padding = "SAME" if same else "VALID"
        if group == 1:
            y = tf.nn.conv2d(x, np.transpose(w, (2, 3, 1, 0)), [1, *strides, 1], padding,
                             dilations=attrs.get("dilations", [1, 1]))
        elif w.shape[1] == 1 and group == w.shape[0]:
            y = tf.nn.depthwise_conv2d(x, np.transpose(w, (2, 3, 0, 1)), [1, *strides, 1], padding)
        else:
            raise ValueError(f"{node.name}: grouped convolution with {group} groups is not supported")
        if len(args) > 2:
            y = tf.nn.bias_add(y, np.asarray(args[2], np.float32))
        return y

    def _op_BatchNormalization(self, node, attrs, args):
        x, gamma, beta, mean, var = args
        eps = attrs.get("epsilon", 1e-5)
        scale = np.asarray(gamma, np.float32) / np.sqrt(np.asarray(var, np.float32) + eps)
        shift = np.asarray(beta, np.float32) - np.asarray(mean, np.float32) * scale
        if node.output[0] in self._forward:  # applied by the Gemm it feeds
            self._pending[node.output[0]] = (scale, shift)
            return x
        return x * scale + shift

    def _op_PRelu(self, node, attrs, args):
        slope = np.asarray(args[1], np.float32).reshape(-1)
        # This exact form (relu(-x) times a (1, 1, C) constant) is what the converter fuses into PRELU.
        shape = (1, 1, -1) if len(args[0].shape) == 4 else (-1,)
        return self._tf.nn.relu(args[0]) + self._tf.nn.relu(-args[0]) * (-slope.reshape(shape))

    def _op_Relu(self, node, attrs, args):
        return self._tf.nn.relu(args[0])

    def _carry(self, node) -> None:
        if node.input[0] in self._pending:
            self._pending[node.output[0]] = self._pending.pop(node.input[0])

    def _op_Dropout(self, node, attrs, args):
        self._carry(node)
        return args[0]  # inference: identity

    def _op_Flatten(self, node, attrs, args):
        x = args[0]
        _, h, w, c = x.shape
        self._flat[node.output[0]] = (int(c), int(h), int(w))
        self._carry(node)
        return self._tf.reshape(x, [-1, int(h) * int(w) * int(c)])

    def _op_Gemm(self, node, attrs, args):
        x, w = args[0], np.asarray(args[1], np.float32)
        if attrs.get("transA", 0):
            raise ValueError(f"{node.name}: transA is not supported")
        w = w if attrs.get("transB", 0) else w.T  # now (out, in)
        chw = self._flat.get(node.input[0])
        if chw is not None:  # rows were flattened as (C, H, W) in ONNX, (H, W, C) here
            c, h, width = chw
            w = w.reshape(-1, c, h, width).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
        bias = np.asarray(args[2], np.float32) * attrs.get("beta", 1.0) if len(args) > 2 else 0.0
        w = w * attrs.get("alpha", 1.0)
        if node.input[0] in self._pending:  # a batch norm before the flatten: x*scale + shift
            scale, shift = self._pending.pop(node.input[0])
            reps = w.shape[1] // scale.size  # NHWC flatten: channel is the fastest axis
            bias = bias + w @ np.tile(shift, reps)
            w = w * np.tile(scale, reps)
        y = self._tf.matmul(x, w.T)
        return y + bias if np.ndim(bias) else y

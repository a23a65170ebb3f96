"""Our own reader of TF.js graph models (``model.json`` + ``*.bin`` shards), run with TensorFlow ops.

A TF.js graph model is a TensorFlow ``GraphDef`` written as JSON (``modelTopology``) whose constants
live in binary shards described by ``weightsManifest`` (float32, int32, or float16-quantized float32).
:class:`TfjsGraph` reads both and evaluates the graph node by node with TensorFlow's own ops, so a
``tf.function`` wrapped around :meth:`TfjsGraph.run` converts to TFLite like any Keras model. TF.js
fuses some ops (``_FusedConv2D``, ``FusedDepthwiseConv2dNative``, ``_FusedMatMul``: the op followed
by ``BiasAdd`` and an activation); they are evaluated un-fused here. An op this reader does not know
stops the build with its name, never silently.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_TF_DTYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_}


def _attr(node: dict, name: str, default=None):
    value = node.get("attr", {}).get(name)
    if value is None:
        return default
    if "list" in value:
        items = value["list"]
        if "i" in items:
            return [int(v) for v in items["i"]]
        if "s" in items:
            return [base64.b64decode(v).decode() for v in items["s"]]
        if "f" in items:
            return [float(v) for v in items["f"]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "type" in value:
        return value["type"]
    return value


def read_weights(model_json: Path) -> dict[str, np.ndarray]:
    """Every constant of the model, by node name, as float32/int32 arrays."""
    model = json.loads(model_json.read_text())
    weights: dict[str, np.ndarray] = {}
    for group in model["weightsManifest"]:
        data = b"".join((model_json.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(s) for s in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            if quant and quant.get("dtype") == "float16":
                raw = np.frombuffer(data, np.float16, count, offset)
                offset += 2 * count
                array = raw.astype(np.float32)
            elif quant:
                raise ValueError(f"{model_json.name}: quantization {quant} of {spec['name']} "
                                 "is not supported")
            else:
                dtype = _DTYPES[spec["dtype"]]
                array = np.frombuffer(data, dtype, count, offset).copy()
                offset += array.itemsize * count
            weights[spec["name"]] = array.reshape(shape)
    return weights


class TfjsGraph:
    """A TF.js graph model, evaluated with TensorFlow ops (inside ``tf.function`` for conversion)."""

    def __init__(self, model_json: Path | str) -> None:
        self.path = Path(model_json)
        model = json.loads(self.path.read_text())
        self.meta = {k: v for k, v in model.items() if k not in ("modelTopology", "weightsManifest")}
        self.nodes = {n["name"]: n for n in model["modelTopology"]["node"]}
        self.weights = read_weights(self.path)
        self.inputs = [n for n in self.nodes.values() if n["op"] == "Placeholder"]
        self.ops = sorted({n["op"] for n in self.nodes.values()})
        unknown = [op for op in self.ops if not hasattr(self, f"_op_{op.lstrip('_')}")]
        if unknown:
            raise ValueError(f"{self.path.name}: TF.js ops not supported by the reader: {unknown}")

    @property
    def input_shape(self) -> list[int]:
        dims = self.inputs[0]["attr"]["shape"]["shape"]["dim"]
        return [int(d["size"]) for d in dims]

    def run(self, image, outputs: list[str]):
        """Evaluate ``outputs`` (node names, optionally ``name:index``) for the one input tensor."""
        import tensorflow as tf

        self._tf = tf
        values: dict[str, object] = {self.inputs[0]["name"]: image}
        return [self._value(name.split(":")[0], values) for name in outputs]

    def _value(self, name: str, values: dict):
        name = name.lstrip("^").split(":")[0]
        if name in values:
            return values[name]
        # Iterative depth-first evaluation: deep graphs would overflow Python's recursion limit.
        stack = [name]
        while stack:
            current = stack[-1]
            if current in values:
                stack.pop()
                continue
            node = self.nodes[current]
            missing = [i.split(":")[0] for i in node.get("input", [])
                       if not i.startswith("^") and i.split(":")[0] not in values]
            if missing:
                stack.extend(missing)
                continue
            args = [values[i.split(":")[0]] for i in node.get("input", []) if not i.startswith("^")]
            values[current] = getattr(self, f"_op_{node['op'].lstrip('_')}")(node, args)
            stack.pop()
        return values[name]

    # --- ops -----------------------------------------------------------------------------------
    def _op_Const(self, node, args):
        if node["name"] in self.weights:
            return self._tf.constant(self.weights[node["name"]])
        tensor = node["attr"]["value"]["tensor"]
        dtype = _TF_DTYPES[tensor["dtype"]]
        shape = [int(d["size"]) for d in tensor.get("tensorShape", {}).get("dim", [])]
        for key in ("floatVal", "intVal"):
            if key in tensor:
                return self._tf.constant(np.array(tensor[key], dtype).reshape(shape) if shape else
                                         np.array(tensor[key][0], dtype))
        raise ValueError(f"constant {node['name']} has no value")

    def _op_Placeholder(self, node, args):
        raise ValueError(f"unbound input {node['name']}")

    def _op_Identity(self, node, args):
        return args[0]

    def _conv(self, node, x, w, depthwise: bool):
        tf = self._tf
        strides = _attr(node, "strides", [1, 1, 1, 1])
        padding = _attr(node, "padding", "VALID")
        dilations = _attr(node, "dilations", [1, 1, 1, 1])
        if padding == "EXPLICIT":
            pads = _attr(node, "explicit_paddings")
            x = tf.pad(x, np.array(pads, np.int32).reshape(4, 2))
            padding = "VALID"
        if depthwise:
            return tf.nn.depthwise_conv2d(x, w, strides, padding, dilations=dilations[1:3])
        return tf.nn.conv2d(x, w, strides, padding, dilations=dilations)

    def _fused(self, node, y, extra):
        tf = self._tf
        ops = _attr(node, "fused_ops", [])
        at = 0
        for op in ops:
            if op == "BiasAdd":
                y = tf.nn.bias_add(y, extra[at])
                at += 1
            elif op == "Relu":
                y = tf.nn.relu(y)
            elif op == "Relu6":
                y = tf.nn.relu6(y)
            elif op == "Prelu":
                alpha = extra[at]
                at += 1
                y = tf.maximum(y, 0.0) + alpha * tf.minimum(y, 0.0)
            elif op == "LeakyRelu":
                y = tf.nn.leaky_relu(y, _attr(node, "leakyrelu_alpha", 0.2))
            elif op == "Sigmoid":
                y = tf.sigmoid(y)
            elif op == "Elu":
                y = tf.nn.elu(y)
            else:
                raise ValueError(f"{node['name']}: fused op {op} is not supported")
        return y

    def _op_Conv2D(self, node, args):
        return self._conv(node, args[0], args[1], False)

    def _op_FusedConv2D(self, node, args):
        return self._fused(node, self._conv(node, args[0], args[1], False), args[2:])

    def _op_DepthwiseConv2dNative(self, node, args):
        return self._conv(node, args[0], args[1], True)

    def _op_FusedDepthwiseConv2dNative(self, node, args):
        return self._fused(node, self._conv(node, args[0], args[1], True), args[2:])

    def _op_MatMul(self, node, args):
        return self._tf.matmul(args[0], args[1], transpose_a=_attr(node, "transpose_a", False),
                               transpose_b=_attr(node, "transpose_b", False))

    def _op_FusedMatMul(self, node, args):
        return self._fused(node, self._op_MatMul(node, args[:2]), args[2:])

    def _op_BiasAdd(self, node, args):
        return self._tf.nn.bias_add(args[0], args[1])

    def _op_Add(self, node, args):
        return args[0] + args[1]

    _op_AddV2 = _op_Add

    def _op_AddN(self, node, args):
        return self._tf.add_n(args)

    def _op_Sub(self, node, args):
        return args[0] - args[1]

    def _op_Mul(self, node, args):
        return args[0] * args[1]

    def _op_RealDiv(self, node, args):
        return args[0] / args[1]

    def _op_Maximum(self, node, args):
        return self._tf.maximum(args[0], args[1])

    def _op_Minimum(self, node, args):
        return self._tf.minimum(args[0], args[1])

    def _op_Relu(self, node, args):
        return self._tf.nn.relu(args[0])

    def _op_Relu6(self, node, args):
        return self._tf.nn.relu6(args[0])

    def _op_Prelu(self, node, args):
        return self._tf.maximum(args[0], 0.0) + args[1] * self._tf.minimum(args[0], 0.0)

    def _op_Abs(self, node, args):
        return self._tf.abs(args[0])

    def _op_Square(self, node, args):
        return self._tf.square(args[0])

    def _op_Rsqrt(self, node, args):
        return self._tf.math.rsqrt(args[0])

    def _op_Sigmoid(self, node, args):
        return self._tf.sigmoid(args[0])

    def _op_Softmax(self, node, args):
        return self._tf.nn.softmax(args[0])

    def _reduce(self, node, args, fn):
        axis = self._tf.get_static_value(args[1])
        axes = [int(a) for a in np.atleast_1d(axis)]
        return fn(args[0], axis=axes, keepdims=_attr(node, "keep_dims", False))

    def _op_Mean(self, node, args):
        return self._reduce(node, args, self._tf.reduce_mean)

    def _op_Sum(self, node, args):
        return self._reduce(node, args, self._tf.reduce_sum)

    def _op_Squeeze(self, node, args):
        return self._tf.squeeze(args[0], axis=_attr(node, "squeeze_dims", None) or None)

    def _op_Reshape(self, node, args):
        shape = [int(s) for s in self._tf.get_static_value(args[1])]
        return self._tf.reshape(args[0], shape)

    def _op_Pad(self, node, args):
        return self._tf.pad(args[0], self._tf.get_static_value(args[1]))

    def _op_MaxPool(self, node, args):
        return self._tf.nn.max_pool2d(args[0], _attr(node, "ksize")[1:3], _attr(node, "strides")[1:3],
                                      _attr(node, "padding"))

"""The import driver: walks the ONNX graph in order and dispatches each node
to the function named after its op (`zkaudit.onnx.ops_*`).

Where do a float tensor's quantization parameters come from
(`Importer.out_qparams`)? In order:
  1. a QuantizeLinear that consumes it (QDQ models say so explicitly);
  2. the Relu/Clip that is its only consumer -- the producer then
     requantizes straight into the activation's range, i.e. Relu is fused
     and costs no resolution;
  3. our calibration (float models);
  4. a shape-only consumer (Reshape, MaxPool, ...), whose output it shares.
Nodes whose inputs are all constants are evaluated at import (constant
folding) with onnx's reference evaluator.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from zkaudit.circuit import TensorSpec
from zkaudit.onnx.builder import Builder
from zkaudit.onnx.errors import MissingCalibration, OnnxImportError, UnsupportedOp
from zkaudit.onnx.quant import INT8, QParams, dtype_range, from_range
from zkaudit.onnx.values import Act, QConst

FUSED_ACTIVATIONS = ("Relu", "Clip")
SHAPE_ONLY = ("Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Dropout", "MaxPool",
              "Relu", "Clip", "GlobalMaxPool", "Gather", "GatherElements", "Slice", "Split", "Tile", "DepthToSpace",
              "SpaceToDepth", "ReduceMax", "ReduceMin")
KEEP_UNFOLDED = ("DequantizeLinear",)


class Importer:
    def __init__(self, model: onnx.ModelProto, ops: dict, *, ranges=None, ort_exact: bool = False, name="model"):
        self.model = model
        self.graph = model.graph
        self.ops = ops
        self.ranges = ranges  # tensor name -> (lo, hi) from calibration, or None
        self.ort_exact = ort_exact  # requantize exactly as onnxruntime computes scales (float32)
        self.opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
        self.b = Builder(name)
        self.values: dict[str, object] = {
            i.name: numpy_helper.to_array(i) for i in self.graph.initializer
        }
        self.graph_inputs = {i.name: i for i in self.graph.input if i.name not in self.values}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for n in self.graph.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.producer = {o: n for n in self.graph.node for o in n.output}
        self.node: onnx.NodeProto | None = None

    # -- dispatch ---------------------------------------------------------
    def run(self) -> list[TensorSpec]:
        for node in self.graph.node:
            self.node = node
            if node.op_type == "Constant":
                self.values[node.output[0]] = _constant_value(node)
                continue
            ins = [i for i in node.input if i]
            if ins and all(self.is_const(i) for i in ins) and node.op_type not in KEEP_UNFOLDED:
                self._fold(node)
                continue
            fn = self.ops.get((node.domain or "ai.onnx", node.op_type))
            if fn is None:
                raise self.unsupported(node, "is not supported")
            fn(self, node)
        return self._outputs()

    def unsupported(self, node, what: str) -> UnsupportedOp:
        return unsupported_op(node, self.opsets, self.ops, what)

    def fail(self, what: str) -> OnnxImportError:
        n = self.node
        return OnnxImportError(f"node {n.name or n.output[0]!r} ({n.op_type}): {what}")

    def _fold(self, node) -> None:
        from onnx.reference import ReferenceEvaluator

        inputs = {i: self.const(i) for i in node.input if i}
        try:
            graph = helper.make_graph(
                [node], "fold",
                [helper.make_tensor_value_info(i, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                 for i, v in inputs.items()],
                [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output if o],
            )
            model = helper.make_model(graph, opset_imports=self.model.opset_import)
            results = ReferenceEvaluator(model).run(None, inputs)
        except Exception as exc:
            raise self.fail(f"constant folding failed: {exc}") from None
        for o, v in zip([o for o in node.output if o], results):
            self.values[o] = np.asarray(v)

    def _outputs(self) -> list[TensorSpec]:
        outs = []
        for o in self.graph.output:
            v = self.values.get(o.name)
            if not isinstance(v, Act):
                raise OnnxImportError(f"graph output {o.name!r} is a constant; a circuit output must be computed")
            spec = v.spec
            scale = v.scale if v.is_float else None
            outs.append(TensorSpec(spec.name, spec.shape, spec.lo, spec.hi, scale, v.zero_point if scale else 0))
        return outs

    # -- values -----------------------------------------------------------
    def is_const(self, name: str) -> bool:
        v = self.values.get(name)
        return v is not None and not isinstance(v, Act)

    def const(self, name: str, what: str = "input") -> np.ndarray:
        v = self.values.get(name)
        if isinstance(v, QConst):
            return v.dequantized()
        if v is None and name in self.graph_inputs:
            raise self.fail(f"{what} {name!r} must be a constant (an initializer), not a graph input")
        if not isinstance(v, np.ndarray):
            raise self.fail(f"{what} {name!r} must be a constant, but it is computed at run time")
        return v

    def opt_const(self, node, index: int, default=None):
        if len(node.input) > index and node.input[index]:
            return self.const(node.input[index])
        return default

    def act(self, name: str) -> Act:
        v = self.values.get(name)
        if isinstance(v, Act):
            return v
        if name in self.graph_inputs:
            return self._make_input(name)
        if v is None:
            raise self.fail(f"input {name!r} is not defined")
        return self.const_act(name, v)

    def const_act(self, name: str, value) -> Act:
        """A constant used where an activation is expected (e.g. Add(x, c)):
        it becomes a weight, symmetric int8 per tensor (or as given, if QConst)."""
        if isinstance(value, QConst):
            if value.per_axis:
                raise self.fail(f"per-axis quantized constant {name!r} used as an elementwise operand")
            spec = self.b.add_weight(name, value.values)
            return Act(spec, float(np.asarray(value.scale).reshape(())), int(np.asarray(value.zero_point).reshape(())),
                       dtype_range(value.values.dtype), True)
        arr = np.asarray(value)
        if arr.dtype.kind in "iu":
            spec = self.b.add_weight(name, arr.astype(np.int64))
            return Act(spec, None, 0, (spec.lo, spec.hi), False)
        peak = float(np.max(np.abs(arr))) if arr.size else 0.0
        scale = float(np.float32(peak / 127)) if peak > 0 else 1.0
        q = np.clip(np.rint(arr / scale), -127, 127).astype(np.int64)
        return Act(self.b.add_weight(name, q), scale, 0, INT8, True)

    def _make_input(self, name: str) -> Act:
        vi = self.graph_inputs[name]
        elem = vi.type.tensor_type.elem_type
        shape = tuple(d.dim_value for d in vi.type.tensor_type.shape.dim)
        np_type = helper.tensor_dtype_to_np_dtype(elem)
        if np_type.kind in "iub":
            lo, hi = (0, 1) if np_type.kind == "b" else dtype_range(np_type) if np_type.itemsize <= 2 else (None, None)
            index_lo, index_hi = self._index_range(name) if np_type.kind != "b" else (None, None)
            if index_lo is not None:  # embedding indices: the values ONNX accepts, within the type
                lo, hi = (index_lo, index_hi) if lo is None else (max(lo, index_lo), min(hi, index_hi))
            if lo is None:
                raise OnnxImportError(f"input {name!r} is {np_type} (wider than 16 bits): not supported, except as "
                                      "the indices of a Gather from a constant table (an embedding)")
            act = Act(self.b.add_input(name, shape, lo, hi, None, 0), None, 0, (lo, hi), False)
        elif np_type.kind == "f":
            qp = self.out_qparams(name)
            act = Act(self.b.add_input(name, shape, qp.qmin, qp.qmax, qp.scale, qp.zero_point),
                      qp.scale, qp.zero_point, (qp.qmin, qp.qmax), True)
        else:
            raise OnnxImportError(f"input {name!r} has element type {np_type}: not supported")
        self.values[name] = act
        return act

    def _index_range(self, name: str) -> tuple[int | None, int | None]:
        """[-V, V-1] for an integer input read only as the indices of
        Gathers (axis 0) from constant tables of V rows or more: the values
        ONNX accepts there, which the lookup proves (`ops_integer.embedding`)."""
        users = self.consumers.get(name, [])
        rows = []
        for c in users:
            data = self.values.get(c.input[0])
            if c.op_type != "Gather" or list(c.input[1:]) != [name] or data is None or isinstance(data, Act) \
                    or node_attrs(c).get("axis", 0) != 0:
                return None, None
            rows.append(np.shape(data.values if isinstance(data, QConst) else data)[0])
        if not rows or self._is_graph_output(name):
            return None, None
        return -min(rows), min(rows) - 1

    def set(self, name: str, act: Act) -> None:
        self.values[name] = act

    # -- quantization parameters of float tensors ------------------------
    def out_qparams(self, name: str, depth: int = 0) -> QParams:
        consumers = self.consumers.get(name, [])
        for c in consumers:
            if c.op_type == "QuantizeLinear" and c.input[0] == name:
                qp = self._q_node_params(c)
                if qp is not None:
                    return qp
        if depth < 16 and len(consumers) == 1 and consumers[0].op_type in FUSED_ACTIVATIONS \
                and consumers[0].input[0] == name and not self._is_graph_output(name):
            return self.out_qparams(consumers[0].output[0], depth + 1)
        if self.ranges is not None and name in self.ranges:
            return from_range(*self.ranges[name])
        if depth < 16:
            for c in consumers:
                if c.op_type in SHAPE_ONLY and c.input[0] == name:
                    return self.out_qparams(c.output[0], depth + 1)
        producer = self.producer.get(name)
        where = f"produced by node {producer.name!r} ({producer.op_type})" if producer else "a graph input"
        raise MissingCalibration(
            f"no quantization parameters for float tensor {name!r} ({where})",
            hint="a float model needs calibration data (--calibration FILE); a QDQ model needs a "
                 "QuantizeLinear after this tensor",
        )

    def _is_graph_output(self, name: str) -> bool:
        return any(o.name == name for o in self.graph.output)

    def _q_node_params(self, node) -> QParams | None:
        if not (len(node.input) > 1 and self.is_const(node.input[1])):
            return None
        scale = np.asarray(self.const(node.input[1]))
        zp = self.opt_const(node, 2, np.zeros((), dtype=np.uint8))
        zp = self.values.get(node.input[2]) if len(node.input) > 2 and node.input[2] else zp
        zp = np.asarray(zp.values if isinstance(zp, QConst) else zp)
        if scale.size != 1 or zp.size != 1:
            return None
        dtype = zp.dtype
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if "output_dtype" in attrs and attrs["output_dtype"]:
            dtype = helper.tensor_dtype_to_np_dtype(attrs["output_dtype"])
        if dtype.kind not in "iu" or dtype.itemsize > 2:
            return None
        return QParams(float(scale.reshape(())), int(zp.reshape(())), *dtype_range(dtype))


def unsupported_op(node, opsets: dict, ops: dict, what: str, others=()) -> UnsupportedOp:
    from zkaudit.onnx.registry import fix_for

    domain = node.domain or "ai.onnx"
    supported = sorted(op if d == "ai.onnx" else f"{d}:{op}" for d, op in ops)
    return UnsupportedOp(node.name or node.output[0], node.op_type, domain, opsets.get(domain, 0), what, supported,
                         fix=fix_for(domain, node.op_type, opsets.get(domain, 0)), others=others)


def check_ops(model: onnx.ModelProto, ops: dict) -> None:
    """Fail, before any calibration work, naming every node whose op we
    cannot import (each with its fix when one is known). Mirrors
    `Importer.run`: nodes whose inputs are all constants are folded (any op),
    Shape gives a constant (shapes are fixed)."""
    from zkaudit.onnx.registry import fix_for

    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    const = {i.name for i in model.graph.initializer}
    types = _elem_types(model) if any(n.op_type in STATIC_REFUSALS for n in model.graph.node) else {}
    bad = []
    for node in model.graph.node:
        ins = [i for i in node.input if i]
        if node.op_type in ("Constant", "Shape") or (ins and all(i in const for i in ins)):
            const.update(o for o in node.output if o)
        elif (node.domain or "ai.onnx", node.op_type) not in ops:
            bad.append(node)
        elif node.op_type in STATIC_REFUSALS and STATIC_REFUSALS[node.op_type](node, types):
            bad.append(node)
    if not bad:
        return
    others = []
    for node in bad[1:]:
        domain = node.domain or "ai.onnx"
        fix = fix_for(domain, node.op_type, opsets.get(domain, 0))
        others.append(f"node {node.name or node.output[0]!r}: op {node.op_type} (domain {domain})"
                      + (f" [fix: {fix}]" if fix else ""))
    raise unsupported_op(bad[0], opsets, ops, "is not supported", others)


def _elem_types(model: onnx.ModelProto) -> dict[str, int]:
    """Element type of every tensor onnx's type inference can name."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a model onnx cannot type: the importer names the problem node later
        inferred = model
    g = inferred.graph
    types = {t.name: t.data_type for t in g.initializer}
    for v in (*g.input, *g.value_info, *g.output):
        types[v.name] = v.type.tensor_type.elem_type
    return types


def _float_to_integer_cast(node, types: dict[str, int]) -> bool:
    """A Cast of a float tensor to an integer or bool type (refused on import)."""
    to = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "to"), None)
    src = types.get(node.input[0])
    if to is None or not src:
        return False
    return (helper.tensor_dtype_to_np_dtype(src).kind == "f"
            and helper.tensor_dtype_to_np_dtype(to).kind in "iub")


# Ops we import, refused for some nodes in a way the model's types already show:
# `check_ops` lists those nodes with the unsupported ones.
STATIC_REFUSALS = {"Cast": _float_to_integer_cast}


def _constant_value(node) -> np.ndarray:
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name in ("value_float", "value_int"):
            return np.asarray(helper.get_attribute_value(a))
        if a.name in ("value_floats", "value_ints"):
            return np.asarray(helper.get_attribute_value(a))
    raise OnnxImportError(f"Constant node {node.name!r} has no supported value attribute")


def node_attrs(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}

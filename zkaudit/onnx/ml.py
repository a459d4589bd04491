"""scikit-learn models as skl2onnx writes them: the `ai.onnx.ml` ops of
linear models and MLPs, rewritten at load time into standard ONNX ops that
the importer already proves (so each costs no new circuit op):

    Scaler(x)                 -> Gemm(x, diag(scale), -offset * scale)
    LinearRegressor(x)        -> Gemm(x, coefficients, intercepts, transB=1)
    LinearClassifier(x)       -> Gemm(...) [-> Sigmoid | Softmax]; label -> ArgMax
    Normalizer(L1) of probabilities that already sum to 1 -> Identity
    ZipMap(p)                 -> Identity: the circuit outputs the probability tensor
    Cast to the type its input already has -> Identity
    ArrayFeatureExtractor(arange(k), i)   -> Identity(i) (class labels 0..k-1)
    ArrayFeatureExtractor(x, constant idx) -> MatMul(x, 0/1 selection matrix)

The rewritten graph is what `compile` measures fidelity against;
tests/onnx/test_sklearn.py checks that onnxruntime gives the same outputs on
it as on the skl2onnx original. Tree ensembles (TreeEnsembleClassifier /
TreeEnsembleRegressor) are left in place and imported by `zkaudit.onnx.ml_trees`
from the IR's MatMul, Clip and ArgMax; anything else (string labels, PROBIT)
is left in place and refused by `check_ops` with its fix.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ML = "ai.onnx.ml"


def _attrs(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class _Rewriter:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.g = model.graph
        self.inits = {i.name: i for i in self.g.initializer}
        self.sums_to_one: set[str] = set()  # tensors known to be probability rows (Softmax, two-class sigmoid)
        self.int_tensors: set[str] = set()  # int64 tensors we produce (labels)
        self.float_tensors = {i.name for i in self.g.input if i.type.tensor_type.elem_type == TensorProto.FLOAT}
        self.used = {n for node in self.g.node for n in list(node.input) + list(node.output)} | set(self.inits)

    def name(self, hint: str) -> str:
        n, i = hint, 0
        while n in self.used:
            i += 1
            n = f"{hint}_{i}"
        self.used.add(n)
        return n

    def init(self, hint: str, value) -> str:
        name = self.name(hint)
        t = numpy_helper.from_array(np.asarray(value), name)
        self.g.initializer.append(t)
        self.inits[name] = t
        return name

    def features(self, tensor: str) -> int | None:
        for vi in list(self.g.input) + list(self.g.value_info):
            if vi.name == tensor:
                dims = vi.type.tensor_type.shape.dim
                if dims and dims[-1].HasField("dim_value"):
                    return int(dims[-1].dim_value)
        return None

    # -- one method per ai.onnx.ml op; each returns replacement nodes or None (leave it)
    def Scaler(self, node):
        at = _attrs(node)
        offset = np.asarray(at.get("offset", [0.0]), dtype=np.float64)
        scale = np.asarray(at.get("scale", [1.0]), dtype=np.float64)
        f = max(offset.size, scale.size)
        if f == 1:
            f = self.features(node.input[0]) or 0
        if f < 1:
            return None
        offset, scale = np.broadcast_to(offset, (f,)), np.broadcast_to(scale, (f,))
        w = self.init(node.output[0] + "/scale", np.diag(scale).astype(np.float32))
        b = self.init(node.output[0] + "/shift", (-offset * scale).astype(np.float32))
        return [helper.make_node("Gemm", [node.input[0], w, b], [node.output[0]], name=node.name or node.output[0])]

    def LinearRegressor(self, node):
        at = _attrs(node)
        if _text(at.get("post_transform", "NONE")) != "NONE":
            return None
        targets = int(at.get("targets", 1))
        coef = np.asarray(at["coefficients"], dtype=np.float32).reshape(targets, -1)
        icpt = np.asarray(at.get("intercepts", [0.0] * targets), dtype=np.float32)
        w, b = self.init(node.output[0] + "/coefficients", coef), self.init(node.output[0] + "/intercepts", icpt)
        return [helper.make_node("Gemm", [node.input[0], w, b], [node.output[0]], transB=1,
                                 name=node.name or node.output[0])]

    def LinearClassifier(self, node):
        at = _attrs(node)
        labels = at.get("classlabels_ints")
        post = _text(at.get("post_transform", "NONE"))
        if labels is None or list(labels) != list(range(len(labels))) or post not in ("NONE", "LOGISTIC", "SOFTMAX"):
            return None
        k = len(labels)
        coef = np.asarray(at["coefficients"], dtype=np.float32)
        icpt = np.asarray(at.get("intercepts", []), dtype=np.float32)
        rows = icpt.size if icpt.size else k
        coef = coef.reshape(rows, -1)
        if icpt.size == 0:
            icpt = np.zeros(rows, np.float32)
        if rows == 1 and k == 2:  # one score s for two classes: onnxruntime reports [-s, s]
            coef, icpt, rows = np.concatenate([-coef, coef]), np.concatenate([-icpt, icpt]), 2
        if rows != k:
            return None
        base = node.name or node.output[0]
        scores = node.output[1] if post == "NONE" else self.name(base + "/scores")
        w, b = self.init(base + "/coefficients", coef), self.init(base + "/intercepts", icpt)
        out = [helper.make_node("Gemm", [node.input[0], w, b], [scores], transB=1, name=base)]
        if post == "LOGISTIC":
            out.append(helper.make_node("Sigmoid", [scores], [node.output[1]], name=base + "/logistic"))
            if k == 2 and np.allclose(coef[0], -coef[1]) and np.isclose(icpt[0], -icpt[1]):
                self.sums_to_one.add(node.output[1])
        elif post == "SOFTMAX":
            out.append(helper.make_node("Softmax", [scores], [node.output[1]], axis=1, name=base + "/softmax"))
            self.sums_to_one.add(node.output[1])
        if node.output[0]:
            out.append(helper.make_node("ArgMax", [node.output[1]], [node.output[0]], axis=1, keepdims=0,
                                        name=base + "/label"))
            self.int_tensors.add(node.output[0])
        return out

    def Normalizer(self, node):
        if _text(_attrs(node).get("norm", "MAX")) == "L1" and node.input[0] in self.sums_to_one:
            self.sums_to_one.add(node.output[0])
            return [helper.make_node("Identity", [node.input[0]], [node.output[0]], name=node.name or node.output[0])]
        return None

    def ZipMap(self, node):
        for o in self.g.output:
            if o.name == node.output[0]:
                o.type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
        return [helper.make_node("Identity", [node.input[0]], [node.output[0]], name=node.name or node.output[0])]

    def ArrayFeatureExtractor(self, node):
        data, idx = node.input[0], node.input[1]
        if data in self.inits and idx not in self.inits:
            values = numpy_helper.to_array(self.inits[data])
            if values.dtype.kind in "iu" and np.array_equal(values.reshape(-1), np.arange(values.size)):
                self.int_tensors.add(node.output[0])
                return [helper.make_node("Identity", [idx], [node.output[0]], name=node.name or node.output[0])]
            return None
        if idx in self.inits and data not in self.inits:
            f = self.features(data)
            cols = numpy_helper.to_array(self.inits[idx]).reshape(-1).astype(np.int64)
            if f is None or cols.size == 0 or cols.min() < 0 or cols.max() >= f:
                return None
            select = np.zeros((f, cols.size), np.float32)
            select[cols, np.arange(cols.size)] = 1.0
            s = self.init(node.output[0] + "/select", select)
            return [helper.make_node("MatMul", [data, s], [node.output[0]], name=node.name or node.output[0])]
        return None

    def Cast(self, node):
        to = _attrs(node).get("to")
        src = node.input[0]
        if to == TensorProto.INT64 and src in self.int_tensors:
            self.int_tensors.add(node.output[0])
            return [helper.make_node("Identity", [src], [node.output[0]], name=node.name or node.output[0])]
        if to == TensorProto.FLOAT and self._is_float(src):
            return [helper.make_node("Identity", [src], [node.output[0]], name=node.name or node.output[0])]
        return None

    def _is_float(self, name: str) -> bool:
        return name in self.float_tensors

    def track(self, node) -> None:
        """Element types through the ops a rewrite leaves in place, for Cast."""
        ins = [i for i in node.input if i]
        if node.op_type == "ArgMax":
            self.int_tensors.update(node.output)
        elif node.op_type == "TreeEnsembleClassifier":  # imported as is (zkaudit.onnx.ml_trees)
            self.int_tensors.add(node.output[0])
            self.float_tensors.update(node.output[1:])
        elif node.op_type == "TreeEnsembleRegressor":
            self.float_tensors.update(node.output)
        elif node.op_type in _SHAPE_OPS and ins and ins[0] in self.int_tensors:
            self.int_tensors.update(node.output)
        elif node.op_type in _FLOAT_OPS and ins and ins[0] in self.float_tensors:
            self.float_tensors.update(node.output)


_SHAPE_OPS = ("Reshape", "Identity", "Flatten", "Squeeze", "Unsqueeze")
_FLOAT_OPS = _SHAPE_OPS + ("Gemm", "MatMul", "Add", "Sub", "Mul", "Relu", "Sigmoid", "Tanh", "Softmax", "Concat")


def lower_ml(model: onnx.ModelProto) -> bool:
    """Rewrite the `ai.onnx.ml` ops (and no-op Casts) of a scikit-learn
    export in place, in graph order; returns whether anything changed."""
    rw = _Rewriter(model)
    changed = False
    nodes = list(model.graph.node)
    out = []
    for node in nodes:
        method = getattr(rw, node.op_type, None) if (node.domain in (ML,) or node.op_type == "Cast") else None
        new = method(node) if method is not None else None
        if new is None:
            new = [node]
        else:
            changed = True
        for n in new:
            rw.track(n)
        out.extend(new)
    if changed:
        del model.graph.node[:]
        model.graph.node.extend(out)
        if not any(n.domain == ML for n in model.graph.node):
            keep = [o for o in model.opset_import if o.domain != ML]
            del model.opset_import[:]
            model.opset_import.extend(keep)
    return changed

"""Loading a model file and putting its graph in the form the importer wants:
fixed input shapes, and BatchNormalization folded into the Conv/Gemm before
it (one fewer op to prove, no accuracy change)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from zkaudit.onnx.errors import DynamicShape, MalformedModel, OnnxImportError
from zkaudit.onnx.ml import lower_ml


def load_model(path) -> onnx.ModelProto:
    p = Path(path)
    if not p.is_file():
        what = f"{p} is a directory, not an ONNX model file" if p.is_dir() else f"model file not found: {p}"
        raise OnnxImportError(what, hint="give the path of an .onnx file")
    try:
        # Parsed without external data first: a file that is not a model fails here with its own message.
        model = onnx.load_from_string(p.read_bytes())
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise MalformedModel(f"{p} is not a readable ONNX model (truncated or not protobuf): {exc}") from None
    if not model.graph.node and not model.graph.output:
        raise MalformedModel(f"{p} holds no graph (empty or not an ONNX model)")
    if _uses_external_data(model):
        load_external_data(model, p)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        if "com.microsoft" not in str(exc):  # onnx's checker does not know onnxruntime's ops
            first = str(exc).strip().splitlines()[0]
            raise MalformedModel(f"{p} fails the ONNX checker: {first}") from None
    lower_ml(model)  # scikit-learn's ai.onnx.ml ops as standard ops (see zkaudit.onnx.ml)
    return model


def _uses_external_data(model: onnx.ModelProto) -> bool:
    return any(t.data_location == onnx.TensorProto.EXTERNAL
               for t in onnx.external_data_helper._get_all_tensors(model))


def load_external_data(model: onnx.ModelProto, path: Path) -> None:
    """Read the weights PyTorch's exporter writes beside the model
    (`model.onnx.data`), looked up relative to the model's folder -- not the
    working directory -- as onnx.load(path) does. Missing or short files are
    named."""
    base = path.resolve().parent
    for t in onnx.external_data_helper._get_all_tensors(model):
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        location = info.get("location", "")
        target = (base / location).resolve()
        if not location or Path(location).is_absolute() or base not in target.parents:
            raise MalformedModel(f"{path}: tensor {t.name!r} names external data {location!r} outside the "
                                 "model's folder")
        if not target.is_file():
            raise MalformedModel(f"{path}: tensor {t.name!r} is stored in {location}, which is not beside the model "
                                 f"({target} not found)", hint="keep the .onnx.data file PyTorch wrote next to "
                                                               "the .onnx file")
    try:
        onnx.load_external_data_for_model(model, str(base))
    except Exception as exc:
        raise MalformedModel(f"{path}: its external data cannot be read: {exc}") from None


def parse_shape_option(text: str) -> tuple[str, tuple[int, ...]]:
    """'name=1,3,28,28' -> ('name', (1, 3, 28, 28))."""
    name, sep, dims = text.partition("=")
    try:
        shape = tuple(int(d) for d in dims.split(",")) if sep else None
    except ValueError:
        shape = None
    if not name or shape is None or min(shape, default=1) < 1:
        raise OnnxImportError(f"bad input shape {text!r}: expected NAME=D1,D2,... with positive integers")
    return name, shape


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def fix_input_shapes(model: onnx.ModelProto, input_shapes: dict[str, tuple[int, ...]] | None,
                     notes: list[str] | None = None) -> dict:
    """Set every graph input to a fixed shape; returns name -> shape. A
    dynamic leading dimension alone is fixed at 1 (a line is added to
    `notes`); any other dynamic dimension needs `input_shapes`."""
    input_shapes = dict(input_shapes or {})
    shapes = {}
    for vi in graph_inputs(model):
        dims = vi.type.tensor_type.shape.dim
        current = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims]
        if vi.name in input_shapes:
            shape = tuple(input_shapes.pop(vi.name))
            if len(shape) != len(current) or any(c is not None and c != s for c, s in zip(current, shape)):
                raise OnnxImportError(f"--input-shape {vi.name}={','.join(map(str, shape))} does not fit "
                                      f"the model's shape {[c if c else '?' for c in current]}")
        elif current and current[0] is None and all(c is not None for c in current[1:]) and len(current) > 1:
            # A dynamic batch dimension (every exporter writes one by default): one sample per proof, as EZKL does.
            shape = (1,) + tuple(current[1:])
            if notes is not None:
                name = dims[0].dim_param or "?"
                notes.append(f"input {vi.name!r}: dynamic batch dimension {name!r} fixed at 1 "
                             f"(shape {','.join(map(str, shape))}; --input-shape {vi.name}=... to choose another)")
        elif any(c is None for c in current):
            names = [d.dim_param or "?" if c is None else str(c) for d, c in zip(dims, current)]
            example = ",".join(str(c or 1) for c in current)
            raise DynamicShape(
                f"input {vi.name!r} has a dynamic shape ({', '.join(names)}); circuits need fixed shapes",
                hint=f"set it with --input-shape {vi.name}={example}",
            )
        else:
            shape = tuple(current)
        for d, s in zip(dims, shape):
            d.ClearField("dim_param")
            d.dim_value = s
        shapes[vi.name] = shape
    if input_shapes:
        raise OnnxImportError(f"--input-shape names unknown inputs {sorted(input_shapes)}; "
                              f"the model's inputs are {[v.name for v in graph_inputs(model)]}")
    return shapes


def fold_batchnorm(model: onnx.ModelProto) -> None:
    """Rewrite Conv/Gemm -> BatchNormalization pairs in place as one Conv/Gemm
    with scaled weights: w' = w * g / sqrt(v + eps), b' = (b - mean) * g /
    sqrt(v + eps) + beta, per output channel."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consumers: dict[str, int] = {}
    for n in g.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    producer = {o: n for n in g.node for o in n.output}
    drop = []
    for bn in g.node:
        if bn.op_type != "BatchNormalization":
            continue
        prev = producer.get(bn.input[0])
        params = bn.input[1:5]
        if (prev is None or prev.op_type not in ("Conv", "Gemm") or consumers.get(bn.input[0]) != 1
                or not all(p in inits for p in params) or prev.input[1] not in inits
                or (len(prev.input) > 2 and prev.input[2] and prev.input[2] not in inits)):
            continue
        if prev.op_type == "Gemm":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in prev.attribute}
            if attrs.get("transB", 0) != 1 or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                continue
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (numpy_helper.to_array(inits[p]).astype(np.float64) for p in params)
        factor = gamma / np.sqrt(var + eps)
        w = numpy_helper.to_array(inits[prev.input[1]]).astype(np.float64)
        b = (numpy_helper.to_array(inits[prev.input[2]]).astype(np.float64)
             if len(prev.input) > 2 and prev.input[2] else np.zeros(w.shape[0]))
        w = w * factor.reshape((-1,) + (1,) * (w.ndim - 1))
        b = (b - mean) * factor + beta
        wname, bname = prev.name + "_bnfold_W", prev.name + "_bnfold_B"
        g.initializer.extend([numpy_helper.from_array(w.astype(np.float32), wname),
                              numpy_helper.from_array(b.astype(np.float32), bname)])
        del prev.input[1:]
        prev.input.extend([wname, bname])
        prev.output[0] = bn.output[0]
        drop.append(bn)
    for bn in drop:
        g.node.remove(bn)
    used = {i for n in g.node for i in n.input}
    stale = [i for i in g.initializer if i.name not in used]
    for init in stale:
        g.initializer.remove(init)

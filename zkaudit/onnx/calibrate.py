"""Calibration data and activation ranges for our static PTQ.

Calibration files: `.npy` holding N samples (N x input shape, or exactly the
input shape for one sample), `.npz` with one such array per input name, or
EZKL-style JSON `{"input_data": [[...]]}` with every sample flattened and
concatenated (one list per input). Ranges are observed by running the float
model in onnxruntime with every intermediate float tensor as an extra output:
`minmax` takes the extremes, `percentile` the p-th and (100-p)-th
percentiles (robust to outliers).

Range ends are rounded to the nearest number with RANGE_BITS significant
bits. onnxruntime's float kernels differ in their last bits between CPUs and
builds (measured: the zoo's CNNs gave other requantization multipliers on
another machine), and a compiled circuit, named by its digest, must be the
same wherever the vendor compiles it. Nearest rather than outward: range
ends are often round numbers (0, 1.0), which sit on the grid, where float
noise on either side rounds back to them. Moving an end by < 2^-13 of itself
is far below one quantization step (2^-8 of the range)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from zkaudit.onnx.errors import OnnxImportError

METHODS = ("minmax", "percentile")
RANGE_BITS = 12
ORT_MAX_IR_VERSION = 10


FLOAT32_MAX = float(np.finfo(np.float32).max)


def checked_values(name: str, values) -> np.ndarray:
    """Calibration values as float32, refused (one line each) when they are
    not numbers, not finite, or beyond float32: a NaN or an overflow to Inf
    would become a NaN range and a traceback deep in the quantizer."""
    try:
        arr = np.asarray(values)
    except ValueError:
        raise OnnxImportError(f"calibration data for input {name!r} is not a rectangular array") from None
    if arr.dtype.kind not in "biuf":
        raise OnnxImportError(f"calibration data for input {name!r} holds text or other non-numbers ({arr.dtype.name}), not numbers")
    if arr.dtype.kind == "f":
        wide = arr.astype(np.float64)
        bad = ~np.isfinite(wide)
        if bad.any():
            raise OnnxImportError(f"calibration data for input {name!r} holds NaN or infinite values "
                                  f"({int(bad.sum())} of {wide.size}, first at flat index {int(np.argmax(bad.ravel()))})")
        big = np.abs(wide) > FLOAT32_MAX
        if big.any():
            raise OnnxImportError(f"calibration data for input {name!r} holds values beyond float32's range "
                                  f"(e.g. {wide.ravel()[int(np.argmax(big.ravel()))]:g})")
    elif arr.size and max(abs(int(arr.min())), abs(int(arr.max()))) > FLOAT32_MAX:
        raise OnnxImportError(f"calibration data for input {name!r} holds integers beyond float32's range")
    return arr.astype(np.float32)


def _samples(name: str, arr: np.ndarray, shape) -> np.ndarray:
    size = int(np.prod(shape))
    arr = checked_values(name, arr)
    if arr.size == 0:
        raise OnnxImportError(f"calibration data for input {name!r} holds no samples")
    if arr.shape == tuple(shape):
        return arr[None]
    if arr.shape[1:] == tuple(shape):
        return arr
    if shape and shape[0] == 1 and arr.shape[1:] == tuple(shape[1:]):  # N samples of a batch-1 input
        return arr.reshape((-1,) + tuple(shape))
    if arr.ndim == 1 and arr.size % size == 0 and arr.size:
        return arr.reshape((-1,) + tuple(shape))
    raise OnnxImportError(f"data for input {name!r} has shape {arr.shape}; expected (N, {', '.join(map(str, shape))})")


LABELS = "labels"  # the optional array of true classes beside a sample file's inputs (.npz, JSON, a dict)


def read_labels(source) -> np.ndarray | None:
    """The true class of each sample, where a sample source carries them: a
    dict's or an .npz's array "labels", an EZKL-style JSON's "labels" list;
    None otherwise. Integers, one per sample."""
    if source is None:
        return None
    try:
        if isinstance(source, dict):
            raw = source.get(LABELS)
        elif Path(source).suffix == ".npz":
            with np.load(source, allow_pickle=False) as z:
                raw = z[LABELS] if LABELS in z.files else None
        elif Path(source).suffix == ".json":
            doc = json.loads(Path(source).read_text())
            raw = doc.get(LABELS) if isinstance(doc, dict) else None
        else:
            return None
    except (OSError, ValueError) as exc:
        raise OnnxImportError(f"cannot read the labels of {source}: {exc}") from None
    if raw is None:
        return None
    labels = np.asarray(raw)
    if labels.dtype.kind == "f" and np.all(labels == np.rint(labels)):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        raise OnnxImportError(f"labels must be integer classes, got {labels.dtype}")
    return labels.reshape(-1).astype(np.int64)


def read_samples(path, input_shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """name -> float32 array (N, *shape) for every model input."""
    p = Path(path)
    names = list(input_shapes)
    try:
        if p.suffix == ".npy":
            if len(names) != 1:
                raise OnnxImportError(f"the model has {len(names)} inputs: use .npz with arrays named {names}")
            raw = {names[0]: np.load(p, allow_pickle=False)}
        elif p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files if k != LABELS}
        else:
            doc = json.loads(p.read_text())
            lists = doc.get("input_data") if isinstance(doc, dict) else None
            if not isinstance(lists, list) or len(lists) != len(names):
                raise OnnxImportError(f"{p}: expected EZKL-style {{\"input_data\": [...]}} with {len(names)} list(s)")
            raw = {n: checked_values(n, v).reshape(-1) for n, v in zip(names, lists)}
    except FileNotFoundError:
        raise OnnxImportError(f"calibration file not found: {p}") from None
    except IsADirectoryError:
        raise OnnxImportError(f"calibration file {p} is a directory") from None
    except EOFError:  # np.load on an empty or truncated .npy (click turned it into "aborted", exit 130)
        raise OnnxImportError(f"calibration file {p} is empty or truncated") from None
    except (ValueError, OSError, UnicodeDecodeError, RecursionError) as exc:
        raise OnnxImportError(f"cannot read calibration file {p}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
    if set(raw) != set(names):
        raise OnnxImportError(f"calibration data names {sorted(raw)} do not match the model's inputs {names}")
    out = {n: _samples(n, raw[n], input_shapes[n]) for n in names}
    if len({len(v) for v in out.values()}) != 1:
        raise OnnxImportError("calibration arrays hold different numbers of samples")
    return out


def run_float(model: onnx.ModelProto, samples: dict[str, np.ndarray], extra_outputs=()) -> list[dict]:
    """Run the model on each sample; returns per sample name -> array."""
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    m.ir_version = min(m.ir_version, ORT_MAX_IR_VERSION)  # onnx may stamp versions onnxruntime does not read yet
    have = {o.name for o in m.graph.output}
    for name in extra_outputs:
        if name not in have:
            m.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    sess = _exact_session(ort, m.SerializeToString())
    names = [o.name for o in sess.get_outputs()]
    n = len(next(iter(samples.values())))
    # sample files hold floats: an integer input (token indices) gets its own type back
    types = {i.name: helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type) for i in m.graph.input
             if i.type.tensor_type.elem_type}
    feeds = {k: np.rint(v).astype(types[k]) if k in types and types[k].kind in "iu" and v.dtype.kind == "f" else v
             for k, v in samples.items()}
    return [dict(zip(names, sess.run(None, {k: v[i] for k, v in feeds.items()}))) for i in range(n)]


def _exact_session(ort, model_bytes: bytes):
    """An onnxruntime session whose integer kernels follow the ONNX semantics.

    On an x86 CPU without AVX-VNNI, onnxruntime's u8 x s8 kernels (a
    QLinearConv, or the kernel its optimizer fuses a QDQ graph into) add
    product pairs with 16-bit saturation, several LSB off the ONNX semantics,
    so a comparison with them measures the machine, not zkaudit. The session
    option `session.x64quantprecision` makes those kernels exact; some graphs
    then fail to load (kernels missing in that mode), and for them the graph
    runs unoptimized: a QDQ graph as written (DequantizeLinear, the float op,
    QuantizeLinear), exact; a QOperator graph on onnxruntime's plain kernels,
    where a u8-activation QLinearMatMul would still saturate (the graphs that
    fail to load in the precise mode had s8 activations, exact either way)."""
    attempts = []
    for precise in (True, False):
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if precise:
            opts.add_session_config_entry("session.x64quantprecision", "1")
        else:
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            attempts.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    raise OnnxImportError(f"onnxruntime cannot load the model: {attempts[-1]}")


def float_tensors(model: onnx.ModelProto) -> list[str]:
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in
             list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    names = [i.name for i in model.graph.input] + [o for n in model.graph.node for o in n.output if o]
    return [t for t in names if types.get(t) == onnx.TensorProto.FLOAT]


def check_method(method: str, percentile: float) -> None:
    """Refuse a calibration method or percentile we cannot use, before any work."""
    if method not in METHODS:
        raise OnnxImportError(f"unknown calibration method {method!r}; choose one of {', '.join(METHODS)}")
    # p and 100 - p are the two ends: p <= 50 would put the low end above the high one
    if not (isinstance(percentile, (int, float)) and math.isfinite(percentile) and 50 < percentile <= 100):
        raise OnnxImportError(f"--percentile {percentile} is outside (50, 100]",
                              hint="e.g. --percentile 99.99 keeps all but the 0.01% most extreme values at each end")


def collect_ranges(model: onnx.ModelProto, samples, method: str = "minmax", percentile: float = 99.99) -> dict:
    check_method(method, percentile)
    names = float_tensors(model)
    runs = run_float(model, samples, names)
    ranges = {}
    for name in names:
        values = np.concatenate([np.asarray(r[name], dtype=np.float64).reshape(-1) for r in runs if name in r])
        if not values.size:
            continue
        if method == "minmax":
            lo, hi = float(values.min()), float(values.max())
        else:
            lo, hi = float(np.percentile(values, 100 - percentile)), float(np.percentile(values, percentile))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise OnnxImportError(f"the float model computes non-finite values in tensor {name!r} on the "
                                  "calibration data (an overflow?): its range cannot be calibrated")
        ranges[name] = (_round_bits(lo), _round_bits(hi))
    return ranges


def _round_bits(x: float) -> float:
    """x rounded to the nearest number with RANGE_BITS significant bits (exact in float64)."""
    if x == 0.0 or not math.isfinite(x):
        return x
    _, exp = math.frexp(x)
    step = math.ldexp(1.0, exp - RANGE_BITS)
    return round(x / step) * step

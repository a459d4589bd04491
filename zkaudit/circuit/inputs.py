"""Reading input files and mapping between real values and circuit integers.

Two file formats, so users can switch from EZKL with their data as is:

* ours:  {"inputs": {"<name>": nested list of reals}}  or
         {"inputs_int": {"<name>": nested list of integers}}  (already quantized)
* EZKL:  {"input_data": [[flat reals of input 0], [flat reals of input 1], ...]}

A file may hold a batch: an array of shape (N, *input_shape), or (N, ...) along
the batch axis of a batch-1 input (ours), or a flat
list of N * size values (EZKL). Extra keys (e.g. "expected") are ignored.

Quantization follows ONNX QuantizeLinear exactly: q = saturate(rint(x / s) +
zp), float32 division, round half to even; dequantization is (q - zp) * s in
float32 like DequantizeLinear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkaudit.circuit.errors import InputError
from zkaudit.circuit.graph import Circuit, TensorSpec


def quantize(spec: TensorSpec, x) -> np.ndarray:
    if spec.scale is None:
        raise InputError(f"input {spec.name!r} takes integers (it has no scale): use 'inputs_int'")
    q = np.rint(np.asarray(x, dtype=np.float32) / np.float32(spec.scale)).astype(np.int64) + spec.zero_point
    return np.clip(q, spec.lo, spec.hi)


def dequantize(spec: TensorSpec, q) -> np.ndarray:
    q = np.asarray(q, dtype=np.int64)
    if spec.scale is None:
        return q.astype(np.float64)
    return ((q - spec.zero_point).astype(np.float32) * np.float32(spec.scale)).astype(np.float64)


@dataclass(frozen=True)
class InputBatch:
    """`samples[i]` maps input name -> int64 array of the circuit's shape;
    `batched` says whether the file held a leading batch dimension."""

    samples: tuple[dict[str, np.ndarray], ...]
    batched: bool


def _as_batch(spec: TensorSpec, values, flat: bool) -> tuple[np.ndarray, bool]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):
        raise InputError(f"input {spec.name!r} is not a rectangular array of numbers") from None
    if flat or arr.ndim <= 1 and arr.shape != spec.shape:
        if arr.size == 0 or arr.size % spec.size:
            raise InputError(f"input {spec.name!r} holds {arr.size} values, not a multiple of its size {spec.size}")
        n = arr.size // spec.size
        return arr.reshape((n,) + spec.shape), n > 1
    if arr.shape == spec.shape:
        return arr[None], False
    if arr.shape[1:] == spec.shape:
        return arr, True
    if spec.shape and spec.shape[0] == 1 and arr.ndim == len(spec.shape) and arr.shape[1:] == spec.shape[1:]:
        return arr.reshape((-1,) + spec.shape), True  # N samples stacked on a batch-1 input's batch axis
    raise InputError(f"input {spec.name!r} has shape {arr.shape}; expected {spec.shape} or (N, *{spec.shape})")


def parse_inputs(doc, circuit: Circuit) -> InputBatch:
    if not isinstance(doc, dict):
        raise InputError("an input file must hold a JSON object")
    names = [s.name for s in circuit.inputs]
    if "input_data" in doc:
        lists = doc["input_data"]
        if not isinstance(lists, list) or len(lists) != len(names):
            raise InputError(f"'input_data' must hold {len(names)} list(s), one per input {names}")
        raw, is_int, flat = dict(zip(names, lists)), False, True
    elif "inputs" in doc or "inputs_int" in doc:
        is_int = "inputs_int" in doc
        raw, flat = doc["inputs_int" if is_int else "inputs"], False
        if not isinstance(raw, dict) or set(raw) != set(names):
            raise InputError(f"'{'inputs_int' if is_int else 'inputs'}' must map exactly the inputs {names}")
    else:
        raise InputError("input file needs 'inputs', 'inputs_int' (zkaudit) or 'input_data' (EZKL)")
    arrays, batched, counts = {}, False, set()
    for spec in circuit.inputs:
        arr, b = _as_batch(spec, raw[spec.name], flat)
        if is_int:
            if not np.all(np.rint(arr) == arr):
                raise InputError(f"'inputs_int' for {spec.name!r} holds non-integers")
            q = arr.astype(np.int64)
            if q.min() < spec.lo or q.max() > spec.hi:
                raise InputError(f"integer input {spec.name!r} lies outside [{spec.lo}, {spec.hi}]")
        else:
            q = quantize(spec, arr)
        arrays[spec.name] = q
        batched |= b
        counts.add(len(q))
    if len(counts) != 1:
        raise InputError(f"inputs hold different batch sizes {sorted(counts)}")
    n = counts.pop()
    return InputBatch(tuple({k: v[i] for k, v in arrays.items()} for i in range(n)), batched)


INPUT_FORMAT = '--input takes a JSON file: {"inputs": {NAME: values}} or {"input_data": [[...]]}'


def read_inputs(path, circuit: Circuit) -> InputBatch:
    """Read a zkaudit or EZKL-style JSON input file for `circuit`."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError:
        raise InputError(f"input file not found: {p}", hint=INPUT_FORMAT) from None
    except IsADirectoryError:
        raise InputError(f"input file {p} is a directory", hint=INPUT_FORMAT) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"input file {p} is not valid JSON: {exc}") from None
    return parse_inputs(doc, circuit)

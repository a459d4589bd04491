"""Reading input files and mapping between real values and circuit integers.

Two file formats, so users can switch from EZKL with their data as is:

* ours:  {"inputs": {"<name>": nested list of reals}}  or
         {"inputs_int": {"<name>": nested list of integers}}  (already quantized)
* EZKL:  {"input_data": [[flat reals of input 0], [flat reals of input 1], ...]}

A file may hold a batch: an array of shape (N, *input_shape), or (N, ...) along
the batch axis of a batch-1 input (ours), or a flat
list of N * size values (EZKL). Extra keys (e.g. "expected") are ignored.

Reading is strict, and every refusal is one line naming the input, the index
and what was expected and found: values are finite JSON numbers (no NaN,
Infinity, null, booleans or strings; no integer literal over 20 digits);
lists are rectangular; EZKL lists are flat; a file gives exactly one of
the three keys, no object repeats a key, nothing nests over 32 levels.

Quantization follows ONNX QuantizeLinear exactly: q = saturate(rint(x / s) +
zp), float32 division, round half to even; dequantization is (q - zp) * s in
float32 like DequantizeLinear.
"""

from __future__ import annotations

import json
import re
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


# An input is a tensor of a few dimensions (plus a batch axis and the file's
# own objects): anything deeper is not an input, and refusing it before
# json.loads keeps a deeply nested file from exhausting the C stack.
MAX_JSON_DEPTH = 32
# Longer integer literals are refused without converting them (int() of a
# huge literal is quadratic, and no input value needs 20 digits).
MAX_INT_DIGITS = 20
# A real input saturates to its quantized range (ONNX QuantizeLinear); one
# more than 2^31 quantization steps away is not an outlier but a mistake
# (1e308, or a value beyond float32), and is refused.
MAX_QUANT_STEPS = 2.0**31


class _Literal:
    """A JSON literal that is not an acceptable number, kept so that the
    error can name where it was (NaN, Infinity, an overlong integer)."""

    def __init__(self, text: str):
        self.text = text if len(text) <= 24 else f"an integer of {len(text.lstrip('-'))} digits"


def _describe(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f"the string {json.dumps(v[:20])} (write numbers without quotes)"
    if isinstance(v, _Literal):
        return v.text
    if isinstance(v, dict):
        return "an object"
    return repr(v)


def _at(name: str, path) -> str:
    return f"input {name!r} at [{', '.join(map(str, path))}]"


def _numbers(name: str, values, *, integers: bool) -> np.ndarray:
    """`values` (nested lists) as a float64 array, every leaf checked: a
    finite int or float (an integral one for `integers`), lists rectangular.
    Errors name the input, the index and what was expected and found."""
    shape: list[int] = []
    flat: list[float] = []
    stack = [(values, ())]
    while stack:
        v, path = stack.pop()
        depth = len(path)
        if isinstance(v, (list, tuple)):
            if depth >= MAX_JSON_DEPTH:
                raise InputError(f"{_at(name, path)}: nested more than {MAX_JSON_DEPTH} levels deep")
            if depth == len(shape) and not flat:  # the first descent fixes the shape
                shape.append(len(v))
            elif depth >= len(shape):
                raise InputError(f"{_at(name, path)}: expected a number, got a list (the lists are not rectangular)")
            elif shape[depth] != len(v):
                raise InputError(f"{_at(name, path)}: expected a list of {shape[depth]} values, got {len(v)} "
                                 "(the lists are not rectangular)")
            stack.extend((item, (*path, i)) for i, item in reversed(list(enumerate(v))))
            continue
        if depth != len(shape):
            raise InputError(f"{_at(name, path)}: expected a list of {shape[depth]} values, got {_describe(v)}")
        if isinstance(v, _Literal):
            what = "a finite number" if v.text in ("NaN", "Infinity", "-Infinity") else "a number in the input's range"
            raise InputError(f"{_at(name, path)}: expected {what}, got {v.text}")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{_at(name, path)}: expected a number, got {_describe(v)}")
        if isinstance(v, float) and not np.isfinite(v):
            spelled = "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
            raise InputError(f"{_at(name, path)}: expected a finite number, got {spelled}")
        if integers and isinstance(v, float) and not v.is_integer():
            raise InputError(f"{_at(name, path)}: 'inputs_int' takes integers, got {v!r}")
        if isinstance(v, int) and abs(v) >= 2**63:
            raise InputError(f"{_at(name, path)}: expected a number in the input's range, got {_Literal(str(v)).text}")
        flat.append(v)
    return np.asarray(flat, dtype=np.float64).reshape(shape)


def _check_range(spec: TensorSpec, arr: np.ndarray, integers: bool, at) -> None:
    """Integers must lie in the declared range; reals at most MAX_QUANT_STEPS
    quantization steps from zero (they saturate to the range, like ONNX)."""
    if integers:
        bad = (arr < spec.lo) | (arr > spec.hi)
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise InputError(f"{at(i)}: integer input must lie in [{spec.lo}, {spec.hi}], got {int(arr[i])}")
        return
    if spec.scale is None:
        raise InputError(f"input {spec.name!r} takes integers (it has no scale): use 'inputs_int'")
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~(np.abs(arr / spec.scale) < MAX_QUANT_STEPS)
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        lo, hi = dequantize(spec, [spec.lo, spec.hi])
        raise InputError(f"{at(i)}: {arr[i]:g} is out of the quantized range (reals in [{lo:g}, {hi:g}] are "
                         f"represented, up to 2^31 steps of {spec.scale:g} saturate to it)")


def _as_batch(spec: TensorSpec, arr: np.ndarray, flat: bool) -> tuple[np.ndarray, bool]:
    if flat and arr.ndim != 1:
        raise InputError(f"'input_data' for input {spec.name!r} must be a flat list of numbers (EZKL format), "
                         f"got a list nested {arr.ndim} deep of shape {arr.shape}")
    if flat or arr.ndim <= 1 and arr.shape != spec.shape:
        if arr.size == 0 or arr.size % spec.size:
            raise InputError(f"input {spec.name!r} holds {arr.size} values, not a multiple of its size {spec.size}")
        n = arr.size // spec.size
        return arr.reshape((n,) + spec.shape), n > 1
    if arr.shape == spec.shape:
        return arr[None], False
    if arr.shape[1:] == spec.shape and arr.shape[0] > 0:
        return arr, True
    if spec.shape and spec.shape[0] == 1 and arr.ndim == len(spec.shape) and arr.shape[1:] == spec.shape[1:] \
            and arr.shape[0] > 0:
        return arr.reshape((-1,) + spec.shape), True  # N samples stacked on a batch-1 input's batch axis
    raise InputError(f"input {spec.name!r} has shape {arr.shape}; expected {spec.shape} or (N, *{spec.shape})")


def parse_inputs(doc, circuit: Circuit) -> InputBatch:
    if not isinstance(doc, dict):
        raise InputError("an input file must hold a JSON object")
    names = [s.name for s in circuit.inputs]
    given = [k for k in ("inputs", "inputs_int", "input_data") if k in doc]
    if len(given) > 1:
        raise InputError(f"input file holds both {given[0]!r} and {given[1]!r}: give exactly one")
    if given == ["input_data"]:
        lists = doc["input_data"]
        if not isinstance(lists, list) or len(lists) != len(names):
            raise InputError(f"'input_data' must hold {len(names)} list(s), one per input {names}")
        for i, values in enumerate(lists):
            if not isinstance(values, list):
                raise InputError(f"'input_data'[{i}] (input {names[i]!r}) must be a list of numbers, "
                                 f"got {_describe(values)}")
        raw, is_int, flat = dict(zip(names, lists)), False, True
    elif given:
        is_int = given == ["inputs_int"]
        raw, flat = doc[given[0]], False
        if not isinstance(raw, dict) or set(raw) != set(names):
            raise InputError(f"'{given[0]}' must map exactly the inputs {names}")
    else:
        raise InputError("input file needs 'inputs', 'inputs_int' (zkaudit) or 'input_data' (EZKL)")
    arrays, batched, counts = {}, False, set()
    for spec in circuit.inputs:
        values = _numbers(spec.name, raw[spec.name], integers=is_int)
        _check_range(spec, values, is_int, lambda i, name=spec.name: _at(name, i))
        arr, b = _as_batch(spec, values, flat)
        q = arr.astype(np.int64) if is_int else quantize(spec, arr)
        arrays[spec.name] = q
        batched |= b
        counts.add(len(q))
    if len(counts) != 1:
        raise InputError(f"inputs hold different batch sizes {sorted(counts)}")
    n = counts.pop()
    return InputBatch(tuple({k: v[i] for k, v in arrays.items()} for i in range(n)), batched)


INPUT_FORMAT = '--input takes a JSON file: {"inputs": {NAME: values}} or {"input_data": [[...]]}'


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deep `text`'s arrays and objects nest (strings skipped), in
    linear time and without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    if not brackets:
        return 0
    b = np.frombuffer(brackets, dtype=np.uint8)
    step = np.where((b == ord("[")) | (b == ord("{")), 1, -1)
    return int(np.cumsum(step).max())


def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"key {key!r} appears twice in one object: give it once")
        out[key] = value
    return out


def _int_literal(text: str):
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else _Literal(text)


def load_json(text: str, source: str):
    """Parse a JSON input document strictly: at most MAX_JSON_DEPTH levels
    deep (checked before parsing), no duplicate keys, NaN/Infinity and
    overlong integers kept as literals that `parse_inputs` names."""
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise InputError(f"{source} nests {depth} levels deep; an input file has at most {MAX_JSON_DEPTH}")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_Literal, parse_int=_int_literal)
    except InputError as exc:
        raise InputError(f"{source}: {exc.message}") from None
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{source} is not valid JSON: {exc}") from None


def read_inputs(path, circuit: Circuit) -> InputBatch:
    """Read a zkaudit or EZKL-style JSON input file for `circuit`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"input file not found: {p}", hint=INPUT_FORMAT) from None
    except IsADirectoryError:
        raise InputError(f"input file {p} is a directory", hint=INPUT_FORMAT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"input file {p} cannot be read as UTF-8 text: {exc}") from None
    return parse_inputs(load_json(text, f"input file {p}"), circuit)

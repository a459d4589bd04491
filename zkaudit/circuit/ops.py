"""The closed op set of the circuit IR.

Every op computes on int64 numpy arrays holding small integers; the executor
(`kernels.py`) is the semantics. Each op is listed once here with its input
arity, its attribute names and the *property groups* a later pass queries
(which ops need a sum-check over an inner dimension, which need a lookup,
which need a division remainder, which are pure index maps):

    op           inputs              meaning (z* are zero points, attrs)
    MatMul       A, B[, bias]        (A-za) @ (B-zb) + bias; B is 2-D (K, N)
    Conv         X, W[, bias]        2-D convolution of (X-zx) by (W-zw) + bias,
                                     padding contributes 0 (i.e. the value zx)
    Add/Sub/Mul  A, B                (A-za) op (B-zb), numpy broadcasting
    Requantize   X                   clamp(zo + rnd((X-zi) * m / 2^shift)),
                                     m, shift per channel along `axis`
    Relu         X                   max(X, zero_point)
    Clip         X                   min(max(X, lo), hi)
    Table        X                   values[X - in_min]   (<= 2^16 entries)
    MaxPool      X                   window max; padding never wins
    AveragePool  X                   zp + rnd(sum(X-zp) / count)
    Reshape      X                   same values, new shape (index map)
    Transpose    X                   axes permuted (index map)
    Concat       X1..Xn              joined along `axis` (index map)
    Pad          X                   constant padding with `value` (index map)
    Expand       X                   numpy-broadcast to `shape` (index map)
    Softmax      X                   integer softmax, see `kernels.softmax`
    ArgMax       X                   index of the first (or last) maximum
    GatherRows   T, I                rows T[I[k], :] of a 2-D table at runtime
                                     indices (I 1-D; an index outside the
                                     table's rows is an error, never a row)
    PointerWalk  S, P                `steps` = D pointer steps: P_l[t] =
                                     S[P_{l-1}[t], 0], P_{-1} = P (1-D), S
                                     (R, 1); the output is P_{D-1} (an index
                                     outside S's rows is an error)

`rnd` is round-half-to-even everywhere (the rule of ONNX QuantizeLinear and of
onnxruntime's requantization), so a value exactly halfway between two
integers goes to the even one. A proof checks it with one remainder range
check plus a parity bit on ties.
"""

from __future__ import annotations

from dataclasses import dataclass

# Attribute kinds: "int", "ints" (tuple of int), "str".
INT, INTS, STR = "int", "ints", "str"


@dataclass(frozen=True)
class OpSpec:
    name: str
    min_inputs: int
    max_inputs: int  # -1: variadic
    attrs: tuple[tuple[str, str], ...]
    groups: frozenset[str]
    doc: str


# Property groups.
ACCUMULATE = "accumulate"  # sum of products over an inner dimension (sum-check)
ELEMENTWISE = "elementwise"  # output[i] depends on input[i] (after broadcasting)
LOOKUP = "lookup"  # a table lookup (LogUp)
REMAINDER = "remainder"  # a rounded division: the prover supplies a remainder
CLAMP = "clamp"  # saturates to a range (range check)
INDEX_MAP = "index_map"  # output is a fixed re-indexing of inputs: no arithmetic
REDUCE = "reduce"  # reduces windows or an axis (max, sum, argmax)

_SPECS = [
    OpSpec("MatMul", 2, 3, (("a_zero_point", INT), ("b_zero_point", INT)), frozenset({ACCUMULATE}),
           "(A-za) @ (B-zb) + bias; int32-range accumulator"),
    OpSpec("Conv", 2, 3,
           (("dilations", INTS), ("group", INT), ("pads", INTS), ("strides", INTS),
            ("w_zero_point", INT), ("x_zero_point", INT)),
           frozenset({ACCUMULATE}), "2-D grouped convolution, NCHW, int32-range accumulator"),
    OpSpec("Add", 2, 2, (("a_zero_point", INT), ("b_zero_point", INT)), frozenset({ELEMENTWISE}), "(A-za)+(B-zb)"),
    OpSpec("Sub", 2, 2, (("a_zero_point", INT), ("b_zero_point", INT)), frozenset({ELEMENTWISE}), "(A-za)-(B-zb)"),
    OpSpec("Mul", 2, 2, (("a_zero_point", INT), ("b_zero_point", INT)), frozenset({ELEMENTWISE}), "(A-za)*(B-zb)"),
    OpSpec("Requantize", 1, 1,
           (("axis", INT), ("in_zero_point", INT), ("multiplier", INTS), ("out_max", INT),
            ("out_min", INT), ("out_zero_point", INT), ("shift", INTS)),
           frozenset({ELEMENTWISE, REMAINDER, CLAMP}), "fixed-point rescale with saturation"),
    OpSpec("Relu", 1, 1, (("zero_point", INT),), frozenset({ELEMENTWISE, CLAMP}), "max(X, zero_point)"),
    OpSpec("Clip", 1, 1, (("hi", INT), ("lo", INT)), frozenset({ELEMENTWISE, CLAMP}), "min(max(X, lo), hi)"),
    OpSpec("Table", 1, 1, (("function", STR), ("in_min", INT), ("values", INTS)),
           frozenset({ELEMENTWISE, LOOKUP}), "values[X - in_min] on a bounded domain"),
    OpSpec("MaxPool", 1, 1, (("dilations", INTS), ("kernel_shape", INTS), ("pads", INTS), ("strides", INTS)),
           frozenset({REDUCE}), "2-D window maximum"),
    OpSpec("AveragePool", 1, 1,
           (("count_include_pad", INT), ("kernel_shape", INTS), ("pads", INTS), ("strides", INTS),
            ("zero_point", INT)),
           frozenset({REDUCE, REMAINDER}), "2-D window mean, rounded half to even"),
    OpSpec("Reshape", 1, 1, (("shape", INTS),), frozenset({INDEX_MAP}), "row-major reshape"),
    OpSpec("Transpose", 1, 1, (("perm", INTS),), frozenset({INDEX_MAP}), "axis permutation"),
    OpSpec("Concat", 1, -1, (("axis", INT),), frozenset({INDEX_MAP}), "join along axis"),
    OpSpec("Pad", 1, 1, (("pads", INTS), ("value", INT)), frozenset({INDEX_MAP}), "constant pad (ONNX pads order)"),
    OpSpec("Expand", 1, 1, (("shape", INTS),), frozenset({INDEX_MAP}),
           "numpy broadcast to shape (each output cell reads one input cell)"),
    OpSpec("Gather", 1, 1, (("axis", INT), ("indices", INTS)), frozenset({INDEX_MAP}),
           "cells at constant indices along axis (an index may repeat)"),
    OpSpec("Softmax", 1, 1,
           (("axis", INT), ("exp_values", INTS), ("out_max", INT), ("out_min", INT), ("out_multiplier", INT),
            ("out_shift", INT), ("out_zero_point", INT)),
           frozenset({REDUCE, LOOKUP, REMAINDER, CLAMP}), "integer softmax along axis"),
    OpSpec("ArgMax", 1, 1, (("axis", INT), ("keepdims", INT), ("select_last_index", INT)),
           frozenset({REDUCE}), "index of the maximum along axis"),
    OpSpec("GatherRows", 2, 2, (), frozenset({LOOKUP}),
           "rows of a 2-D table (weights or activations) at indices computed at run time"),
    OpSpec("PointerWalk", 2, 2, (("steps", INT),), frozenset({LOOKUP}),
           "`steps` pointer steps through a successor table S (R, 1) from each start index"),
]

OPS: dict[str, OpSpec] = {s.name: s for s in _SPECS}

# Table functions the importers may build; the label is descriptive (the
# values are what count) but keeps the set closed and readable.
TABLE_FUNCTIONS = frozenset({"sigmoid", "tanh", "exp", "erf", "gelu", "leaky_relu", "elu", "selu", "celu", "softplus",
                             "softsign", "hard_sigmoid", "hard_swish", "mish", "prelu", "sqrt", "log", "reciprocal",
                             "neg", "abs", "round", "sign", "pow", "div", "mod"})

MAX_TABLE_LOG_SIZE = 16  # a lookup table has at most 2^16 entries
MAX_GATHER_ROWS_LOG = 24  # a GatherRows table has at most 2^24 rows (its lookup's table side)
MAX_GATHER_COLUMNS = 63  # ... and at most 63 columns (its lookup's width, with the index, is at most 64)
MAX_WALK_STEPS_LOG = 12  # a PointerWalk takes at most 2^12 steps (its T * steps looked-up rows < 2^36)
ACCUMULATOR_BITS = 32  # MatMul/Conv/Add/Sub/Mul outputs must fit int32
REQUANT_MULTIPLIER_BITS = 31  # 0 < multiplier < 2^31
MAX_SHIFT = 62


def ops_in_group(group: str) -> list[str]:
    """Names of the ops carrying `group` (e.g. every op that needs a lookup)."""
    return [s.name for s in _SPECS if group in s.groups]


def signed_range(bits: int) -> tuple[int, int]:
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1

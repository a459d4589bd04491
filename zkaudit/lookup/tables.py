"""Lookup tables generated deterministically from a spec, named by digest.

A table has 2^bits rows and one or two columns:

* `range`:    t[i] = i,  i in [0, 2^bits)                      (width 1)
* `function`: rows (x, g(x)) for every signed input x in [-2^(bits-1), 2^(bits-1)),
              row i holds x = i - 2^(bits-1) (embedded as p - |x| when negative),
              y = round_half_even(g(x / 2^scale_in) * 2^scale_out)  (width 2)
  with g one of FUNCTIONS. `relu` is computed in integers (exact); the
  transcendental ones use numpy's float64 libm, which is the spec.

The digest is SHA-256 of the canonical spec encoding; prover and verifier
absorb it, so a proof made against one table cannot be checked against another.

The verifier evaluates a table's MLE itself: range and input columns in
O(bits) from their closed form t~(r) = sum_k 2^(bits-1-k) r_k (MSB first);
an output column by folding the generated column (O(2^bits), cached).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.poly.mle import evaluate

MAX_TABLE_BITS = 16
FUNCTIONS = ("relu", "sigmoid", "tanh", "exp")  # exp is exp(min(x, 0)), bounded by 1


class NotInTable(ValueError):
    """An honest prover was asked to look up a row that is not in the table."""


@dataclass(frozen=True)
class TableSpec:
    kind: str  # "range" | "function"
    bits: int
    function: str = ""
    scale_in: int = 0  # fractional bits of the input
    scale_out: int = 0  # fractional bits of the output

    def __post_init__(self):
        if not 1 <= self.bits <= MAX_TABLE_BITS:
            raise ValueError(f"table bits must be in 1..{MAX_TABLE_BITS}, got {self.bits}")
        if self.kind == "range":
            if self.function or self.scale_in or self.scale_out:
                raise ValueError("a range table takes no function or scales")
        elif self.kind == "function":
            if self.function not in FUNCTIONS:
                raise ValueError(f"unknown function {self.function!r}; known: {', '.join(FUNCTIONS)}")
            if not (0 <= self.scale_in <= 32 and 0 <= self.scale_out <= 32):
                raise ValueError("scales must be in 0..32 fractional bits")
        else:
            raise ValueError(f"unknown table kind {self.kind!r}")

    @classmethod
    def range(cls, bits: int) -> TableSpec:
        return cls("range", bits)

    @classmethod
    def func(cls, function: str, bits: int, scale_in: int = 0, scale_out: int = 0) -> TableSpec:
        return cls("function", bits, function, scale_in, scale_out)

    @property
    def num_vars(self) -> int:
        return self.bits

    @property
    def num_rows(self) -> int:
        return 1 << self.bits

    @property
    def width(self) -> int:
        return 1 if self.kind == "range" else 2

    def encode(self) -> bytes:
        name = self.function.encode()
        return b"zkaudit/table/v1" + struct.pack(
            "<B B B B B", len(self.kind), self.bits, len(name), self.scale_in, self.scale_out
        ) + self.kind.encode() + name

    def digest(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()

    def columns(self) -> tuple[np.ndarray, ...]:
        return _generate(self)

    def evaluate_columns(self, point) -> list[Fp2]:
        """Each column's MLE at `point` (MSB first), as the verifier computes it."""
        if len(point) != self.bits:
            raise ValueError(f"point has {len(point)} coordinates, table has {self.bits} variables")
        index = Fp2(0)
        for k, r in enumerate(point):
            index = index + r * (1 << (self.bits - 1 - k))
        if self.kind == "range":
            return [index]
        x = index - (1 << (self.bits - 1))
        y = evaluate(self.columns()[1], point)
        return [x, Fp2.from_base(y) if isinstance(y, Fp) else y]

    def row_indices(self, cols: list[np.ndarray]) -> np.ndarray:
        """The table row of every looked-up row; NotInTable if one is missing."""
        if len(cols) != self.width:
            raise ValueError(f"table has {self.width} columns, {len(cols)} given")
        x = cols[0]
        if self.kind == "range":
            bad = np.flatnonzero(x >= np.uint64(self.num_rows))
            if bad.size:
                raise NotInTable(f"row {bad[0]}: value {int(x[bad[0]])} is outside [0, 2^{self.bits})")
            return x.astype(np.int64)
        half = np.uint64(1 << (self.bits - 1))
        shifted = x + half  # x = i - half mod p -> i = x + half mod p; x < p so no u64 overflow
        shifted = np.where(shifted >= np.uint64(P), shifted - np.uint64(P), shifted)
        bad = np.flatnonzero(shifted >= np.uint64(self.num_rows))
        if bad.size:
            raise NotInTable(f"row {bad[0]}: input {int(x[bad[0]])} is outside the table's domain")
        idx = shifted.astype(np.int64)
        wrong = np.flatnonzero(self.columns()[1][idx] != cols[1])
        if wrong.size:
            raise NotInTable(f"row {wrong[0]}: output {int(cols[1][wrong[0]])} is not g(input)")
        return idx


@lru_cache(maxsize=32)
def _generate(spec: TableSpec) -> tuple[np.ndarray, ...]:
    n = spec.num_rows
    if spec.kind == "range":
        return (np.arange(n, dtype=np.uint64),)
    xs = np.arange(n, dtype=np.int64) - (n >> 1)
    if spec.function == "relu":
        pos = np.maximum(xs, 0)
        shift = spec.scale_out - spec.scale_in
        if shift >= 0:
            ys = pos << shift
        else:  # round half to even on the dropped bits, in integers
            ys = np.rint(pos / float(1 << -shift)).astype(np.int64)
    else:
        xf = xs.astype(np.float64) / float(1 << spec.scale_in)
        if spec.function == "sigmoid":
            yf = 1.0 / (1.0 + np.exp(-xf))
        elif spec.function == "tanh":
            yf = np.tanh(xf)
        else:
            yf = np.exp(np.minimum(xf, 0.0))
        ys = np.rint(yf * float(1 << spec.scale_out)).astype(np.int64)
    x_col, y_col = vec.from_int64(xs), vec.from_int64(ys)
    x_col.setflags(write=False)
    y_col.setflags(write=False)
    return x_col, y_col


@dataclass(frozen=True)
class ValuesTable:
    """A public two-column table given by its values: row i of 2^bits rows is
    (i, values[i]) for i < len(values) and (i, 0) beyond. Its digest binds the
    count and every value (domain-separated from `TableSpec`'s), so a proof
    against one table cannot be checked against another."""

    values: tuple[int, ...]

    def __post_init__(self):
        if not 1 <= len(self.values) <= 1 << MAX_TABLE_BITS:
            raise ValueError(f"a values table has 1..2^{MAX_TABLE_BITS} entries, got {len(self.values)}")

    kind = "values"

    @property
    def bits(self) -> int:
        return max(1, (len(self.values) - 1).bit_length())

    @property
    def num_vars(self) -> int:
        return self.bits

    @property
    def num_rows(self) -> int:
        return 1 << self.bits

    @property
    def width(self) -> int:
        return 2

    def encode(self) -> bytes:
        return b"zkaudit/table/values/v1" + struct.pack(f"<BI{len(self.values)}q", self.bits, len(self.values),
                                                         *self.values)

    def digest(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()

    @cached_property
    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        ys = np.zeros(self.num_rows, dtype=np.int64)
        ys[: len(self.values)] = np.asarray(self.values, dtype=np.int64)
        x_col, y_col = np.arange(self.num_rows, dtype=np.uint64), vec.from_int64(ys)
        x_col.setflags(write=False)
        y_col.setflags(write=False)
        return x_col, y_col

    def columns(self) -> tuple[np.ndarray, ...]:
        return self._columns

    def evaluate_columns(self, point) -> list[Fp2]:
        if len(point) != self.bits:
            raise ValueError(f"point has {len(point)} coordinates, table has {self.bits} variables")
        index = Fp2(0)
        for k, r in enumerate(point):
            index = index + r * (1 << (self.bits - 1 - k))
        y = evaluate(self.columns()[1], point)
        return [index, Fp2.from_base(y) if isinstance(y, Fp) else y]

    def row_indices(self, cols: list[np.ndarray]) -> np.ndarray:
        x = cols[0]
        bad = np.flatnonzero(x >= np.uint64(self.num_rows))
        if bad.size:
            raise NotInTable(f"row {bad[0]}: input {int(x[bad[0]])} is outside the table's domain")
        idx = x.astype(np.int64)
        wrong = np.flatnonzero(self.columns()[1][idx] != cols[1])
        if wrong.size:
            raise NotInTable(f"row {wrong[0]}: output {int(cols[1][wrong[0]])} is not the table's")
        return idx

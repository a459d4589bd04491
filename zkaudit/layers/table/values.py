"""A public two-column table given by an explicit value list, with the
interface of `lookup.tables.TableSpec` (which only generates range and named
function tables).

Row i of 2^bits rows is (i, values[i] - values[0]) for i < len(values) and
(i, 0) beyond (rows a real input never reaches: the layer requires the
input's declared range inside the domain). Shifting by values[0] puts the
pair (0, 0) in row 0, which is what the zero padding of the looked-up
columns reads. The digest hashes a canonical encoding of bits and values,
domain-separated from TableSpec's, so prover and verifier bind one table.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup.tables import MAX_TABLE_BITS, NotInTable
from zkaudit.poly.mle import evaluate


@dataclass(frozen=True)
class ValueTable:
    values: tuple[int, ...]

    def __post_init__(self):
        if not 1 <= len(self.values) <= 1 << MAX_TABLE_BITS:
            raise ValueError(f"a value table has 1..2^{MAX_TABLE_BITS} entries, got {len(self.values)}")

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
        return b"zkaudit/layers/table/v1" + struct.pack(f"<BI{len(self.values)}q", self.bits, len(self.values),
                                                         *self.values)

    def digest(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()

    @cached_property
    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        ys = np.zeros(self.num_rows, dtype=np.int64)
        ys[: len(self.values)] = np.asarray(self.values, dtype=np.int64) - self.values[0]
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
            raise NotInTable(f"row {wrong[0]}: output {int(cols[1][wrong[0]])} is not values[input]")
        return idx



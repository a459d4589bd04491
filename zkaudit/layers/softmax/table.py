"""A lookup table of pairs (i, values[i]), i in [0, 2^bits), given by its
values (the Softmax exp table reversed). It has the interface of
`lookup.TableSpec` that the LogUp prover and verifier use (width, num_vars,
num_rows, digest, evaluate_columns, row_indices); its digest binds every
value, so a proof against one table cannot be checked against another."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup.tables import MAX_TABLE_BITS, NotInTable
from zkaudit.poly.mle import evaluate


@dataclass(frozen=True)
class ValuesTable:
    bits: int
    values: tuple[int, ...]  # 2^bits non-negative entries
    _column: np.ndarray = field(init=False, repr=False, compare=False, hash=False)

    kind = "values"
    width = 2

    def __post_init__(self):
        if not 1 <= self.bits <= MAX_TABLE_BITS or len(self.values) != 1 << self.bits:
            raise ValueError(f"a values table needs 2^bits entries, bits in 1..{MAX_TABLE_BITS}")
        col = vec.from_int64(np.asarray(self.values, dtype=np.int64))
        col.setflags(write=False)
        object.__setattr__(self, "_column", col)

    @property
    def num_vars(self) -> int:
        return self.bits

    @property
    def num_rows(self) -> int:
        return 1 << self.bits

    def encode(self) -> bytes:
        return b"zkaudit/table/values/v1" + struct.pack("<B", self.bits) + np.asarray(
            self.values, dtype="<i8").tobytes()

    def digest(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()

    def columns(self) -> tuple[np.ndarray, ...]:
        return np.arange(self.num_rows, dtype=np.uint64), self._column

    def evaluate_columns(self, point) -> list[Fp2]:
        if len(point) != self.bits:
            raise ValueError(f"point has {len(point)} coordinates, table has {self.bits} variables")
        index = Fp2(0)
        for k, r in enumerate(point):
            index = index + r * (1 << (self.bits - 1 - k))
        y = evaluate(self._column, point)
        return [index, Fp2.from_base(y) if isinstance(y, Fp) else y]

    def row_indices(self, cols) -> np.ndarray:
        x = cols[0]
        bad = np.flatnonzero(x >= np.uint64(self.num_rows))
        if bad.size:
            raise NotInTable(f"row {bad[0]}: input {int(x[bad[0]])} is outside [0, 2^{self.bits})")
        idx = x.astype(np.int64)
        wrong = np.flatnonzero(self._column[idx] != cols[1])
        if wrong.size:
            raise NotInTable(f"row {wrong[0]}: output {int(cols[1][wrong[0]])} is not the table's")
        return idx

"""Claims out of a lookup: evaluations the caller must discharge.

`columns[l][c]` says: the zero-padded column c of lookup l (2^n_l entries),
as a multilinear polynomial, takes `value` at `point`. `multiplicities[j]`
says the same of table j's multiplicity vector (2^bits entries). The caller
discharges them against its commitments (or, holding the data, with
`discharge`). Until then nothing is proven.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup.errors import ColumnClaimMismatch
from zkaudit.poly.mle import evaluate


@dataclass(frozen=True)
class PointClaim:
    point: tuple[Fp2, ...]
    value: Fp2

    def check(self, table: np.ndarray, what: str) -> None:
        """Discharge against data the checker holds (zero-padded to 2^len(point))."""
        size = 1 << len(self.point)
        if table.shape[0] > size:
            raise ColumnClaimMismatch(f"{what} is longer than its claim's domain", expected=size, got=table.shape[0])
        if table.shape[0] < size:
            padded = np.zeros((size,) + table.shape[1:], dtype=np.uint64)
            padded[: table.shape[0]] = table
            table = padded
        actual = evaluate(table, self.point)
        actual = Fp2.from_base(actual) if isinstance(actual, Fp) else actual
        if actual != self.value:
            raise ColumnClaimMismatch(f"{what} does not evaluate to the claimed value", expected=actual, got=self.value)


@dataclass(frozen=True)
class LookupClaims:
    columns: tuple[tuple[PointClaim, ...], ...]
    multiplicities: tuple[PointClaim, ...]

    def discharge(self, columns, multiplicities) -> None:
        """Check every claim against the actual data (tests, or a caller that
        holds the columns in the clear). Raises ColumnClaimMismatch."""
        for l, (claims, cols) in enumerate(zip(self.columns, columns, strict=True)):
            for c, (cl, col) in enumerate(zip(claims, cols, strict=True)):
                cl.check(col, f"lookup {l} column {c}")
        for j, (cl, m) in enumerate(zip(self.multiplicities, multiplicities, strict=True)):
            cl.check(m, f"table {j} multiplicities")

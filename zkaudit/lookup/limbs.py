"""Wide and signed range checks by limb decomposition.

To show v_i in [0, 2^b) (b <= 64) for a column of N values, the prover
commits limbs l_0 .. l_{L-1} of widths w_j (16 bits each, the last one
b - 16 (L - 1)) and looks up each limb in the range table [0, 2^w_j). All
limb lookups have N rows, so their segments have the same size and their
claims share one point r. The recomposition
    v~(r) = sum_j 2^(16 j) l_j~(r)
is then a linear relation on the claims: the verifier computes the right
side from the limb claims and hands back a claim on v for the caller to
discharge against v's commitment. Since sum_j 2^(16 j) l_j < 2^b < p, no
field wrap-around can satisfy it with in-range limbs.

Signed ranges [-2^(b-1), 2^(b-1)): negative values are embedded as p - |v|
(`vec.from_int64`; zero is 0, the only canonical zero) and the limbs
decompose the shifted u = v + 2^(b-1) in [0, 2^b). For the zero-padded
columns, u~ = v~ + 2^(b-1) ind~ (ind the indicator of the N real rows), so
    v~(r) = sum_j 2^(16 j) l_j~(r) - 2^(b-1) ind~(r).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.lookup.claim import LookupClaims, PointClaim
from zkaudit.lookup.errors import LookupShapeError
from zkaudit.lookup.protocol import Lookup, LookupInstance
from zkaudit.poly.mle import prefix_indicator
from zkaudit.lookup.tables import NotInTable, TableSpec

LIMB_BITS = 16
MAX_RANGE_BITS = 63  # so that 2^b < p and shifted values never wrap


# A limb column costs a commitment, a lookup row and (in the layers) a
# zero-check table per entry; a range table one lookup leaf per entry. The
# choice only moves cost, never soundness.
COLUMN_WEIGHT = 3
MIN_LIMB_BITS = 4


def choose_limb_bits(columns: list[tuple[int, int]]) -> int:
    """The limb width (<= LIMB_BITS) minimising COLUMN_WEIGHT * #limb entries
    + the range tables' sizes, for columns given as (rows, bits); public
    inputs only, so prover and verifier agree on it."""
    best = None
    for w in range(MIN_LIMB_BITS, LIMB_BITS + 1):
        entries = sum(rows * -(-bits // w) for rows, bits in columns)
        tables = {min(bits, w) for _, bits in columns} | {bits % w for _, bits in columns if bits > w and bits % w}
        cost = COLUMN_WEIGHT * entries + sum(1 << t for t in tables)
        if best is None or cost < best[0]:
            best = (cost, w)
    return LIMB_BITS if best is None else best[1]


def recompose_value(limb_values, widths) -> Fp2:
    """sum_i 2^(w_0 + ... + w_(i-1)) l_i: a column's value from its limbs'
    values at one point (the column minus this is multilinear, so agreeing
    at a fresh point costs num_vars / p^2)."""
    total, shift = Fp2(0), 0
    for v, w in zip(limb_values, widths):
        total = total + v * (1 << shift)
        shift += w
    return total


@dataclass(frozen=True)
class RangeCheck:
    bits: int
    num_rows: int
    signed: bool = False

    def __post_init__(self):
        if not 1 <= self.bits <= MAX_RANGE_BITS:
            raise ValueError(f"range bits must be in 1..{MAX_RANGE_BITS}, got {self.bits}")

    @property
    def limb_widths(self) -> tuple[int, ...]:
        full, rest = divmod(self.bits, LIMB_BITS)
        return (LIMB_BITS,) * full + ((rest,) if rest else ())

    def instance(self) -> LookupInstance:
        specs = sorted(set(self.limb_widths), reverse=True)
        tables = tuple(TableSpec.range(w) for w in specs)
        return LookupInstance(tables, tuple(Lookup(specs.index(w), self.num_rows) for w in self.limb_widths))

    def decompose(self, values: np.ndarray) -> list[list[np.ndarray]]:
        """Limb columns (one lookup each) of canonical field values; NotInTable
        if a value is outside the range."""
        if values.dtype != np.uint64 or values.shape != (self.num_rows,):
            raise ValueError(f"values must be a uint64 array of {self.num_rows} entries")
        if int(values.max()) >= P:
            raise ValueError("values hold a non-canonical field element (>= p)")
        if self.signed:
            half = np.uint64(1 << (self.bits - 1))
            neg = values >= np.uint64(P) - half
            u = np.where(neg, values - (np.uint64(P) - half), values + half)
        else:
            u = values
        bad = np.flatnonzero(u >= np.uint64(1 << self.bits))
        if bad.size:
            raise NotInTable(f"row {bad[0]}: value {int(values[bad[0]])} is outside the {self.bits}-bit range")
        limbs, shift = [], 0
        for w in self.limb_widths:
            limbs.append([(u >> np.uint64(shift)) & np.uint64((1 << w) - 1)])
            shift += w
        return limbs

    def recompose(self, claims: LookupClaims) -> PointClaim:
        """The claim on the value column implied by the limb claims, when the
        lookup left them at one point (all limb segments in one GKR tree).

        The lookup's tree packing can put limb segments of equal size into
        different trees, whose points differ; then this raises and the caller
        uses `recompose_at`: draw a fresh point z from the transcript, have the
        prover send every limb's value at z (absorbed, and returned as claims
        on the limb columns for the caller to discharge against the limbs'
        commitment, like the lookup's own claims), and recompose there."""
        point = claims.columns[0][0].point
        for j in range(len(self.limb_widths)):
            if claims.columns[j][0].point != point:
                raise LookupShapeError("limb claims are not at one point: recompose at a fresh point with "
                                       "recompose_at", where="lookup/limbs", round=j)
        return self.recompose_at(point, [claims.columns[j][0].value for j in range(len(self.limb_widths))])

    def recompose_at(self, point, limb_values) -> PointClaim:
        """v~(point) from the limbs' values at `point` (each of which the caller
        must also discharge as a claim on its limb column)."""
        if len(limb_values) != len(self.limb_widths):
            raise LookupShapeError("wrong number of limb values", where="lookup/limbs",
                                   expected=len(self.limb_widths), got=len(limb_values))
        total = recompose_value(limb_values, self.limb_widths)
        if self.signed:
            total = total - prefix_indicator(self.num_rows, point) * (1 << (self.bits - 1))
        return PointClaim(tuple(point), total)

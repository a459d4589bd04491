"""Several range checks in one LogUp argument (shared tables, one GKR).

Column j (2^n rows, all columns the same length) must lie in [0, 2^b_j).
It is split into limbs of w bits (the last b_j - w (L_j - 1) bits), with
w = min(16, n + 4) so that a short column does not pay for a 2^16 table
(public: it depends only on the shapes); every
limb is one lookup into the range table of its width, and all columns share
the tables (one multiplicity vector per distinct width, committed advice).
A one-limb column is looked up directly (it may be virtual). A wider
column's limbs are advice; since limb segments can land in different GKR
trees (different points), the column is recomposed at a fresh point r: the
prover sends l_i~(r) (claims on the limbs) and col~(r) = sum_i 2^(w i) l_i~(r)
(col - sum_i 2^(w i) l_i is multilinear: n / p^2 per column). Limbs in
range recompose below 2^b_j < p, so nothing wraps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field.scalar import Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pool.errors import RelationMismatch
from zkaudit.lookup import Lookup, LookupInstance
from zkaudit.lookup.limbs import recompose_value
from zkaudit.lookup.tables import NotInTable, TableSpec
from zkaudit.sumcheck.zk import receive, send
from zkaudit.transcript import Transcript

LABEL_RECOMPOSE = b"ranges/recompose-point"
LABEL_LIMB_VALUES = b"ranges/limb-values"
MAX_LIMB_BITS = 16


@dataclass(frozen=True)
class MultiRange:
    prefix: str
    labels: tuple[str, ...]
    bits: tuple[int, ...]
    num_rows: int
    extra_tables: tuple = ()  # further tables (e.g. a function table) come first in the instance
    extra_lookups: tuple = ()  # Lookup(table index into extra_tables, rows)

    @property
    def limb_bits(self) -> int:
        return min(MAX_LIMB_BITS, max(1, (self.num_rows - 1).bit_length()) + 4)

    def widths(self, j: int) -> tuple[int, ...]:
        full, rest = divmod(self.bits[j], self.limb_bits)
        return (self.limb_bits,) * full + ((rest,) if rest else ())

    def decompose(self, j: int, values: np.ndarray) -> list[list[np.ndarray]]:
        """Limb columns of canonical field values; NotInTable if out of range."""
        bad = np.flatnonzero(values >= np.uint64(1 << self.bits[j]))
        if bad.size:
            raise NotInTable(f"{self.labels[j]} row {bad[0]}: value {int(values[bad[0]])} is outside "
                             f"[0, 2^{self.bits[j]})")
        out, shift = [], 0
        for w in self.widths(j):
            out.append([(values >> np.uint64(shift)) & np.uint64((1 << w) - 1)])
            shift += w
        return out

    @property
    def range_widths(self) -> tuple[int, ...]:
        return tuple(sorted({w for j in range(len(self.bits)) for w in self.widths(j)}, reverse=True))

    def instance(self) -> LookupInstance:
        base = len(self.extra_tables)
        tables = tuple(self.extra_tables) + tuple(TableSpec.range(w) for w in self.range_widths)
        lookups = list(self.extra_lookups)
        for j in range(len(self.bits)):
            lookups += [Lookup(base + self.range_widths.index(w), self.num_rows) for w in self.widths(j)]
        return LookupInstance(tables, tuple(lookups))

    def limb_names(self, j: int) -> tuple[str, ...]:
        if len(self.widths(j)) == 1:
            return ()
        return tuple(f"{self.prefix}/{self.labels[j]}/limb{i}" for i in range(len(self.widths(j))))

    def mult_names(self) -> tuple[str, ...]:
        return tuple(f"{self.prefix}/mult{t}" for t in range(len(self.instance().tables)))

    def advice_shapes(self) -> dict:
        out = {n: (self.num_rows,) for j in range(len(self.bits)) for n in self.limb_names(j)}
        out.update({n: (t.num_rows,) for n, t in zip(self.mult_names(), self.instance().tables)})
        return out

    def _slices(self):
        at = len(self.extra_lookups)
        for j in range(len(self.bits)):
            k = len(self.widths(j))
            yield j, at, at + k
            at += k

    def lookup_columns(self, columns, tables, extra_columns=()) -> list:
        """Looked-up columns: the extra lookups', then per range column its
        limbs (advice tables) or the column itself."""
        out = list(extra_columns)
        for j, col in enumerate(columns):
            names = self.limb_names(j)
            out += [[tables[n]] for n in names] if names else [[col]]
        return out

    def honest_advice(self, columns, extra_columns=()) -> dict:
        """Limbs and multiplicities of honest columns (field vectors)."""
        from zkaudit.lookup import prover as lookup_prover

        out, limb_cols = {}, list(extra_columns)
        for j, col in enumerate(columns):
            limbs = self.decompose(j, col)
            out.update({n: l[0].astype(np.int64) for n, l in zip(self.limb_names(j), limbs)})
            limb_cols += limbs
        mults = lookup_prover.multiplicities(self.instance(), limb_cols)
        out.update({n: m.astype(np.int64) for n, m in zip(self.mult_names(), mults)})
        return out

    def verify_columns(self, lk, limb_values, transcript: Transcript, *, where: str):
        """(per range column (point, value), claims on limbs and multiplicities)."""
        out = [TensorClaim(n, c.point, c.value) for n, c in zip(self.mult_names(), lk.multiplicities)]
        cols, at = [], 0
        for j, lo, hi in self._slices():
            names = self.limb_names(j)
            if not names:
                c = lk.columns[lo][0]
                cols.append((tuple(c.point), c.value))
                continue
            out += [TensorClaim(n, tuple(lk.columns[i][0].point), lk.columns[i][0].value)
                    for n, i in zip(names, range(lo, hi))]
            vals = limb_values[at:at + len(names)]
            if len(vals) != len(names):
                raise RelationMismatch("too few limb values", where=where, expected=at + len(names),
                                       got=len(limb_values))
            at += len(names)
            point = tuple(transcript.challenge_exts(LABEL_RECOMPOSE, len(lk.columns[lo][0].point)))  # n / p^2
            transcript.absorb_exts(LABEL_LIMB_VALUES, list(vals))
            vals = [receive(transcript, v) for v in vals]
            out += [TensorClaim(n, point, v) for n, v in zip(names, vals)]
            cols.append((point, recompose_value(vals, self.widths(j))))
        if at != len(limb_values):
            raise RelationMismatch("too many limb values", where=where, expected=at, got=len(limb_values))
        return cols, out

    def prove_columns(self, lk, tables, transcript: Transcript):
        """Prover side of `verify_columns`: (columns, claims, limb values)."""
        from zkaudit.poly.mle import evaluate
        from zkaudit.field.scalar import Fp

        out = [TensorClaim(n, c.point, c.value) for n, c in zip(self.mult_names(), lk.multiplicities)]
        cols, values = [], []
        for j, lo, hi in self._slices():
            names = self.limb_names(j)
            if not names:
                c = lk.columns[lo][0]
                cols.append((tuple(c.point), c.value))
                continue
            out += [TensorClaim(n, tuple(lk.columns[i][0].point), lk.columns[i][0].value)
                    for n, i in zip(names, range(lo, hi))]
            point = tuple(transcript.challenge_exts(LABEL_RECOMPOSE, len(lk.columns[lo][0].point)))
            sent, vals = [], []
            for n in names:
                v = evaluate(tables[n], point)
                s_v, h_v = send(transcript, Fp2.from_base(v) if isinstance(v, Fp) else v)
                sent.append(s_v)
                vals.append(h_v)
            transcript.absorb_exts(LABEL_LIMB_VALUES, sent)
            out += [TensorClaim(n, point, v) for n, v in zip(names, vals)]
            cols.append((point, recompose_value(vals, self.widths(j))))
            values += sent
        return cols, out, tuple(values)

"""What a sum-check is about, and what it reduces to.

`SumOfProducts` describes the polynomial
    F(x) = sum_j c_j * prod_{i in S_j} f_i(x),   x in {0,1}^n,
over `num_tables` multilinear tables f_i. Its degree in each variable is
max_j |S_j| (a table may repeat within a term: f_0 * f_0 has degree 2).

A verified sum-check reduces "sum_x F(x) = claimed_sum" to an
`EvaluationClaim`: f_i~(point) = values[i] for every table i. The caller must
discharge every value (against a commitment, a public table, or the next GKR
layer); until it does, nothing is proven.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from zkaudit.field.constants import P, W
from zkaudit.field.scalar import Fp, Fp2, _fp2
from zkaudit.sumcheck.errors import ClaimMismatch

MAX_DEGREE = 8  # per variable; a zero-knowledge run's last round has twice this (poly.univariate allows 16)


@dataclass(frozen=True)
class Term:
    coeff: Fp2
    tables: tuple[int, ...]

    @classmethod
    def trusted(cls, coeff: Fp2, tables: tuple[int, ...]) -> Term:
        """From an Fp2 and a tuple of ints, unchecked (a spec built from a
        validated expansion, per system by the hundred): as `Term(coeff, tables)`."""
        out = _new(cls)
        _set(out, "coeff", coeff)
        _set(out, "tables", tables)
        return out


@dataclass(frozen=True)
class SumOfProducts:
    num_tables: int
    terms: tuple[Term, ...]

    @classmethod
    def of(cls, num_tables: int, terms) -> SumOfProducts:
        """Build from [(coeff, (i, j, ...)), ...]; coeff may be int, Fp or Fp2."""
        built = []
        for coeff, idx in terms:
            if isinstance(coeff, Fp):
                coeff = Fp2.from_base(coeff)
            elif isinstance(coeff, int):
                coeff = Fp2(coeff)
            idx = tuple(int(i) for i in idx)
            if not idx:
                raise ValueError("a term needs at least one table")
            if any(not 0 <= i < num_tables for i in idx):
                raise ValueError(f"term {idx} names a table outside 0..{num_tables - 1}")
            built.append(Term(coeff, idx))
        if not built:
            raise ValueError("a sum-check needs at least one term")
        spec = cls(num_tables, tuple(built))
        if spec.degree > MAX_DEGREE:
            raise ValueError(f"degree {spec.degree} exceeds {MAX_DEGREE}")
        return spec

    @classmethod
    def product(cls, num_tables: int) -> SumOfProducts:
        """f_0 * f_1 * ... * f_{k-1}"""
        return cls.of(num_tables, [(1, tuple(range(num_tables)))])

    @cached_property
    def _shape(self) -> tuple[tuple[int, ...], ...]:
        """The terms' tables: what `combine` and `to_bytes` plan by."""
        return tuple(t.tables for t in self.terms)

    @property
    def degree(self) -> int:
        return max(len(t.tables) for t in self.terms)

    def combine(self, values) -> Fp2:
        """F at a point, given each table's value there. Values all in Fp2
        (a verifier's final values): on plain ints (`combine_pairs`);
        otherwise (Fp, Hidden) `combine_reference`, the same sum."""
        terms = self.terms
        if not all(type(v) is Fp2 for v in values) or not all(type(t.coeff) is Fp2 for t in terms):
            return self.combine_reference(values)
        t0, t1 = combine_pairs(self.plan(), [(t.coeff.c0, t.coeff.c1) for t in terms],
                               [(v.c0, v.c1) for v in values])
        return _fp2(t0, t1)

    def plan(self) -> tuple:
        """`combine_pairs`'s grouping of these terms (cached by shape)."""
        plan = _COMBINE_PLANS.get(self._shape)
        return plan if plan is not None else _combine_plan(self._shape)

    def combine_reference(self, values) -> Fp2:
        """`combine` in field arithmetic (any value type Fp2 combines with)."""
        total = Fp2(0)
        for t in self.terms:
            prod = t.coeff
            for i in t.tables:
                prod = prod * values[i]
            total = total + prod
        return total

    def to_bytes(self) -> bytes:
        """Canonical encoding, absorbed into the transcript so a proof for one
        polynomial shape cannot be checked as another. `to_bytes_reference`'s
        bytes, packed by one `struct.Struct` per shape (the terms' tables),
        cached: a recurrent model's systems repeat a few shapes by the hundred."""
        terms = self.terms
        if not all(type(t.coeff) is Fp2 for t in terms):
            return self.to_bytes_reference()
        shape = self._shape
        layout = _LAYOUTS.get(shape)
        if layout is None:
            layout = _layout(shape)
        packer, suffixes = layout
        words = [self.num_tables, len(terms)]
        append = words.append
        for t, (k, tb) in zip(terms, suffixes):
            c = t.coeff
            append(c.c0)
            append(c.c1)
            append(k)
            append(tb)
        return packer.pack(*words)

    def to_bytes_reference(self) -> bytes:
        out = [self.num_tables.to_bytes(4, "little"), len(self.terms).to_bytes(4, "little")]
        for t in self.terms:
            out.append(t.coeff.to_bytes())
            out.append(len(t.tables).to_bytes(1, "little"))
            out.append(bytes(t.tables) if max(t.tables) < 256 else b"".join(i.to_bytes(4, "little") for i in t.tables))
        return b"".join(out)


_new = object.__new__
_set = object.__setattr__

# Terms' tables -> (packer, (table count, table bytes) per term), for `to_bytes`.
_LAYOUTS: dict[tuple, tuple] = {}


def _layout(shape: tuple[tuple[int, ...], ...]) -> tuple:
    fmt, suffixes = ["<II"], []
    for tables in shape:
        tb = bytes(tables) if max(tables) < 256 else b"".join(i.to_bytes(4, "little") for i in tables)
        fmt.append(f"QQB{len(tb)}s")
        suffixes.append((len(tables), tb))
    if len(_LAYOUTS) >= 1024:
        _LAYOUTS.clear()
    out = _LAYOUTS[shape] = (struct.Struct("".join(fmt)), tuple(suffixes))
    return out


# Terms' tables -> `combine_pairs`'s grouping: ((first table, ((runs of
# the other tables, term indices) per distinct rest) per distinct first
# table)); a run is (table, the bits of its exponent after the leading one).
_COMBINE_PLANS: dict[tuple, tuple] = {}


def _combine_plan(shape: tuple[tuple[int, ...], ...]) -> tuple:
    groups: dict = {}
    for j, (first, *rest) in enumerate(shape):
        groups.setdefault(first, {}).setdefault(tuple(sorted(rest)), []).append(j)
    if len(_COMBINE_PLANS) >= 1024:
        _COMBINE_PLANS.clear()
    plan = _COMBINE_PLANS[shape] = tuple((first, tuple((_runs(rest), tuple(m)) for rest, m in by_rest.items()))
                                         for first, by_rest in groups.items())
    return plan


def _runs(rest: tuple[int, ...]) -> tuple:
    """Sorted tables as (table, exponent bits after the leading 1): a
    Poseidon2 round's x^7 takes 4 products by squaring, not 6."""
    out = []
    for i in dict.fromkeys(rest):
        out.append((i, bin(rest.count(i))[3:]))
    return tuple(out)


def combine_pairs(plan, coeffs, vals) -> tuple[int, int]:
    """sum_j c_j prod_{i in S_j} v_i on (c0, c1) int pairs (canonical in
    and out): terms grouped by their first table and the (sorted) rest,
    each group's coefficients summed before one product of its values (a
    zero-check's ~60 terms are eq(r, x) times ~30 distinct products), a
    repeated table raised by squaring. `SumOfProducts.combine_reference` is
    the same sum in field arithmetic (tests hold one to the other)."""
    t0 = t1 = 0
    for first, by_rest in plan:
        s0 = s1 = 0
        for runs, members in by_rest:
            p0 = p1 = 0
            for j in members:
                c0, c1 = coeffs[j]
                p0 += c0
                p1 += c1
            p0, p1 = p0 % P, p1 % P
            for i, bits in runs:
                v0, v1 = vals[i]
                if bits:  # v^e, e = '1' + bits, by square-and-multiply
                    x0, x1 = v0, v1
                    for bit in bits:
                        x0, x1 = (x0 * x0 + W * x1 * x1) % P, 2 * x0 * x1 % P
                        if bit == "1":
                            x0, x1 = (x0 * v0 + W * x1 * v1) % P, (x0 * v1 + x1 * v0) % P
                    v0, v1 = x0, x1
                p0, p1 = (p0 * v0 + W * p1 * v1) % P, (p0 * v1 + p1 * v0) % P
            s0 += p0
            s1 += p1
        s0, s1 = s0 % P, s1 % P
        v0, v1 = vals[first]
        t0 += s0 * v0 + W * s1 * v1
        t1 += s0 * v1 + s1 * v0
    return t0 % P, t1 % P


@dataclass(frozen=True)
class EvaluationClaim:
    """f_i~(point) = values[i] for each table i; to be discharged by the caller."""

    point: tuple[Fp2, ...]
    values: tuple[Fp2, ...]

    def check_table(self, i: int, table: np.ndarray) -> None:
        """Discharge value i directly against a table the verifier knows
        (a public input, an eq table). Raises ClaimMismatch."""
        from zkaudit.poly.mle import evaluate  # local: keeps claim.py light

        actual = evaluate(table, self.point)
        actual = Fp2.from_base(actual) if isinstance(actual, Fp) else actual
        if actual != self.values[i]:
            raise ClaimMismatch(f"table {i} does not evaluate to the claimed value", expected=actual, got=self.values[i])

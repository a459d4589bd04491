"""The public plan both sides of the link proof derive from the statement:
the per-element constants over theta's domain, the range widths, the
zero-check's coefficient tables and the wrap-free bound (protocol at the
top of `verifier.py`).

Element i of theta (i < d) feeds exactly one entry of one circuit weight
tensor t (the parameter map pi: i = offset_t + sum_a k_a stride_a for the
entry k). With the tensor's exact multiplier N_t / D_t = 1 / (2^w s_t)
(s_t the published float32 scale, an exact dyadic rational), the rule is

    q = floor((2 N theta + D) / (2 D))       (round half up)
    W = clamp(q, lo, hi)                      (weights: [-127, 127])
    W = q,  lo <= q <= hi                     (biases: the circuit's declared range)

witnessed by r = 2 N theta + D - 2 D q in [0, 2D) and the selector gadget
(G2/G5): s_hi, s_lo boolean,
    e1 = s_hi (q - hi - 1) + (1 - s_hi) (hi - q)  in [0, 2^ke)
    e2 = s_lo (lo - 1 - q) + (1 - s_lo) (q - lo)  in [0, 2^ke)
    W  = q + s_hi (hi - q) + s_lo (lo - q)
and s_hi = s_lo = 0 on biases (C = 0). e1, e2 in range bound q to within
2^ke of the clamp bounds, so with `check_no_wrap` every identity holds over
the integers, q is the one quotient and s_hi, s_lo the true comparisons
(both 1 would need q > hi and q < lo).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.poly.mle import eq_table

WEIGHT_CLAMP = (-127, 127)
HALF_P = P // 2

# witness columns over theta's domain, in the zero-check's table order
THETA = "theta"  # the c_theta layout's tensor name; the advice table of theta
Q, R, RR, SH, SL, E1, E2 = (f"#link/{n}" for n in ("q", "r", "rr", "s_hi", "s_lo", "e1", "e2"))
W_VIRTUAL = "#link/W"  # W in theta's order: never committed, reduced to the circuit tensors (wiring)
WITNESS = (THETA, Q, R, RR, SH, SL, E1, E2, W_VIRTUAL)
RANGED = (R, RR, E1, E2)  # range-checked columns (padding proven zero there)
THETA_DIGESTS, THETA_SALT = "#link/theta-digests", "#link/theta-salt"

# monomials of the zero-check (witness column indices into WITNESS), each
# with its public coefficient table; the last is the constant term
_I = {n: i for i, n in enumerate(WITNESS)}
MONOMIALS = ((THETA,), (Q,), (R,), (RR,), (SH,), (SL,), (W_VIRTUAL,), (E1,), (E2,), (SH, SH), (SL, SL), (SH, Q),
             (SL, Q), ())
NUM_GATES = 8


class NotRepresentable(ValueError):
    """The declared scales or ranges are too wide for a wrap-free proof."""


@dataclass(frozen=True)
class TensorMap:
    """One circuit weight tensor: where its entries come from (pi) and how
    they are quantized."""

    name: str
    shape: tuple[int, ...]
    offset: int
    strides: tuple[int, ...]
    scale: float  # float32 value
    clamp: bool  # weights clamp to WEIGHT_CLAMP; biases must fit [lo, hi]
    lo: int  # circuit's declared range
    hi: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def bounds(self) -> tuple[int, int]:
        return WEIGHT_CLAMP if self.clamp else (self.lo, self.hi)

    def multiplier(self, weight_bits: int) -> tuple[int, int]:
        """(N, D) with N / D = 1 / (2^w s) exactly, D > 0."""
        f = Fraction(1, 1 << weight_bits) / Fraction(self.scale)
        return f.numerator, f.denominator

    def theta_indices(self) -> np.ndarray:
        """theta index of every entry, in C order of the circuit shape."""
        idx = np.full(self.shape, self.offset, dtype=np.int64)
        for a, s in enumerate(self.strides):
            shp = [1] * len(self.shape)
            shp[a] = self.shape[a]
            idx = idx + np.arange(self.shape[a], dtype=np.int64).reshape(shp) * s
        return idx.reshape(-1)


@dataclass(frozen=True)
class Plan:
    d: int
    limit: int
    weight_bits: int
    tensors: tuple[TensorMap, ...]
    r_bits: int
    e_bits: int

    @property
    def num_vars(self) -> int:
        return num_vars((self.d,))

    @property
    def size(self) -> int:
        return 1 << self.num_vars

    def owner(self) -> np.ndarray:
        """Per theta index, the tensor it feeds (-1 on padding)."""
        out = np.full(self.size, -1, dtype=np.int64)
        for t, m in enumerate(self.tensors):
            out[m.theta_indices()] = t
        return out

    def constants(self) -> dict[str, list[int]]:
        """Per-element integers over theta's padded domain (0 on padding):
        V, n2 = 2N, d1 = D, d2 = 2D, H, Lo, C."""
        own = self.owner()
        out = {k: [0] * self.size for k in ("V", "n2", "d1", "d2", "H", "Lo", "C")}
        for i in range(self.d):
            m = self.tensors[int(own[i])]
            n, den = m.multiplier(self.weight_bits)
            lo, hi = m.bounds
            for k, v in (("V", 1), ("n2", 2 * n), ("d1", den), ("d2", 2 * den), ("H", hi), ("Lo", lo),
                         ("C", int(m.clamp))):
                out[k][i] = v
        return out


def _bits(v: int) -> int:
    return max(1, int(v).bit_length())


def make_plan(d: int, limit: int, weight_bits: int, tensors) -> Plan:
    """Check pi covers theta exactly once and derive the range widths; raises
    NotRepresentable / ValueError (statement errors)."""
    tensors = tuple(tensors)
    seen = np.zeros(d, dtype=np.int64)
    for m in tensors:
        idx = m.theta_indices()
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= d):
            raise ValueError(f"pi maps {m.name!r} outside theta's {d} entries")
        np.add.at(seen, idx, 1)
    if not bool((seen == 1).all()):
        raise ValueError("pi does not use every entry of theta exactly once")
    r_max, e_max = 1, 1
    for m in tensors:
        if not (np.isfinite(m.scale) and m.scale > 0):
            raise NotRepresentable(f"{m.name!r}: scale {m.scale!r} is not a positive finite float32")
        n, den = m.multiplier(weight_bits)
        lo, hi = m.bounds
        if not m.lo <= lo <= 0 <= hi <= m.hi:
            raise NotRepresentable(f"{m.name!r}: bounds [{lo}, {hi}] outside the declared range [{m.lo}, {m.hi}]")
        q_max = (2 * n * limit + den) // (2 * den) + 1
        r_max = max(r_max, 2 * den - 1)
        e_max = max(e_max, q_max + max(abs(lo), abs(hi)) + 1)
    r_bits, e_bits = _bits(r_max), _bits(e_max)
    plan = Plan(d, limit, weight_bits, tensors, r_bits, e_bits)
    check_no_wrap(plan)
    return plan


def check_no_wrap(plan: Plan) -> None:
    """Every identity must hold over the integers: |each side| < p/2 for
    every value the range checks admit (q within 2^ke + max bound of 0)."""
    if plan.r_bits > 62 or plan.e_bits > 62:
        raise NotRepresentable(f"range widths {plan.r_bits}/{plan.e_bits} bits exceed 62")
    for m in plan.tensors:
        n, den = m.multiplier(plan.weight_bits)
        q_abs = (1 << plan.e_bits) + max(abs(b) for b in m.bounds) + 1
        worst = 2 * n * plan.limit + den + 2 * den * q_abs + (1 << plan.r_bits)
        if worst >= HALF_P:
            raise NotRepresentable(f"{m.name!r}: multiplier {n}/{den} with |theta| <= {plan.limit} may wrap the field",
                                   )


def field(values) -> np.ndarray:
    return vec.from_ints([int(v) % P for v in values])


def _ext_table(values) -> np.ndarray:
    return vec.lift(field(values))


def coefficient_tables(plan: Plan, tau, gamma: Fp2, lam: Fp2) -> list[np.ndarray]:
    """The public table of each monomial (MONOMIALS order), extension vectors:
    E(x) sum_g gamma^g (coefficient of the monomial in gate g at x), E =
    eq(tau, .) V, plus lambda V on s_hi and s_lo (the saturation count)."""
    c = plan.constants()
    size = plan.size
    one = [1] * size
    gp = [gamma]
    for _ in range(NUM_GATES):
        gp.append(gp[-1] * gamma)
    g1, g2, g3, g4, g5, g6, g7, g8 = gp[:NUM_GATES]

    def lin(*pairs):
        """sum coeff * table (table: per-element ints)."""
        acc = vec.ext_zeros(size)
        for coeff, table in pairs:
            acc = vec.add(acc, vec.scale(coeff, _ext_table(table)))
        return acc

    neg = lambda t: [-v for v in t]  # noqa: E731
    notc = [v - cc for v, cc in zip(c["V"], c["C"])]
    two_h1 = [2 * h + 1 for h in c["H"]]
    two_lo1 = [2 * lo - 1 for lo in c["Lo"]]
    coeffs = [
        lin((g1, c["n2"])),                                                         # theta
        lin((g1, neg(c["d2"])), (g6, neg(one)), (g7, one), (g8, neg(one))),         # q
        lin((g1, neg(one)), (g2, one)),                                              # r
        lin((g2, one)),                                                              # rr
        lin((g3, neg(one)), (g5, notc), (g6, neg(c["H"])), (g7, two_h1)),            # s_hi
        lin((g4, neg(one)), (g5, notc), (g6, neg(c["Lo"])), (g8, neg(two_lo1))),     # s_lo
        lin((g6, one)),                                                              # W
        lin((g7, one)),                                                              # e1
        lin((g8, one)),                                                              # e2
        lin((g3, one)),                                                              # s_hi^2
        lin((g4, one)),                                                              # s_lo^2
        lin((g6, one), (g7, [-2] * size)),                                           # s_hi q
        lin((g6, one), (g8, [2] * size)),                                            # s_lo q
        lin((g1, c["d1"]), (g2, [1 - v for v in c["d2"]]), (g7, neg(c["H"])), (g8, c["Lo"])),  # 1
    ]
    e = vec.mul(eq_table(list(tau)), _ext_table(c["V"]))
    out = [vec.mul(e, t) for t in coeffs]
    lv = vec.scale(lam, _ext_table(c["V"]))
    out[4] = vec.add(out[4], lv)
    out[5] = vec.add(out[5], lv)
    return out


def zero_check_spec():
    """Tables: WITNESS (9) then one coefficient table per monomial."""
    from zkaudit.sumcheck import SumOfProducts

    nw = len(WITNESS)
    terms = [(1, (nw + j,) + tuple(_I[n] for n in mono)) for j, mono in enumerate(MONOMIALS)]
    return SumOfProducts.of(nw + len(MONOMIALS), terms)


def public_indices() -> tuple[int, ...]:
    nw = len(WITNESS)
    return tuple(range(nw, nw + len(MONOMIALS)))


def wiring_table(plan: Plan, t: int, rho) -> np.ndarray:
    """M_t over tensor t's padded (embedded) table: eq(rho, pi_t(y)) on real
    entries, 0 on padding; sum_t <M_t, W_t> = W'~(rho) for W' = W o pi^-1."""
    m = plan.tensors[t]
    e = eq_table(list(rho))
    slots = embed(np.arange(1, m.size + 1, dtype=np.int64).reshape(m.shape))
    x = np.nonzero(slots)[0]
    out = vec.ext_zeros(slots.shape[0])
    out[x] = e[m.theta_indices()[slots[x].astype(np.int64) - 1]]
    return out

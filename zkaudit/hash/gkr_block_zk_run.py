"""The partial-round block's zero-knowledge sum-check, one numba call a
round (`BlockFusedRun`), as `gkr_zk_run.FusedRun` is for a layer.

The block (`gkr_block.py`) is one degree-8 sum-check over 31 tables (eq,
x_0..x_7, U_0..U_21) of the tree's few hundred slots. On the generic
driver (`zk_prover.prove` with `gkr_block_prover.BlockRun`) each of its
rounds was ~0.1 ms of Python: the mask's values and offsets, the claim at
the challenge by Lagrange's formula, eq's prefix, the folds' dispatch, the
round sums' dispatch. Here a round is one call (`_advance_*`): bind the
challenge (the claim, the mask's prefix and eq's prefix in
`sumcheck.zk_fused`'s state array; fold the 30 rows, the line L = m . x +
p . U and eq) and compute the next message (`gkr_block_kernels`' round
sums, g = l s with g(1) from the claim, the mask added). The last round is
one call as well (`_last`: the tables' pairs, their pads, the block's
`_last_poly` at the 17 points, the mask). `zk_prover`'s `_start` and
`_finish` and the transcript stay in Python, so the bytes are the generic
driver's: `BlockRun` on `zk_prover.prove` is the reference (tests compare
the proofs byte for byte at 1..8 variables).

Serial only, as the block's round sums are: the block runs for trees of
at most `weights_link.BLOCK_SLOTS_UP_TO` slots.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.constants import P as _P
from zkaudit.field.jit import njit
from zkaudit.field.scalar import _fp2
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.gkr_block_kernels import _last_poly, _sums_base, _sums_ext
from zkaudit.hash.gkr_zk_run import _fold_rows_base, _fold_rows_ext, _message
from zkaudit.sumcheck.zk import vanishing
from zkaudit.sumcheck.zk_fused import Rounds, masked, send
from zkaudit.sumcheck.zk_fused import eq_table as _eq_table
from zkaudit.sumcheck.zk_fused import fold_eq as _fold_eq
from zkaudit.sumcheck.zk_fused import prepare as _prepare
from zkaudit.sumcheck.zk_fused import take as _take

ext_add, ext_mul = jit.imported("zkaudit.field.arith", "ext_add", "ext_mul")

U64 = np.uint64
DEGREE = 8  # eq times U^7


def applies() -> bool:
    """The block takes `BlockFusedRun` once numba runs (a small proof that
    never starts numba keeps `BlockRun`'s numpy paths)."""
    return jit.warm()


@njit(cache=True)
def _open(stack, lin, eqs, q, z, st, rho, suffix, pow2, rows, degs, sc, ev, out):
    """Round 0's message from the base rows (x_0..x_7 then U_0..U_21)."""
    _prepare(0, z, st, rho, suffix, pow2, sc)
    _message(_sums_base(stack[WIDTH:], lin, eqs, q), sc, rows[0], degs[0], ev, out)


@njit(cache=True)
def _next(stack, lin, eqs, q, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, sc, ev, out):
    """Past round i's fold of the rows: L and eq folded and, unless round
    i + 1 is the last, its message."""
    lin = _fold_rows_ext(lin.reshape(1, lin.shape[0], 2), r0, r1)[0]
    eqs = _fold_eq(eqs)
    if i + 2 < z.shape[0]:
        _prepare(i + 1, z, st, rho, suffix, pow2, sc)
        _message(_sums_ext(stack[WIDTH:], lin, eqs, q), sc, rows[i + 1], degs[i + 1], ev, out)
    return stack, lin, eqs


@njit(cache=True)
def _advance_base(stack, lin, eqs, q, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out):
    """Round i's challenge r bound on base rows (the first fold), then `_next`."""
    _take(i, r0, r1, z, st, ev, inv_den, rows[i], degs[i])
    return _next(_fold_rows_base(stack, r0, r1), lin, eqs, q, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, sc,
                 ev, out)


@njit(cache=True)
def _advance_ext(stack, lin, eqs, q, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out):
    _take(i, r0, r1, z, st, ev, inv_den, rows[i], degs[i])
    return _next(_fold_rows_ext(stack, r0, r1), lin, eqs, q, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, sc,
                 ev, out)


@njit(cache=True)
def _last(stack, m, q, p, pads, c_prev, z, st, rho, suffix, pow2, row, deg, ws, sc, pairs, out):
    """The last message: the 31 tables' pairs (eq's line from the state,
    the rows' last two entries), each padded table's pad scaled to
    c_prev m_j, F^ at X = 0..16 (`gkr_block_kernels._last_poly`), plus
    alpha g_n(X) + beta. Leaves the pairs in `pairs` (31, 2, 2)."""
    _prepare(z.shape[0] - 1, z, st, rho, suffix, pow2, sc)
    pairs[0, 0, 0], pairs[0, 0, 1] = sc[0, 0], sc[0, 1]
    pairs[0, 1, 0], pairs[0, 1, 1] = ext_add(sc[0, 0], sc[0, 1], sc[1, 0], sc[1, 1])
    for k in range(stack.shape[0]):
        for b in range(2):
            pairs[1 + k, b, 0], pairs[1 + k, b, 1] = stack[k, b, 0], stack[k, b, 1]
    pad = np.zeros((pairs.shape[0], 2), dtype=np.uint64)
    for j in range(1, pairs.shape[0]):
        pad[j, 0], pad[j, 1] = ext_mul(c_prev[0], c_prev[1], pads[j, 0], pads[j, 1])
    f = np.empty((out.shape[0], 2), dtype=np.uint64)
    _last_poly(pairs, pad, m, q, p, ws, f)
    masked(f, sc, row, deg, out)


def _as_ext(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape + (2,), dtype=U64)
    out[..., 0] = x
    return out


class BlockFusedRun:
    """The block's round source for `zk_prover.prove` that runs the whole
    round loop itself (`zk_rounds`); built from `BlockRun`'s tables."""

    def __init__(self, z, stack: np.ndarray, lin: np.ndarray, m: np.ndarray, q: np.ndarray, p: np.ndarray):
        self.z = list(z)
        self.stack, self.lin = stack, lin  # (30, N) base rows, L (N, 2)
        self.m, self.q, self.p = m, q, p

    def zk_rounds(self, st, transcript, degree: int):
        """Every round from `zk_prover._start`'s state: (round messages,
        point, the 31 tables' last pairs, Z at the point before the last
        round, the last message)."""
        if degree != DEGREE:
            raise ValueError(f"the partial-round block has degree {DEGREE}, not {degree}")
        n = len(self.z)
        run = Rounds(st, self.z, degree)
        z, state, rho, suffix, pow2, rows, degs, sc, ev, out = run.message_args()
        inv_den = run.inv_den
        stack, lin, q = self.stack, self.lin, self.q
        eqs = _eq_table(z[1:])
        rounds, point = [], []
        if n > 1:
            _open(stack, lin, eqs, q, z, state, rho, suffix, pow2, rows, degs, sc, ev, out)
        for i in range(n - 1):
            r0, r1 = send(out, rounds, point, transcript)
            advance = _advance_base if stack.ndim == 2 else _advance_ext
            stack, lin, eqs = advance(stack, lin, eqs, q, i, r0, r1, z, state, rho, suffix, pow2, rows, degs,
                                      inv_den, sc, ev, out)
        if stack.ndim == 2:  # one variable: the rows never folded
            stack = _as_ext(stack)
        c_prev = vanishing(point)
        pads = np.zeros((1 + stack.shape[0], 2), dtype=U64)
        for j, (_, v) in st.pads.items():
            pads[j] = (v.c0, v.c1)
        num_points = 2 * degree + 1
        ws = np.array([(x * (1 - x)) % _P for x in range(num_points)], dtype=U64)
        pairs = np.empty((1 + stack.shape[0], 2, 2), dtype=U64)
        last = np.empty((num_points, 2), dtype=U64)
        _last(stack, self.m, q, self.p, pads, np.array([c_prev.c0, c_prev.c1], dtype=U64), z, state, rho, suffix,
              pow2, rows[n - 1], degs[n - 1], ws, sc, pairs, last)
        sent = tuple([_fp2(a, b) for a, b in last.tolist()])
        return rounds, point, [(_fp2(*a), _fp2(*b)) for a, b in pairs.tolist()], c_prev, sent

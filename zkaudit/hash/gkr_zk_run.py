"""A Poseidon2 GKR layer's zero-knowledge sum-check, one numba call a
round (`FusedRun`).

A weight link's GKR is 30 sequential masked sum-checks of log B rounds.
For a small model (B of a few hundred states) the round kernels were a
tenth of the time: the rest was Python per round (the eq line, the mask's
values and offsets, the claim at the challenge, the folds' dispatch). Here
the round's running state (`sumcheck.zk_fused`: eq(z_<i, r_<i), the claim,
the mask's prefix, the claim's shift) lives in one small array and a round
is one call (`_advance_*`): bind the challenge (fold the tables and eq, the
claim and the mask's univariate at r) and compute the next message (the
layer's round sums by `gkr_kernels`' serial kernels, g = l s with g(1) from
the claim, the mask added). The transcript and the protocol's start and end
stay with `zk_prover` (`_start`, `_finish`), so the bytes are the generic
driver's: `zk_prover.prove` on a `RoundRun` is the reference (tests
compare proofs byte for byte).

The tables are the ones `gkr_prover`'s runs use at scale: a full round's
eight lanes, base-field until the first fold; a partial round's lane 0
and the line L = sum_{k>=1} m_k A_k (`PartialRun`), lanes 1..7 read once
at the end for their values at the point (`_lane_pairs`).

Used for every layer once numba runs (`jit.warm`): at 2^15 states too it
beat the per-round drivers (measured, a whole GKR on 2 threads: 2^8 states
27-29 ms against 36-39, 2^10 50 against 101, 2^15 0.77 s against 0.78-0.99);
above `SERIAL_PAIRS` pairs a round's sums take the parallel kernels.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.constants import P as _P
from zkaudit.field.jit import njit
from zkaudit.field.scalar import _fp2
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.gkr_kernels import (SERIAL_PAIRS, _ext_sbox, _partial_parallel_base, _partial_parallel_ext,
                                      _partial_serial_base, _partial_serial_ext, _round_parallel_base,
                                      _round_parallel_ext, _round_serial_base, _round_serial_ext)
from zkaudit.sumcheck.zk import vanishing
from zkaudit.sumcheck.zk_fused import Rounds, masked, send
from zkaudit.sumcheck.zk_fused import eq_table as _eq_table
from zkaudit.sumcheck.zk_fused import fold_eq as _fold_eq
from zkaudit.sumcheck.zk_fused import mask_at as _mask_at
from zkaudit.sumcheck.zk_fused import prepare as _prepare
from zkaudit.sumcheck.zk_fused import take as _take

add, ext_add, ext_mul, ext_mul_base, ext_sub, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_mul_base", "ext_sub", "sub")

U64 = np.uint64
DEGREE = 8  # eq times x^7


def applies(num_states: int) -> bool:
    """A layer of this many states takes `FusedRun` (kernels only: a small
    proof that never starts numba runs `RoundRun` on numpy)."""
    return num_states >= 1 and jit.warm()


@njit(cache=True)
def _fold_rows_base(x, r0, r1):
    """(K, N) base rows bound at r in their first variable: (K, N/2, 2)."""
    h = x.shape[1] // 2
    out = np.empty((x.shape[0], h, 2), dtype=np.uint64)
    for k in range(x.shape[0]):
        for i in range(h):
            d = sub(x[k, i + h], x[k, i])
            d0, d1 = ext_mul_base(r0, r1, d)
            out[k, i, 0], out[k, i, 1] = add(x[k, i], d0), d1
    return out


@njit(cache=True)
def _fold_rows_ext(x, r0, r1):
    """(K, N, 2) extension rows bound at r in their first variable: (K, N/2, 2)."""
    h = x.shape[1] // 2
    out = np.empty((x.shape[0], h, 2), dtype=np.uint64)
    for k in range(x.shape[0]):
        for i in range(h):
            d0, d1 = ext_sub(x[k, i + h, 0], x[k, i + h, 1], x[k, i, 0], x[k, i, 1])
            d0, d1 = ext_mul(d0, d1, r0, r1)
            out[k, i, 0], out[k, i, 1] = ext_add(x[k, i, 0], x[k, i, 1], d0, d1)
    return out


@njit(cache=True)
def _message(s, sc, row, deg, ev, out):
    """Round message at t = 0..8 from the layer's round sums s: ev gets F's
    round g(t) = l(t) s(t) (g(1) = claim - g(0), as the generic driver
    completes it); out gets g(t) + alpha g_i(t) + beta."""
    for t in range(DEGREE + 1):
        if t != 1:
            d0, d1 = ext_mul_base(sc[1, 0], sc[1, 1], U64(t))
            l0, l1 = ext_add(sc[0, 0], sc[0, 1], d0, d1)
            ev[t, 0], ev[t, 1] = ext_mul(l0, l1, s[t, 0], s[t, 1])
    ev[1, 0], ev[1, 1] = ext_sub(sc[2, 0], sc[2, 1], ev[0, 0], ev[0, 1])
    masked(ev, sc, row, deg, out)


# One wrapper per table kind (numba types every branch: base (2-D) and
# extension (3-D) lanes cannot share one); `_open_*` computes round 0's
# message, `_advance_*` binds round i's challenge and, when `serial`,
# computes round i + 1's message unless i + 1 is the last round. Past
# `SERIAL_PAIRS` pairs the caller runs the parallel sums kernel itself and
# `_message_at` (a cached kernel that calls a parallel one crashed numba
# when loaded back from its cache).


@njit(cache=True)
def _message_at(i, s, z, st, rho, suffix, pow2, rows, degs, sc, ev, out):
    _prepare(i, z, st, rho, suffix, pow2, sc)
    _message(s, sc, rows[i], degs[i], ev, out)


@njit(cache=True)
def _open_full(lanes, eqs, m, z, st, rho, suffix, pow2, rows, degs, sc, ev, out):
    _prepare(0, z, st, rho, suffix, pow2, sc)
    _message(_round_serial_base(lanes, eqs, m, True), sc, rows[0], degs[0], ev, out)


@njit(cache=True)
def _next_full(lanes, eqs, m, i, z, st, rho, suffix, pow2, rows, degs, sc, ev, out, serial):
    """Past round i's fold (lanes folded, eq not yet): eq folded and, when
    serial and round i + 1 is not the last, its message."""
    eqs = _fold_eq(eqs)
    if serial and i + 2 < z.shape[0]:
        _prepare(i + 1, z, st, rho, suffix, pow2, sc)
        _message(_round_serial_ext(lanes, eqs, m, True), sc, rows[i + 1], degs[i + 1], ev, out)
    return lanes, eqs


@njit(cache=True)
def _advance_full_base(lanes, eqs, m, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out, serial):
    _take(i, r0, r1, z, st, ev, inv_den, rows[i], degs[i])
    return _next_full(_fold_rows_base(lanes, r0, r1), eqs, m, i, z, st, rho, suffix, pow2, rows, degs, sc, ev, out,
                      serial)


@njit(cache=True)
def _advance_full_ext(lanes, eqs, m, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out, serial):
    _take(i, r0, r1, z, st, ev, inv_den, rows[i], degs[i])
    return _next_full(_fold_rows_ext(lanes, r0, r1), eqs, m, i, z, st, rho, suffix, pow2, rows, degs, sc, ev, out,
                      serial)


@njit(cache=True)
def _line_table(rest, m):
    """L(i) = sum_{k>=1} m_k A_k(i) (N, 2) from the base lanes 1..7 (7, N)."""
    out = np.zeros((rest.shape[1], 2), dtype=np.uint64)
    for i in range(rest.shape[1]):
        a0, a1 = U64(0), U64(0)
        for k in range(rest.shape[0]):
            x0, x1 = ext_mul_base(m[k + 1, 0], m[k + 1, 1], rest[k, i])
            a0, a1 = ext_add(a0, a1, x0, x1)
        out[i, 0], out[i, 1] = a0, a1
    return out


@njit(cache=True)
def _open_partial(a0, lin, eqs, m, z, st, rho, suffix, pow2, rows, degs, sc, ev, out):
    _prepare(0, z, st, rho, suffix, pow2, sc)
    _message(_partial_serial_base(a0, lin, eqs, m), sc, rows[0], degs[0], ev, out)


@njit(cache=True)
def _next_partial(stack, eqs, m, i, z, st, rho, suffix, pow2, rows, degs, sc, ev, out, serial):
    """`_next_full` for a partial round's (2, N, 2) stack of lane 0 and L."""
    eqs = _fold_eq(eqs)
    if serial and i + 2 < z.shape[0]:
        _prepare(i + 1, z, st, rho, suffix, pow2, sc)
        _message(_partial_serial_ext(stack[0], stack[1], eqs, m), sc, rows[i + 1], degs[i + 1], ev, out)
    return stack, eqs


@njit(cache=True)
def _advance_partial_base(a0, lin, eqs, m, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out,
                          serial):
    """Lane 0 (N,) and L (N, 2) into one (2, N/2, 2) stack."""
    _take(i, r0, r1, z, st, ev, inv_den, rows[i], degs[i])
    stack = np.empty((2, lin.shape[0] // 2, 2), dtype=np.uint64)
    stack[0] = _fold_rows_base(a0.reshape(1, a0.shape[0]), r0, r1)[0]
    stack[1] = _fold_rows_ext(lin.reshape(1, lin.shape[0], 2), r0, r1)[0]
    return _next_partial(stack, eqs, m, i, z, st, rho, suffix, pow2, rows, degs, sc, ev, out, serial)


@njit(cache=True)
def _advance_partial_ext(stack, eqs, m, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out, serial):
    _take(i, r0, r1, z, st, ev, inv_den, rows[i], degs[i])
    return _next_partial(_fold_rows_ext(stack, r0, r1), eqs, m, i, z, st, rho, suffix, pow2, rows, degs, sc, ev, out,
                         serial)


@njit(cache=True)
def _lane_pairs(rest, point):
    """Lanes 1..7 (7, N) base, their first n - 1 variables bound at the
    point: (7, 2, 2), out[k, b] = sum_x eq(point, x) rest[k, 2 x + b]."""
    eq = _eq_table(point)
    out = np.zeros((rest.shape[0], 2, 2), dtype=np.uint64)
    for k in range(rest.shape[0]):
        for b in range(2):
            a0, a1 = U64(0), U64(0)
            for x in range(eq.shape[0]):
                x0, x1 = ext_mul_base(eq[x, 0], eq[x, 1], rest[k, 2 * x + b])
                a0, a1 = ext_add(a0, a1, x0, x1)
            out[k, b, 0], out[k, b, 1] = a0, a1
    return out


@njit(cache=True)
def _last_message(lanes, m, full, sc, q, row, deg, out):
    """The last round at X = 0..2d: eq(X) sum_k m_k sigma_k(A^_k(X)), each
    lane on its line plus its pad's q_k X (1 - X) (q_k = Z(r') m_k), eq(X)
    the line sc[0] + X sc[1]; then + alpha g_n(X) + beta (sc[3], sc[4])."""
    for x in range(out.shape[0]):
        xu = U64(x)
        w = sub(xu, U64(x * x))  # X (1 - X) mod p
        f0, f1 = U64(0), U64(0)
        for k in range(lanes.shape[0]):
            d0, d1 = ext_sub(lanes[k, 1, 0], lanes[k, 1, 1], lanes[k, 0, 0], lanes[k, 0, 1])
            v0, v1 = ext_mul_base(d0, d1, xu)
            v0, v1 = ext_add(lanes[k, 0, 0], lanes[k, 0, 1], v0, v1)
            p0, p1 = ext_mul_base(q[k, 0], q[k, 1], w)
            v0, v1 = ext_add(v0, v1, p0, p1)
            if full or k == 0:
                v0, v1 = _ext_sbox(v0, v1)
            v0, v1 = ext_mul(m[k, 0], m[k, 1], v0, v1)
            f0, f1 = ext_add(f0, f1, v0, v1)
        e0, e1 = ext_mul_base(sc[1, 0], sc[1, 1], xu)
        e0, e1 = ext_add(sc[0, 0], sc[0, 1], e0, e1)
        g0, g1 = ext_mul(e0, e1, f0, f1)
        h0, h1 = _mask_at(row, deg, xu, U64(0))
        h0, h1 = ext_mul(sc[3, 0], sc[3, 1], h0, h1)
        h0, h1 = ext_add(h0, h1, sc[4, 0], sc[4, 1])
        out[x, 0], out[x, 1] = ext_add(g0, g1, h0, h1)


@njit(cache=True)
def _finish_last(lanes, m, full, z, st, rho, suffix, pow2, pads, c_prev, row, deg, sc, out):
    """The last message, each lane's pad m_k scaled to q_k = Z(r') m_k."""
    _prepare(z.shape[0] - 1, z, st, rho, suffix, pow2, sc)
    q = np.empty_like(pads)
    for k in range(pads.shape[0]):
        q[k, 0], q[k, 1] = ext_mul(c_prev[0], c_prev[1], pads[k, 0], pads[k, 1])
    _last_message(lanes, m, full, sc, q, row, deg, out)


@njit(cache=True)
def _plus_constants(layer, consts):
    """A = V + c per lane (canonical in and out)."""
    out = np.empty_like(layer)
    for k in range(layer.shape[0]):
        for i in range(layer.shape[1]):
            out[k, i] = add(layer[k, i], consts[k])
    return out


def _as_ext(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape + (2,), dtype=U64)
    out[..., 0] = x
    return out


class FusedRun:
    """One layer's round source for `zk_prover.prove` that runs the whole
    round loop itself (`zk_rounds`), from the layer V_r (8, B) before its
    round constants."""

    def __init__(self, z, layer: np.ndarray, m, rnd):
        self.z = list(z)
        self.full = rnd.full
        self.m = np.array([[v.c0, v.c1] for v in m], dtype=U64)
        if self.full:
            self.lanes = _plus_constants(layer, np.array(rnd.constants, dtype=U64))
        else:  # lane 0 with its constant; lanes 1..7 carry none in a partial round
            self.a0 = _plus_constants(layer[:1], np.array(rnd.constants[:1], dtype=U64))[0]
            self.rest = layer[1:]
            self.lin = _line_table(self.rest, self.m)

    def zk_rounds(self, st, transcript, degree: int):
        """Every round of the masked sum-check from `zk_prover._start`'s
        state: (round messages, point, the last round's table pairs, Z at the
        point before the last round, the last message)."""
        if degree != DEGREE:
            raise ValueError(f"a Poseidon2 round has degree {DEGREE}, not {degree}")
        n = len(self.z)
        run = Rounds(st, self.z, degree)
        z, state, rho, suffix, pow2, rows, degs, sc, ev, out = msg = run.message_args()
        inv_den = run.inv_den
        m, full = self.m, self.full
        eqs = _eq_table(z[1:])
        rounds, point = [], []
        if n > 1:
            tabs = (self.lanes,) if full else (self.a0, self.lin)
            if _entries(tabs, full) // 2 < SERIAL_PAIRS:
                (_open_full if full else _open_partial)(*tabs, eqs, m, *msg)
            else:
                _message_at(0, _parallel_sums(tabs, eqs, m, full), *msg)
        for i in range(n - 1):
            r0, r1 = send(out, rounds, point, transcript)
            serial = _entries(tabs, full) // 4 < SERIAL_PAIRS  # the next round's pairs, past this fold
            args = (eqs, m, i, r0, r1, z, state, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out, serial)
            if full:
                tab, eqs = (_advance_full_base if i == 0 else _advance_full_ext)(tabs[0], *args)
            elif i == 0:
                tab, eqs = _advance_partial_base(tabs[0], tabs[1], *args)
            else:
                tab, eqs = _advance_partial_ext(tabs[0], *args)
            tabs = (tab,)
            if not serial and i + 2 < n:
                _message_at(i + 1, _parallel_sums((tab[0], tab[1]) if not full else tabs, eqs, m, full), *msg)
        lanes = self._last_lanes(tabs[0] if n > 1 else None, point)
        c_prev = vanishing(point)
        pads = np.array([(v.c0, v.c1) for v in (st.pads[k + 1][1] for k in range(WIDTH))], dtype=U64)
        last = np.empty((2 * degree + 1, 2), dtype=U64)
        _finish_last(lanes, m, full, z, state, rho, suffix, pow2, pads, np.array([c_prev.c0, c_prev.c1], dtype=U64),
                     rows[n - 1], degs[n - 1], sc, last)
        sent = tuple([_fp2(a, b) for a, b in last.tolist()])
        l0, dl = sc[0].tolist(), sc[1].tolist()
        pairs = [(_fp2(*l0), _fp2((l0[0] + dl[0]) % _P, (l0[1] + dl[1]) % _P))]
        pairs += [(_fp2(*a), _fp2(*b)) for a, b in lanes.tolist()]
        return rounds, point, pairs, c_prev, sent

    def _last_lanes(self, tab, point) -> np.ndarray:
        """The eight lanes' pairs in the last variable, (8, 2, 2)."""
        if self.full:
            return _as_ext(self.lanes) if tab is None else tab
        lanes = np.empty((WIDTH, 2, 2), dtype=U64)
        lanes[0] = _as_ext(self.a0) if tab is None else tab[0]
        if point:
            lanes[1:] = _lane_pairs(self.rest, np.array([(r.c0, r.c1) for r in point], dtype=U64))
        else:
            lanes[1:] = _as_ext(self.rest)
        return lanes


def _entries(tabs, full: bool) -> int:
    """Entries per table: the lanes (8, N[, 2]), or lane 0 and L ((N,), (N, 2)), or their stack (2, N, 2)."""
    t = tabs[-1]
    return t.shape[1] if full or t.ndim == 3 else t.shape[0]

def _parallel_sums(tabs, eqs, m, full: bool) -> np.ndarray:
    """A round's sums on the parallel kernels: the lanes, or lane 0 and L."""
    if full:
        (lanes,) = tabs
        return (_round_parallel_base if lanes.ndim == 2 else _round_parallel_ext)(lanes, eqs, m, True)
    a0, lin = tabs
    return (_partial_parallel_base if a0.ndim == 1 else _partial_parallel_ext)(a0, lin, eqs, m)


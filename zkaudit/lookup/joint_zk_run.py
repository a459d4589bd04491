"""A lock-step lookup layer's zero-knowledge sum-check, one numba call a
round (`JointFusedRun`): `gkr.JointRun`'s rounds with the masked
sum-check's running state in `sumcheck.zk_fused`.

A zero-knowledge proof's lookup trees are proven in lock step, one masked
sum-check per layer over [eq] + (p_L, p_R, q_L, q_R) of every active tree
(`protocol.joint_layer_spec`). Driven by `zk_prover.prove` on `JointRun`,
every round paid Python for each tree (its kernel call, its s(0), s(2)
weighted by mu), for eq's table (rebuilt per round) and for the mask's
arithmetic; a small model's layers are a few pairs each, so that was the
time. Here a round is one call (`_advance`): the claim and the mask at the
challenge, every tree folded with its next round's sums
(`kernels._layer_fold_round_serial`), eq(rho_>j, .) folded by summing its
halves, and the next message: s = sum_t mu_t s_t, g(t) = l(t) s(t) with
s(1) from the claim as `JointRun.complete` takes it. The last round (each
table on its line plus its pad's Z m_j X (1 - X), degree 6) is one call too.

The same bytes as `zk_prover.prove` on `JointRun` (tests compare proofs,
deferred checks and pads). Used once numba runs and while every round's
sums run serial (`applies`); bigger layers are kernel-bound anyway.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.constants import P as _P
from zkaudit.field.jit import njit
from zkaudit.field.scalar import _fp2
from zkaudit.lookup.kernels import SERIAL_PAIRS, _layer_fold_round_serial, _layer_round_serial, _term
from zkaudit.sumcheck.zk import vanishing
from zkaudit.sumcheck.zk_fused import Rounds, eq_table, fold_eq, masked, prepare, send, take

ext_add, ext_inv, ext_mul, ext_mul_base, ext_sub, sub = jit.imported(
    "zkaudit.field.arith", "ext_add", "ext_inv", "ext_mul", "ext_mul_base", "ext_sub", "sub")

U64 = np.uint64
DEGREE = 3  # eq times a product of two


def applies(entries: int) -> bool:
    """A layer of this many entries per table takes `JointFusedRun`."""
    return entries // 2 < SERIAL_PAIRS and jit.warm()


@njit(cache=True)
def _message(s02, sc, row, deg, ev, out):
    """F's round from the trees' combined s(0), s(2) and the claim (s is
    quadratic: s(1) = (claim - l(0) s(0)) / l(1), 0 when l(1) = 0, and
    s(3) = s(0) - 3 s(1) + 3 s(2)), then the masked message."""
    l0, l1 = sc[0, 0], sc[0, 1]
    m0, m1 = ext_add(l0, l1, sc[1, 0], sc[1, 1])  # l(1)
    a0, a1 = s02[0, 0], s02[0, 1]
    b0, b1 = s02[1, 0], s02[1, 1]
    ev[0, 0], ev[0, 1] = ext_mul(l0, l1, a0, a1)
    c0, c1 = U64(0), U64(0)
    if m0 != 0 or m1 != 0:
        c0, c1 = ext_sub(sc[2, 0], sc[2, 1], ev[0, 0], ev[0, 1])
        i0, i1 = ext_inv(m0, m1)
        c0, c1 = ext_mul(c0, c1, i0, i1)
    ev[1, 0], ev[1, 1] = ext_mul(m0, m1, c0, c1)
    # l(2) = 2 l(1) - l(0), l(3) = 3 l(1) - 2 l(0); s(3) = s(0) - 3 s(1) + 3 s(2)
    t0, t1 = ext_mul_base(m0, m1, U64(2))
    t0, t1 = ext_sub(t0, t1, l0, l1)
    ev[2, 0], ev[2, 1] = ext_mul(t0, t1, b0, b1)
    d0, d1 = ext_sub(b0, b1, c0, c1)
    d0, d1 = ext_mul_base(d0, d1, U64(3))
    d0, d1 = ext_add(d0, d1, a0, a1)
    t0, t1 = ext_mul_base(m0, m1, U64(3))
    u0, u1 = ext_mul_base(l0, l1, U64(2))
    t0, t1 = ext_sub(t0, t1, u0, u1)
    ev[3, 0], ev[3, 1] = ext_mul(t0, t1, d0, d1)
    masked(ev, sc, row, deg, out)


@njit(cache=True)
def _combine(s02, mus, t, acc):
    """acc += mu_t s02 (both points)."""
    for k in range(2):
        x0, x1 = ext_mul(mus[t, 0], mus[t, 1], s02[k, 0], s02[k, 1])
        acc[k, 0], acc[k, 1] = ext_add(acc[k, 0], acc[k, 1], x0, x1)


@njit(cache=True)
def _open(stacks, eqs, lam0, lam1, mus, z, st, rho, suffix, pow2, rows, degs, sc, ev, out):
    acc = np.zeros((2, 2), dtype=np.uint64)
    for t in range(stacks.shape[0]):
        _combine(_layer_round_serial(stacks[t], eqs, lam0, lam1), mus, t, acc)
    prepare(0, z, st, rho, suffix, pow2, sc)
    _message(acc, sc, rows[0], degs[0], ev, out)


@njit(cache=True)
def _advance(stacks, eqs, lam0, lam1, mus, i, r0, r1, z, st, rho, suffix, pow2, rows, degs, inv_den, sc, ev, out):
    """Round i's challenge bound (every tree folded) and round i + 1's
    message unless i + 1 is the last round: (stacks, eqs) past the fold."""
    take(i, r0, r1, z, st, ev, inv_den, rows[i], degs[i])
    eqs = fold_eq(eqs)
    h = stacks.shape[2] // 2
    folded = np.empty((stacks.shape[0], 4, h, 2), dtype=np.uint64)
    acc = np.zeros((2, 2), dtype=np.uint64)
    for t in range(stacks.shape[0]):
        _combine(_layer_fold_round_serial(stacks[t], r0, r1, eqs, lam0, lam1, folded[t]), mus, t, acc)
    if i + 2 < z.shape[0]:
        prepare(i + 1, z, st, rho, suffix, pow2, sc)
        _message(acc, sc, rows[i + 1], degs[i + 1], ev, out)
    return folded, eqs


@njit(cache=True)
def _last(stacks, lam0, lam1, mus, pads, c_prev, z, st, rho, suffix, pow2, row, deg, sc, out):
    """The last round at X = 0..2d: eq(X) sum_t mu_t F_t(X), each table on
    its line plus q_j X (1 - X) (q_j = Z(r') m_j, pads in table order)."""
    prepare(z.shape[0] - 1, z, st, rho, suffix, pow2, sc)
    ev = np.empty((out.shape[0], 2), dtype=np.uint64)
    v = np.empty((4, 2), dtype=np.uint64)
    for x in range(out.shape[0]):
        xu = U64(x)
        w = sub(xu, U64(x * x))  # X (1 - X) mod p
        f0, f1 = U64(0), U64(0)
        for t in range(stacks.shape[0]):
            for k in range(4):
                d0, d1 = ext_sub(stacks[t, k, 1, 0], stacks[t, k, 1, 1], stacks[t, k, 0, 0], stacks[t, k, 0, 1])
                a0, a1 = ext_mul_base(d0, d1, xu)
                a0, a1 = ext_add(stacks[t, k, 0, 0], stacks[t, k, 0, 1], a0, a1)
                q0, q1 = ext_mul(c_prev[0], c_prev[1], pads[4 * t + k, 0], pads[4 * t + k, 1])
                q0, q1 = ext_mul_base(q0, q1, w)
                v[k, 0], v[k, 1] = ext_add(a0, a1, q0, q1)
            g0, g1 = _term(v[0, 0], v[0, 1], v[1, 0], v[1, 1], v[2, 0], v[2, 1], v[3, 0], v[3, 1], lam0, lam1)
            g0, g1 = ext_mul(mus[t, 0], mus[t, 1], g0, g1)
            f0, f1 = ext_add(f0, f1, g0, g1)
        e0, e1 = ext_mul_base(sc[1, 0], sc[1, 1], xu)
        e0, e1 = ext_add(sc[0, 0], sc[0, 1], e0, e1)
        ev[x, 0], ev[x, 1] = ext_mul(e0, e1, f0, f1)
    masked(ev, sc, row, deg, out)


class JointFusedRun:
    """`gkr.JointRun` as a round source that runs its whole round loop
    (`zk_rounds`): tables [eq] + (p_L, p_R, q_L, q_R) per tree, every
    tree's layer of the same size (lock step)."""

    def __init__(self, rho, stacks, lam, mus):
        self.rho = list(rho)
        self.stacks = np.ascontiguousarray(np.stack([np.asarray(s) for s in stacks]), dtype=U64)
        self.lam = (U64(lam.c0), U64(lam.c1))
        self.mus = np.array([(m.c0, m.c1) for m in mus], dtype=U64)

    def zk_rounds(self, st, transcript, degree: int):
        """Every round from `zk_prover._start`'s state: (round messages,
        point, the last round's table pairs, Z at the point before the last
        round, the last message)."""
        if degree != DEGREE:
            raise ValueError(f"a lookup layer has degree {DEGREE}, not {degree}")
        n = len(self.rho)
        run = Rounds(st, self.rho, degree)
        z, state, rho, suffix, pow2, rows, degs, sc, ev, out = msg = run.message_args()
        lam0, lam1 = self.lam
        stacks, mus = self.stacks, self.mus
        eqs = eq_table(z[1:])
        if n > 1:
            _open(stacks, eqs, lam0, lam1, mus, *msg)
        rounds, point = [], []
        for i in range(n - 1):
            r0, r1 = send(out, rounds, point, transcript)
            stacks, eqs = _advance(stacks, eqs, lam0, lam1, mus, i, r0, r1, z, state, rho, suffix, pow2, rows, degs,
                                   run.inv_den, sc, ev, out)
        c_prev = vanishing(point)
        num = 4 * stacks.shape[0]
        pads = np.array([(st.pads[j][1].c0, st.pads[j][1].c1) for j in range(1, num + 1)], dtype=U64)
        last = np.empty((2 * degree + 1, 2), dtype=U64)
        _last(stacks, lam0, lam1, mus, pads, np.array([c_prev.c0, c_prev.c1], dtype=U64), z, state, rho, suffix,
              pow2, rows[n - 1], degs[n - 1], sc, last)
        sent = tuple([_fp2(a, b) for a, b in last.tolist()])
        l0, dl = sc[0].tolist(), sc[1].tolist()
        pairs = [(_fp2(*l0), _fp2((l0[0] + dl[0]) % _P, (l0[1] + dl[1]) % _P))]
        pairs += [(_fp2(*a), _fp2(*b)) for tree in stacks[:, :, :2].tolist() for a, b in tree]
        return rounds, point, pairs, c_prev, sent

"""The running state of a masked sum-check's rounds in numba, for round
sources that drive their own rounds (`zk_prover.prove`'s `zk_rounds`
hook: `hash.gkr_zk_run`, `lookup.joint_zk_run`).

`zk_prover.prove` computes each round's message on Python int pairs: the
mask's values and offsets, the claim at the challenge, eq's prefix. A
protocol of many small sum-checks (a weight link's 30 Poseidon2 layers, a
lookup tree's joint layers) spent most of its time there. Here that state
lives in one (4, 2) array, `state` rows

    E       eq(z_<i, r_<i)             the eq line's prefix
    CLAIM   F's running claim g_{i-1}(r_{i-1})
    PREFIX  a_0 + sum_{j<i} g_j(r_j)   the mask's prefix
    SHIFT   L / 2^i                    the claim's hidden part, scaled

and `prepare` / `take` advance it as `zk_prover.prove` does, so a round
source's own kernels compute F's round and call `masked` for the message
(the bytes are the generic driver's; the sources' tests compare them).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.constants import P as _P
from zkaudit.field.jit import njit
from zkaudit.field.scalar import _fp2
from zkaudit.poly.univariate import _inv_denominators
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_ROUND

add, ext_add, ext_mul, ext_mul_base, ext_sub, mul, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_mul_base", "ext_sub", "mul", "sub")

U64 = np.uint64
_INV2 = U64(pow(2, _P - 2, _P))
E, CLAIM, PREFIX, SHIFT = 0, 1, 2, 3


@njit(cache=True)
def mask_at(row, deg, x0, x1):
    """g_i(x) = sum_{j=1..deg} row[j - 1] x^j by Horner (no constant term)."""
    v0, v1 = U64(0), U64(0)
    for j in range(deg - 1, -1, -1):
        v0, v1 = ext_add(v0, v1, row[j, 0], row[j, 1])
        v0, v1 = ext_mul(v0, v1, x0, x1)
    return v0, v1


@njit(cache=True)
def lagrange_at(ev, inv_den, r0, r1):
    """g(r) from g(0..d) on the nodes 0..d: prefix[i] = prod_{j<i} (r - j),
    suffix[i] = prod_{j>=i} (r - j)."""
    d = ev.shape[0] - 1
    pre = np.empty((d + 2, 2), dtype=np.uint64)
    suf = np.empty((d + 2, 2), dtype=np.uint64)
    pre[0, 0], pre[0, 1] = 1, 0
    for j in range(d + 1):
        pre[j + 1, 0], pre[j + 1, 1] = ext_mul(pre[j, 0], pre[j, 1], sub(r0, U64(j)), r1)
    suf[d + 1, 0], suf[d + 1, 1] = 1, 0
    for j in range(d, -1, -1):
        suf[j, 0], suf[j, 1] = ext_mul(suf[j + 1, 0], suf[j + 1, 1], sub(r0, U64(j)), r1)
    a0, a1 = U64(0), U64(0)
    for i in range(d + 1):
        w0, w1 = ext_mul(pre[i, 0], pre[i, 1], suf[i + 1, 0], suf[i + 1, 1])
        w0, w1 = ext_mul_base(w0, w1, inv_den[i])
        w0, w1 = ext_mul(w0, w1, ev[i, 0], ev[i, 1])
        a0, a1 = ext_add(a0, a1, w0, w1)
    return a0, a1


@njit(cache=True)
def eq_table(zs):
    """eq(zs, x) over x in {0,1}^k, the first variable the most significant bit."""
    out = np.empty((1 << zs.shape[0], 2), dtype=np.uint64)
    out[0, 0], out[0, 1] = 1, 0
    size = 1
    for k in range(zs.shape[0]):
        for i in range(size - 1, -1, -1):
            h0, h1 = ext_mul(out[i, 0], out[i, 1], zs[k, 0], zs[k, 1])
            out[2 * i + 1, 0], out[2 * i + 1, 1] = h0, h1
            out[2 * i, 0], out[2 * i, 1] = ext_sub(out[i, 0], out[i, 1], h0, h1)
        size *= 2
    return out


@njit(cache=True)
def fold_eq(eqs):
    """eq(z_>j, .) past one more variable: its halves summed (eq(z_j, 0) +
    eq(z_j, 1) = 1); at one entry, as is."""
    e = eqs.shape[0] // 2
    if e == 0:
        return eqs.copy()
    out = np.empty((e, 2), dtype=np.uint64)
    for i in range(e):
        out[i, 0], out[i, 1] = ext_add(eqs[i, 0], eqs[i, 1], eqs[i + e, 0], eqs[i + e, 1])
    return out


@njit(cache=True)
def prepare(i, z, st, rho, suffix, pow2, sc):
    """sc for round i of n (the last when i = n - 1) from the running state:
    l(0), l(1) - l(0) (the eq line eq(z_<i, r_<i) eq(z_i, .)), the claim,
    alpha = rho 2^rest, beta = rho (2^rest prefix + 2^(rest-1) suffix) - shift,
    the shift halved first."""
    n = z.shape[0]
    st[SHIFT, 0], st[SHIFT, 1] = mul(st[SHIFT, 0], _INV2), mul(st[SHIFT, 1], _INV2)
    e0, e1 = st[E, 0], st[E, 1]
    z0, z1 = ext_mul(e0, e1, z[i, 0], z[i, 1])
    l0, l1 = ext_sub(e0, e1, z0, z1)
    sc[0, 0], sc[0, 1] = l0, l1
    sc[1, 0], sc[1, 1] = ext_sub(z0, z1, l0, l1)
    sc[2, 0], sc[2, 1] = st[CLAIM, 0], st[CLAIM, 1]
    rest = n - i - 1
    sc[3, 0], sc[3, 1] = ext_mul_base(rho[0], rho[1], pow2[rest])
    u0, u1 = ext_mul_base(st[PREFIX, 0], st[PREFIX, 1], pow2[rest])
    if rest:
        h0, h1 = ext_mul_base(suffix[i + 1, 0], suffix[i + 1, 1], pow2[rest - 1])
        u0, u1 = ext_add(u0, u1, h0, h1)
    b0, b1 = ext_mul(rho[0], rho[1], u0, u1)
    sc[4, 0], sc[4, 1] = ext_sub(b0, b1, st[SHIFT, 0], st[SHIFT, 1])


@njit(cache=True)
def masked(ev, sc, row, deg, out):
    """out(t) = ev(t) + alpha g_i(t) + beta, t = 0..len(ev) - 1."""
    for t in range(ev.shape[0]):
        g0, g1 = mask_at(row, deg, U64(t), U64(0))
        g0, g1 = ext_mul(sc[3, 0], sc[3, 1], g0, g1)
        g0, g1 = ext_add(g0, g1, sc[4, 0], sc[4, 1])
        out[t, 0], out[t, 1] = ext_add(ev[t, 0], ev[t, 1], g0, g1)


@njit(cache=True)
def take(i, r0, r1, z, st, ev, inv_den, row, deg):
    """The running state past round i's challenge r: the claim g(r) (F's
    round ev), the mask's prefix + g_i(r), eq's prefix times eq(z_i, r)."""
    st[CLAIM, 0], st[CLAIM, 1] = lagrange_at(ev, inv_den, r0, r1)
    g0, g1 = mask_at(row, deg, r0, r1)
    st[PREFIX, 0], st[PREFIX, 1] = ext_add(st[PREFIX, 0], st[PREFIX, 1], g0, g1)
    # eq(z_i, r) = 1 - z_i - r + 2 z_i r
    q0, q1 = ext_mul(z[i, 0], z[i, 1], r0, r1)
    q0, q1 = ext_add(q0, q1, q0, q1)
    q0, q1 = ext_sub(q0, q1, z[i, 0], z[i, 1])
    q0, q1 = ext_sub(q0, q1, r0, r1)
    q0 = add(q0, U64(1))
    st[E, 0], st[E, 1] = ext_mul(st[E, 0], st[E, 1], q0, q1)


def send(out: np.ndarray, rounds: list, point: list, transcript):
    """Round message `out` sent (kept in `rounds`, absorbed), its challenge
    drawn (kept in `point`): (r0, r1) as the kernels take it."""
    sent = tuple([_fp2(a, b) for a, b in out.tolist()])
    rounds.append(sent)
    transcript.absorb_exts(LABEL_ROUND, sent)
    r = transcript.challenge_ext(LABEL_CHALLENGE)
    point.append(r)
    return U64(r.c0), U64(r.c1)


class Rounds:
    """The arrays a fused round loop runs on, from `zk_prover._start`'s
    state `st` and the eq point z: rows (the mask's coefficients per
    variable, padded to 2 d), degs, suffix (sum_{j>=i} g_j(1)), state, rho,
    pow2, inv_den (F's degree d), sc, ev (F's round), out (the message)."""

    def __init__(self, st, z, degree: int):
        n = len(z)
        self.rows = np.zeros((n, 2 * degree, 2), dtype=U64)
        self.degs = np.array([len(row) for row in st.rows], dtype=np.int64)
        suffix = [(0, 0)] * (n + 1)
        for i in range(n - 1, -1, -1):
            row = st.rows[i]
            self.rows[i, : len(row)] = row
            u0, u1 = suffix[i + 1]
            suffix[i] = ((u0 + sum(c[0] for c in row)) % _P, (u1 + sum(c[1] for c in row)) % _P)
        self.suffix = np.array(suffix, dtype=U64)
        self.z = np.array([(v.c0, v.c1) for v in z], dtype=U64).reshape(n, 2)
        self.state = np.array([(1, 0), (st.h_true.c0, st.h_true.c1), st.a0, (st.l_true.c0, st.l_true.c1)],
                              dtype=U64)
        self.rho = np.array([st.rho.c0, st.rho.c1], dtype=U64)
        self.pow2 = _pow2(n)
        self.inv_den = _inv_den(degree)
        self.sc = np.empty((5, 2), dtype=U64)
        self.ev = np.empty((degree + 1, 2), dtype=U64)
        self.out = np.empty((degree + 1, 2), dtype=U64)

    def message_args(self):
        """(z, state, rho, suffix, pow2, rows, degs, sc, ev, out): what a message kernel reads and writes."""
        return (self.z, self.state, self.rho, self.suffix, self.pow2, self.rows, self.degs, self.sc, self.ev,
                self.out)


_POW2: dict[int, np.ndarray] = {}
_INV_DEN: dict[int, np.ndarray] = {}


def _pow2(n: int) -> np.ndarray:
    got = _POW2.get(n)
    if got is None:
        got = _POW2[n] = np.array([pow(2, k, _P) for k in range(n + 1)], dtype=U64)
    return got


def _inv_den(degree: int) -> np.ndarray:
    got = _INV_DEN.get(degree)
    if got is None:
        got = _INV_DEN[degree] = np.array(_inv_denominators(degree), dtype=U64)
    return got

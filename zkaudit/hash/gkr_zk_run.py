"""A small Poseidon2 GKR layer's zero-knowledge sum-check, each round in
two numba kernels (`FusedRun`).

A weight link's GKR is 30 sequential masked sum-checks of log B rounds.
For a small model (B of a few hundred states) the round kernels are a
tenth of the time: the rest was Python per round (the eq line, the mask's
values and offsets, the claim at the challenge, the folds' dispatch), about
150-200 us a round, 240-270 rounds a proof. Here a round is one kernel for
the message (`_round_message`: the layer's round sums by `gkr_kernels`'
serial kernel, g = l s with g(1) from the claim, the mask added) and one
for the challenge (`_bind`: the lanes and eq folded, the claim and the
mask's univariate at r). The transcript
and the protocol's start and end stay with `zk_prover` (`_start`,
`_finish`), so the bytes are the generic driver's: `zk_prover.prove` on a
`RoundRun` is the reference (tests compare proofs byte for byte).

Used once numba runs (`jit.warm`) and for layers below `FUSED_BELOW`
states; above it the rounds' parallel kernels carry the time anyway.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.constants import P as _P
from zkaudit.field.constants import W as _W
from zkaudit.field.jit import njit
from zkaudit.field.scalar import _fp2
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.gkr_kernels import _ext_sbox, _round_serial_ext
from zkaudit.poly.univariate import _inv_denominators
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_ROUND
from zkaudit.sumcheck.zk import vanishing

ext_add, ext_mul, ext_mul_base, ext_sub, sub = jit.imported(
    "zkaudit.field.arith", "ext_add", "ext_mul", "ext_mul_base", "ext_sub", "sub")

U64 = np.uint64
FUSED_BELOW = 1 << 11  # states per lane: measured, the fused loop at 2^10 states 57 ms a GKR, the kernels 62 (2^11: 82, 82)
DEGREE = 8  # eq times x^7
_INV2 = pow(2, _P - 2, _P)


def applies(num_states: int) -> bool:
    return num_states < FUSED_BELOW and jit.warm()


@njit(cache=True)
def _mask_at(row, deg, x0, x1):
    """g_i(x) = sum_{j=1..deg} row[j - 1] x^j by Horner (no constant term)."""
    v0, v1 = U64(0), U64(0)
    for j in range(deg - 1, -1, -1):
        v0, v1 = ext_add(v0, v1, row[j, 0], row[j, 1])
        v0, v1 = ext_mul(v0, v1, x0, x1)
    return v0, v1


@njit(cache=True)
def _round_message(lanes, eqs, m, full, sc, row, deg, ev, out):
    """Round j's message at t = 0..8. sc rows: l(0), l(1) - l(0) (the eq
    line), the running claim, alpha, beta. ev gets F's round g(t) = l(t) s(t)
    (g(1) = claim - g(0), as the generic driver completes it); out gets
    g(t) + alpha g_i(t) + beta."""
    s = _round_serial_ext(lanes, eqs, m, full)
    for t in range(DEGREE + 1):
        if t != 1:
            d0, d1 = ext_mul_base(sc[1, 0], sc[1, 1], U64(t))
            l0, l1 = ext_add(sc[0, 0], sc[0, 1], d0, d1)
            ev[t, 0], ev[t, 1] = ext_mul(l0, l1, s[t, 0], s[t, 1])
    ev[1, 0], ev[1, 1] = ext_sub(sc[2, 0], sc[2, 1], ev[0, 0], ev[0, 1])
    for t in range(DEGREE + 1):
        g0, g1 = _mask_at(row, deg, U64(t), U64(0))
        g0, g1 = ext_mul(sc[3, 0], sc[3, 1], g0, g1)
        g0, g1 = ext_add(g0, g1, sc[4, 0], sc[4, 1])
        out[t, 0], out[t, 1] = ext_add(ev[t, 0], ev[t, 1], g0, g1)


@njit(cache=True)
def _bind(lanes, eqs, r0, r1, ev, inv_den, row, deg, res):
    """Lanes and eq folded at r (new arrays: (8, h, 2), (h/2, 2) or eq as
    is at one entry); res[0] = g(r) by Lagrange on ev, res[1] = g_i(r)."""
    h = lanes.shape[1] // 2
    out = np.empty((lanes.shape[0], h, 2), dtype=np.uint64)
    for k in range(lanes.shape[0]):
        for i in range(h):
            d0, d1 = ext_sub(lanes[k, i + h, 0], lanes[k, i + h, 1], lanes[k, i, 0], lanes[k, i, 1])
            d0, d1 = ext_mul(d0, d1, r0, r1)
            out[k, i, 0], out[k, i, 1] = ext_add(lanes[k, i, 0], lanes[k, i, 1], d0, d1)
    e = eqs.shape[0] // 2
    if e:
        folded = np.empty((e, 2), dtype=np.uint64)
        for i in range(e):
            folded[i, 0], folded[i, 1] = ext_add(eqs[i, 0], eqs[i, 1], eqs[i + e, 0], eqs[i + e, 1])
    else:
        folded = eqs.copy()
    # Lagrange on the nodes 0..d: prefix[i] = prod_{j<i} (r - j), suffix[i] = prod_{j>=i} (r - j)
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
    res[0, 0], res[0, 1] = a0, a1
    res[1, 0], res[1, 1] = _mask_at(row, deg, r0, r1)
    return out, folded


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


def _mul(a0, a1, b0, b1) -> tuple[int, int]:
    return (a0 * b0 + _W * a1 * b1) % _P, (a0 * b1 + a1 * b0) % _P


class FusedRun:
    """One layer's round source for `zk_prover.prove` that runs the whole
    round loop itself (`zk_rounds`); tables as `RoundRun`'s: eq(z, .) then
    the eight lanes A_r (already with the round constants)."""

    def __init__(self, z, lanes: np.ndarray, m, full: bool):
        from zkaudit.hash.gkr_prover import _suffix_eq

        self.z, self.full = list(z), full
        self.m = np.array([[v.c0, v.c1] for v in m], dtype=U64)
        ext = np.zeros(lanes.shape + (2,), dtype=U64)  # a layer's lanes are base-field (8, B)
        ext[..., 0] = lanes
        self.lanes = ext
        self.eqs = np.ascontiguousarray(_suffix_eq(self.z))

    def zk_rounds(self, st, transcript, degree: int):
        """Every round of the masked sum-check from `zk_prover._start`'s
        state: (round messages, point, the last round's table pairs, Z at the
        point before the last round, the last message)."""
        if degree != DEGREE:
            raise ValueError(f"a Poseidon2 round has degree {DEGREE}, not {degree}")
        n = len(self.z)
        width = 2 * degree
        rows = np.zeros((n, width, 2), dtype=U64)
        suffix = [(0, 0)] * (n + 1)
        for i in range(n - 1, -1, -1):
            row = st.rows[i]
            rows[i, : len(row)] = row
            u0, u1 = suffix[i + 1]
            suffix[i] = ((u0 + sum(c[0] for c in row)) % _P, (u1 + sum(c[1] for c in row)) % _P)
        rho0, rho1 = st.rho.c0, st.rho.c1
        pm0, pm1 = st.a0  # the mask's a_0 + sum_{j < i} g_j(r_j)
        e0, e1 = 1, 0  # eq(z_<i, r_<i)
        c0, c1 = st.h_true.c0, st.h_true.c1
        s0, s1 = st.l_true.c0, st.l_true.c1
        inv_den = np.array(_inv_denominators(degree), dtype=U64)
        lanes, eqs, m, full = self.lanes, self.eqs, self.m, self.full
        ev = np.empty((degree + 1, 2), dtype=U64)
        out = np.empty((degree + 1, 2), dtype=U64)
        res = np.empty((2, 2), dtype=U64)
        rounds, point = [], []
        for i in range(n - 1):
            s0, s1 = s0 * _INV2 % _P, s1 * _INV2 % _P
            zj = self.z[i]
            l0 = _mul(e0, e1, (1 - zj.c0) % _P, -zj.c1 % _P)
            z0 = _mul(e0, e1, zj.c0, zj.c1)
            rest = n - i - 1
            scale, half = pow(2, rest, _P), pow(2, rest - 1, _P)
            u0 = (scale * pm0 + half * suffix[i + 1][0]) % _P
            u1 = (scale * pm1 + half * suffix[i + 1][1]) % _P
            b0, b1 = _mul(rho0, rho1, u0, u1)
            sc = np.array([l0, ((z0[0] - l0[0]) % _P, (z0[1] - l0[1]) % _P), (c0, c1),
                           (rho0 * scale % _P, rho1 * scale % _P), ((b0 - s0) % _P, (b1 - s1) % _P)], dtype=U64)
            deg = len(st.rows[i])
            _round_message(lanes, eqs, m, full, sc, rows[i], deg, ev, out)
            sent = tuple(_fp2(a, b) for a, b in out.tolist())
            rounds.append(sent)
            transcript.absorb_exts(LABEL_ROUND, sent)
            r = transcript.challenge_ext(LABEL_CHALLENGE)
            point.append(r)
            lanes, eqs = _bind(lanes, eqs, U64(r.c0), U64(r.c1), ev, inv_den, rows[i], deg, res)
            (c0, c1), (g0, g1) = res.tolist()
            pm0, pm1 = (pm0 + g0) % _P, (pm1 + g1) % _P
            # eq(z_j, r) = 1 - z_j - r + 2 z_j r
            q0, q1 = _mul(zj.c0, zj.c1, r.c0, r.c1)
            e0, e1 = _mul(e0, e1, (1 - zj.c0 - r.c0 + 2 * q0) % _P, (2 * q1 - zj.c1 - r.c1) % _P)
        s0, s1 = s0 * _INV2 % _P, s1 * _INV2 % _P
        c_prev = vanishing(point)
        zl = self.z[n - 1]
        l0 = _mul(e0, e1, (1 - zl.c0) % _P, -zl.c1 % _P)
        z0 = _mul(e0, e1, zl.c0, zl.c1)
        b0, b1 = _mul(rho0, rho1, pm0, pm1)
        sc = np.array([l0, ((z0[0] - l0[0]) % _P, (z0[1] - l0[1]) % _P), (c0, c1), (rho0, rho1),
                       ((b0 - s0) % _P, (b1 - s1) % _P)], dtype=U64)
        q = np.array([(v.c0, v.c1) for v in (c_prev * st.pads[k + 1][1] for k in range(WIDTH))], dtype=U64)
        last = np.empty((2 * degree + 1, 2), dtype=U64)
        _last_message(lanes, m, full, sc, q, rows[n - 1], len(st.rows[n - 1]), last)
        sent = tuple(_fp2(a, b) for a, b in last.tolist())
        lanes_l = lanes.tolist()
        pairs = [(_fp2(*l0), _fp2(*z0))] + [(_fp2(*lanes_l[k][0]), _fp2(*lanes_l[k][1])) for k in range(WIDTH)]
        return rounds, point, pairs, c_prev, sent


"""The training proof's witness: every column of `plan.py` from the reference
trainer's trace (prover side only). Rows outside the real steps, dead slots
and padding coordinates hold zeros, except the looked-up columns, which hold
a table row there (a CDT draw of index 0, the sigmoid at 0)."""

from __future__ import annotations

import numpy as np

from zkaudit.errors import ZkauditError
from zkaudit.train.trainer import augmented


class WitnessError(ZkauditError):
    """The trace does not satisfy the relation the proof states (a changed trace
    or a trainer bug): names the gate or range and the first failing row."""


def _rhu(x: np.ndarray, k: int) -> np.ndarray:
    return x if k == 0 else (x + (1 << (k - 1))) >> k


def build(plan, trace, X: np.ndarray, y: np.ndarray, tape_words: np.ndarray, mask_words: np.ndarray) -> dict:
    """name -> int64 array over its domain (flattened, t in the high bits), virtual
    tables included; plus "X" (the fetched features) and "thetaT"."""
    A, Bp, Kp, Kx = 1 << plan.a, 1 << plan.b, 1 << plan.c, 1 << plan.xk
    T, B, d, L = plan.T, plan.B, plan.d, plan.L
    pos = plan.shape.positions
    sem = plan.sem
    gapv = np.array(plan.tables["gap"].values, dtype=np.int64)
    noisev = np.array(plan.tables["noise"].values, dtype=np.int64)
    sig = np.asarray(sem.sigmoid, dtype=np.int64)

    def z2(n2):
        return np.zeros((A, n2), dtype=np.int64)

    s = {}
    # ---- slot -------------------------------------------------------------
    live = z2(Bp)
    live[:T, :B] = trace.live
    words = trace.words.astype(np.uint64)
    tape = np.asarray(tape_words, dtype=np.uint64).reshape(T, -1)
    mask = np.asarray(mask_words, dtype=np.uint64).reshape(T, -1)

    def word_cols(sl, n2, cols):
        u, R, m, c = z2(n2), z2(n2), z2(n2), z2(n2)
        u[:T, cols] = words[:, sl].astype(np.int64)
        R[:T, cols] = tape[:, sl].astype(np.int64)
        m[:T, cols] = mask[:, sl].astype(np.int64)
        c[:T, cols] = ((tape[:, sl] + mask[:, sl]) >> np.uint64(63)).astype(np.int64)
        return u, R, m, c

    s["ug"], s["R:gap"], s["m:gap"], s["cg"] = word_cols(slice(0, B), Bp, slice(0, B))
    kg = np.ones((A, Bp), dtype=np.int64)
    kg[:T, :B] = trace.gaps[:, :B] + 1
    s["kg"], s["hg"], s["lg"] = kg, gapv[kg], gapv[kg - 1]
    s["i"] = np.cumsum(kg, axis=1) - 1
    s["live"] = live
    Xa = augmented(X, plan.f)
    rows = np.where(trace.live, trace.index[:, :B], 0)
    feat = np.zeros((A, Bp, Kx), dtype=np.int64)
    feat[:T, :B, :plan.dx] = np.where(trace.live[:, :, None], Xa[rows], 0)
    yy = z2(Bp)
    yy[:T, :B] = np.where(trace.live, np.asarray(y)[rows], 0)
    s["y"] = yy
    theta = np.zeros((A, Kp), dtype=np.int64)
    theta[:T + 1, pos] = trace.theta
    s["xn"] = (feat * feat).sum(axis=2)
    if plan.h:
        dot = _hidden_forward(plan, s, feat, theta, live)
    else:
        dot = np.einsum("tjk,tk->tj", feat, theta)
    s["dot"] = dot
    zq = _rhu(dot, plan.sig_shift)
    s["zq"], s["rz"] = zq * live, (dot + ((1 << (plan.sig_shift - 1)) if plan.sig_shift else 0) - (zq << plan.sig_shift)) * live
    s["bzh"], s["bzl"] = ((zq > L - 1) & (live == 1)).astype(np.int64), ((zq < -L) & (live == 1)).astype(np.int64)
    zin = np.clip(zq, -L, L - 1) * live
    s["zin"] = zin
    s["prob"] = sig[zin + L]
    e = (s["prob"] - (yy << plan.w)) * live
    s["sg"], s["eab"] = (e < 0).astype(np.int64), np.abs(e)
    if plan.h:
        _hidden_backward(plan, s, e, live)
        n2 = s["eab"] * s["eab"] * s["hnorm"] + s["dnorm"] * s["xn"]
    else:
        n2 = s["eab"] * s["eab"] * s["xn"]
    s["n2"] = n2
    root = np.array([[_ceil_sqrt(int(v)) for v in row] for row in n2], dtype=np.int64)
    CF = plan.CF
    den = np.maximum(root, CF) * live
    s["den"], s["bd"] = den, ((root <= CF) & (live == 1)).astype(np.int64)
    Aab = np.where(live == 1, (s["eab"] * CF) // np.maximum(den, 1), 0)
    s["A"], s["rc"] = Aab, (s["eab"] * CF - Aab * den) * live
    s["et"] = (1 - 2 * s["sg"]) * Aab
    if plan.h:
        _hidden_clip(plan, s, den, live)
    # ---- coord ------------------------------------------------------------
    s["un"], s["R:noise"], s["m:noise"], s["cn"] = word_cols(slice(B + 1, B + 1 + d), Kp, pos)
    kn = np.ones((A, Kp), dtype=np.int64)
    kn[:T, pos] = trace.noise + plan.noise_offset + 1
    s["kn"], s["hn"], s["ln"] = kn, noisev[kn], noisev[kn - 1]
    if plan.h:
        shi = _hidden_gradient(plan, s, feat)
    else:
        shi = np.einsum("tj,tjk->tk", s["et"], feat)
    s["shi"] = shi
    sel_c = sel_mask(plan.domains["coord"]).reshape(A, Kp)
    g = plan.grid_shift
    S = _rhu(shi, g) * sel_c
    s["S"], s["rS"] = S, (shi + ((1 << (g - 1)) if g else 0) - (S << g)) * sel_c
    z = (kn - 1 - plan.noise_offset) * sel_c
    step = plan.a_mul * (S + z)
    if plan.ush > 0:
        q = _rhu(step, plan.ush)
        ru = step + (1 << (plan.ush - 1)) - (q << plan.ush)
    else:
        q, ru = step << -plan.ush, np.zeros_like(step)
    s["q"], s["ru"] = q * sel_c, ru * sel_c
    s["theta"] = theta
    nxt = np.zeros_like(theta)
    nxt[:-1] = theta[1:]
    s["next"] = nxt
    pre = theta - s["q"]
    s["bth"], s["btl"] = ((pre > plan.lim) & (sel_c == 1)).astype(np.int64), ((pre < -plan.lim) & (sel_c == 1)).astype(np.int64)
    # ---- step -------------------------------------------------------------
    uB, RB, mB, cB = word_cols(slice(B, B + 1), 1, slice(0, 1))
    s["uB"], s["R:last"], s["m:last"], s["cB"] = uB[:, 0], RB[:, 0], mB[:, 0], cB[:, 0]
    kB = np.ones(A, dtype=np.int64)
    kB[:T] = trace.gaps[:, B] + 1
    s["kB"], s["hB"], s["lB"] = kB, gapv[kB], gapv[kB - 1]
    s["ilast"] = s["i"][:, B - 1].copy()

    out = {k: np.ascontiguousarray(v).reshape(-1) for k, v in s.items()}
    out["X"] = feat.reshape(-1)
    tT = np.zeros(1 << plan.theta_vars, dtype=np.int64)
    tT[:d] = trace.theta[-1]
    out["thetaT"] = tT
    return out


# --- the MLP's hidden layer (unit domain, (t, j, u)) ----------------------------
def _unit_mask(plan, live) -> np.ndarray:
    Up = 1 << plan.e
    return live[:, :, None] * (np.arange(Up) < plan.h)[None, None, :].astype(np.int64)


def _blocks(plan, theta):
    """(W~1 (A, 2^e, 2^c1), w2 over u (A, 2^e), b2 (A,)) from the padded theta."""
    A = theta.shape[0]
    t4 = theta.reshape(A, 2, 1 << plan.e, 1 << plan.xk)
    ub, kb = plan.b2_position()
    return t4[:, 0], t4[:, 1, :, 0], t4[:, 1, ub, kb]


def _hidden_forward(plan, s, feat, theta, live) -> np.ndarray:
    w, L = plan.w, plan.L
    m = _unit_mask(plan, live)
    W1, w2, b2 = _blocks(plan, theta)
    pre = np.einsum("tjk,tuk->tju", feat, W1) * m
    zu = _rhu(pre, w)
    s["pre"], s["zu"], s["r1"] = pre, zu * m, (pre + (1 << (w - 1)) - (zu << w)) * m
    s["bh1"], s["bl1"] = ((zu > L - 1) & (m == 1)).astype(np.int64), ((zu < -L) & (m == 1)).astype(np.int64)
    zh = np.clip(zu, -L, L - 1) * m
    s["zh"], s["pz"] = zh, (zh > 0).astype(np.int64)
    hid = np.maximum(zh, 0)
    s["hid"] = hid
    s["w2b"] = np.broadcast_to(w2[:, None, :], hid.shape).copy()
    s["liveb"] = np.broadcast_to(live[:, :, None], hid.shape).copy()
    s["hnorm"] = (hid * hid).sum(axis=2) + (1 << 2 * plan.f)
    return np.einsum("tju,tu->tj", hid, w2) + (b2[:, None] << plan.f)


def _hidden_backward(plan, s, e, live) -> None:
    w = plan.w
    m = _unit_mask(plan, live)
    prod = e[:, :, None] * s["w2b"] * m
    q2 = _rhu(prod, w)
    s["q2"], s["r2"] = q2 * m, (prod + (1 << (w - 1)) - (q2 << w)) * m
    one = 1 << w
    s["bqh"], s["bql"] = ((q2 > one) & (m == 1)).astype(np.int64), ((q2 < -one) & (m == 1)).astype(np.int64)
    cl = np.clip(q2, -one, one) * m
    dh = s["pz"] * cl
    s["cl"], s["dh"] = cl, dh
    s["sd"], s["dab"] = (dh < 0).astype(np.int64), np.abs(dh)
    s["sgb"] = np.broadcast_to(s["sg"][:, :, None], dh.shape).copy()
    s["eabb"] = np.broadcast_to(s["eab"][:, :, None], dh.shape).copy()
    s["dnorm"] = (dh * dh).sum(axis=2)


def _hidden_clip(plan, s, den, live) -> None:
    m = _unit_mask(plan, live)
    denb = np.broadcast_to(den[:, :, None], m.shape)
    A1 = np.where(m == 1, (s["dab"] * plan.CF) // np.maximum(denb, 1), 0)
    s["A1"], s["rc1"] = A1, (s["dab"] * plan.CF - A1 * denb) * m
    s["dht"] = (1 - 2 * s["sd"]) * A1
    s["denb"] = denb.copy()
    s["dtnorm"] = (s["dht"] * s["dht"]).sum(axis=2)


def _hidden_gradient(plan, s, feat) -> np.ndarray:
    """shi in the coord layout: G1 = sum_j dht x~ in block 0, G2 = sum_j et hid
    at (1, u, 0), the b2 gradient 2^f sum_j et at b2's position."""
    A = feat.shape[0]
    Up, Kx = 1 << plan.e, 1 << plan.xk
    jm = (np.arange(feat.shape[1]) < plan.B).astype(np.int64)[None, :]
    et = s["et"] * jm
    out = np.zeros((A, 2, Up, Kx), dtype=np.int64)
    out[:, 0] = np.einsum("tju,tjk->tuk", s["dht"] * jm[:, :, None], feat)
    out[:, 1, :, 0] = np.einsum("tj,tju->tu", et, s["hid"])
    ub, kb = plan.b2_position()
    out[:, 1, ub, kb] += et.sum(axis=1) << plan.f
    return out.reshape(A, -1)


def _ceil_sqrt(n: int) -> int:
    import math

    r = math.isqrt(n)
    return r if r * r == n else r + 1


def sel_mask(dom) -> np.ndarray:
    """The 0/1 selector of a domain over its flattened rows."""
    out = np.zeros(1 << dom.num_vars, dtype=np.int64)
    for bx in dom.sel:
        m = np.ones(1, dtype=np.int64)
        for nv, lo, hi in bx:
            idx = np.arange(1 << nv)
            m = np.outer(m, ((idx >= lo) & (idx < hi)).astype(np.int64)).reshape(-1)
        out += m
    return out


def fill_ranges(plan, cols: dict) -> None:
    """Each range check's limbs (zero outside sel), after checking the value is in range."""
    for dom in plan.domains.values():
        sel = sel_mask(dom)
        size = sel.shape[0]
        for r in (r for r in plan.ranges if r.domain == dom.name):
            v = r.expr.evaluate_int(cols, size)
            v = np.where(sel == 1, v, 0).astype(object) if v.dtype == object else np.where(sel == 1, v, 0)
            over = (v >= (1 << r.bits)) if (v.dtype == object or r.bits < 63) else np.zeros(size, dtype=bool)
            bad = np.flatnonzero((v < 0) | over)
            if bad.size:
                raise WitnessError(f"range check {dom.name}: {r.name} fails at row {int(bad[0])} "
                                   f"(value {v[bad[0]]}, range [0, 2^{r.bits}))")
            shift = 0
            for limb, w in zip(r.limbs, r.widths):
                cols[limb] = ((v >> shift) & ((1 << w) - 1)).astype(np.int64)
                shift += w


def check_gates(plan, cols: dict) -> None:
    for dom in plan.domains.values():
        sel = sel_mask(dom)
        everywhere = np.ones_like(sel)
        cols = dict(cols, sel=sel)
        for gates, rows in ((dom.gates, sel), (dom.all_rows, everywhere)):
            for name, g in gates:
                v = g.evaluate_int(cols, sel.shape[0])
                bad = np.flatnonzero((v != 0) & (rows == 1))
                if bad.size:
                    raise WitnessError(f"gate {dom.name}: {name} fails at row {int(bad[0])} (value {v[bad[0]]})")

"""The non-zero-knowledge checker of a training run: R_dpsgd, constraint by constraint.

It sees everything (tape, data, trace), so it is for tests, audits of the
reference trainer and debugging a prover, never for publication. Each
constraint below is one the training proof must enforce; its name is the
`where` of the rejection, with the step as `round` and the slot or
coordinate in the message.

    tape        R opens c_R; |R| = T W; words < 2^63
    coin        BLS-verify(pk_aud, COIN_DOMAIN || run_id, sig); coin = SHA-256(sig)
    mask        u = R + m mod 2^63, m = SHAKE256(coin || c_R || h_Pi)
    gap         T_geo[G-1] <= u_j < T_geo[G]                        (G7)
    index       i_0 = G_0, i_j = i_(j-1) + 1 + G_j
    complete    i_B_max >= N                                        (no silent truncation)
    live        live_j = [i_j < N]; dead slots carry zeros
    hidden      (MLP) zh = clamp(rhu(W~1 x~_(i_j), w), -L, L-1)     (G10 + G12 + G13)
    fetch/logit dot = theta_t . x~_(i_j)  (MLP: [w2, b2] . [relu(zh), 2^f])
    backprop    (MLP) dh = [zh > 0] clamp(rhu(e w2, w), -2^w, 2^w)
    sigmoid     zin = clamp(rhu(dot, F - s_in), -L, L-1); p = SIG[zin]; e = p - y 2^w
    norm        nrm = e^2 |h~|^2 + |dh|^2 |x~|^2 (h~ = x~, no dh for logreg); (root-1)^2 < nrm <= root^2; den = max(root, C_F)   (G4, G5)
    clip        |e| C_F = A den + r, 0 <= r < den, e~ = sgn(e) A     (G3, G6; the same for each dh_j)
    invariant   e~^2 |h~|^2 + |dh~|^2 |x~|^2 <= C_F^2
    sum         Shi = sum_live (dh~ x~^T, e~ h~);  S = rhu(Shi, F - g)
    noise       T_gauss[z-1] <= u_(B_max+1+k) < T_gauss[z]          (G7)
    update      theta_(t+1) = clamp(theta_t - rhu(a (S + z), sh), -(2^wl-1), 2^wl-1)
    init        theta_0 = the policy's declared initial weights
"""

from __future__ import annotations

import numpy as np

from zkaudit.train import randomness
from zkaudit.train.errors import MaskRejected, TraceRejected
from zkaudit.train.trainer import Semantics, Trace, augmented, initial_theta, join_mlp_grad, split_mlp


def _fail(constraint: str, mask: np.ndarray, what: str, expected=None, got=None):
    """Raise TraceRejected at the first (step, slot) where `mask` is True."""
    if not np.any(mask):
        return
    pos = np.argwhere(mask)[0]
    t, rest = int(pos[0]), tuple(int(x) for x in pos[1:])
    at = f" (slot/coordinate {rest[0]})" if rest else ""
    e = None if expected is None else (expected[tuple(pos)] if np.ndim(expected) else expected)
    g = None if got is None else (got[tuple(pos)] if np.ndim(got) else got)
    raise TraceRejected(f"{what}{at}", where=constraint, round=t,
                        expected=None if e is None else int(e), got=None if g is None else int(g))


def _interval_ok(table, values: np.ndarray, words: np.ndarray) -> np.ndarray:
    """T[k-1] <= u < T[k] for k = value + offset (False outside the table)."""
    k = values + table.offset
    inside = (k >= 0) & (k < table.size)
    kc = np.clip(k, 0, table.size - 1)
    hi = table.thresholds[kc]
    lo = np.where(kc > 0, table.thresholds[np.maximum(kc - 1, 0)], np.uint64(0))
    return inside & (lo <= words) & (words < hi)


def check_words(expected_words: np.ndarray, trace: Trace) -> None:
    """The trace used u = R + m mod 2^63 (the verifier's m)."""
    exp = np.asarray(expected_words, dtype=np.uint64).reshape(trace.words.shape)
    bad = exp != trace.words
    if np.any(bad):
        t, j = (int(x) for x in np.argwhere(bad)[0])
        raise MaskRejected(f"word {j} of step {t} is not tape + mask mod 2^63 (wrong mask or changed tape)",
                           where="mask", round=t, expected=int(exp[t, j]), got=int(trace.words[t, j]))


def check_trace(sem: Semantics, X: np.ndarray, y: np.ndarray, trace: Trace) -> None:
    """Every constraint of R_dpsgd on the trace (words as given: check them with
    `check_words` first). Raises TraceRejected at the first broken one."""
    P, N, B, d, h = sem.policy, sem.num_rows, sem.policy.max_batch, sem.d, sem.hidden
    T = P.steps
    shapes = {"words": (T, B + 1 + d), "gaps": (T, B + 1), "index": (T, B + 1), "live": (T, B), "grad_sum": (T, d),
              "rounded_sum": (T, d), "noise": (T, d), "theta": (T + 1, d)}
    shapes.update({f: (T, B) for f in Trace.PER_SLOT})
    shapes.update({f: (T, B, h) for f in Trace.PER_UNIT})
    for f, shape in shapes.items():
        if getattr(trace, f).shape != shape:
            raise TraceRejected(f"trace field {f} has the wrong shape", where="shape", expected=shape,
                                got=getattr(trace, f).shape)
    u_gap, u_noise = trace.words[:, :B + 1], trace.words[:, B + 1:]

    _fail("init", (trace.theta[0] != initial_theta(P))[None, :], "theta_0 is not the declared initial weights",
          initial_theta(P)[None, :], trace.theta[:1])
    _fail("complete", (trace.index[:, B] < N)[:, None],
          "the batch overflowed max_batch and was truncated (i_B_max < N)", N, trace.index[:, B:])
    _fail("gap", ~_interval_ok(sem.gap_table, trace.gaps, u_gap), "a gap draw is inconsistent with its word")
    expected_index = np.cumsum(trace.gaps + 1, axis=1) - 1
    _fail("index", expected_index != trace.index, "slot index is not i_(j-1) + 1 + G_j", expected_index, trace.index)
    live = trace.index[:, :B] < N
    _fail("live", live != trace.live, "slot liveness is not [i_j < N]")

    Xt = augmented(X, P.feature_bits)
    rows = np.where(live, trace.index[:, :B], 0)
    x = Xt[rows]  # (T, B, d_in + 1)
    xn = (x * x).sum(axis=2)
    for f in Trace.PER_SLOT:
        _fail("dead", ~live & (getattr(trace, f) != 0), f"a dead slot carries a nonzero {f}")
    for f in Trace.PER_UNIT:
        _fail("dead", ~live & (getattr(trace, f) != 0).any(axis=2), f"a dead slot carries a nonzero {f}")
    L, w, CF = P.sigmoid_input_limit, P.weight_bits, P.clip_fine
    livek = live[:, :, None]
    if h:
        W1 = np.stack([split_mlp(th, P.d_in, h)[0] for th in trace.theta[:-1]])  # (T, h, d_in + 1)
        w2 = trace.theta[:-1, h * (P.d_in + 1):]  # (T, h + 1)
        pre = np.einsum("tbk,thk->tbh", x, W1)
        zh = np.clip((pre + (1 << (w - 1))) >> w, -L, L - 1)
        _fail("hidden", livek & (zh != trace.hidden), "zh is not clamp(rhu(W~1 x~, w)) of the fetched record "
              "(wrong row or hidden unit)", zh, trace.hidden)
        v = np.concatenate([np.maximum(trace.hidden, 0), np.full((T, B, 1), 1 << P.feature_bits)], axis=2)
    else:
        w2, v = trace.theta[:-1], x
    dot = np.einsum("tbk,tk->tb", v, w2)
    _fail("logit", live & (dot != trace.dot), "the logit of the fetched record differs (wrong row or logit)",
          dot, trace.dot)
    sh = sem.sig_shift
    zin = np.clip(trace.dot if sh == 0 else (trace.dot + (1 << (sh - 1))) >> sh, -L, L - 1)
    _fail("sigmoid", live & (zin != trace.zin), "sigmoid input is not the clamped requantized logit", zin, trace.zin)
    prob = sem.sigmoid[np.clip(trace.zin, -L, L - 1) + L]
    _fail("sigmoid", live & (prob != trace.prob), "p is not SIG[zin]", prob, trace.prob)
    e = trace.prob - y[rows] * (1 << w)
    _fail("error", live & (e != trace.err), "e is not p - y 2^w", e, trace.err)
    vn = (v * v).sum(axis=2)
    nrm = trace.err * trace.err * vn
    if h:
        back = np.clip((trace.err[:, :, None] * w2[:, None, :h] + (1 << (w - 1))) >> w, -(1 << w), 1 << w)
        dh = np.where(trace.hidden > 0, back, 0)
        _fail("backprop", livek & (dh != trace.delta), "dh is not [zh > 0] clamp(rhu(e w2, w))", dh, trace.delta)
        nrm = nrm + (trace.delta * trace.delta).sum(axis=2) * xn
    _fail("norm", live & (nrm != trace.norm2), "nrm is not the ghost norm |dh|^2 |x~|^2 + e^2 |h~|^2", nrm,
          trace.norm2)
    r = trace.root
    _fail("norm", live & ((r < 0) | ((r - 1) * (r - 1) >= trace.norm2) & (r > 0) | (r * r < trace.norm2)),
          "root is not ceil(sqrt(nrm))", None, r)
    _fail("norm", live & (trace.den != np.maximum(r, CF)), "den is not max(root, C_F)", np.maximum(r, CF), trace.den)
    for val, clipped, shape_den, what in ((trace.err, trace.clipped, trace.den, "e~"),
                                          (trace.delta, trace.delta_clipped, trace.den[:, :, None], "dh~")):
        rem = np.abs(val) * CF - np.abs(clipped) * shape_den
        sign_ok = (clipped == 0) | (np.sign(clipped) == np.sign(val))
        bad = (rem < 0) | (rem >= shape_den) | ~sign_ok
        _fail("clip", (live if bad.ndim == 2 else livek) & bad,
              f"{what} is not sgn floor(|.| C_F / den) (remainder out of [0, den) or wrong sign)")
    clipped_norm = trace.clipped * trace.clipped * vn + (trace.delta_clipped ** 2).sum(axis=2) * xn
    _fail("invariant", live & (clipped_norm > CF * CF),
          "the clipped gradient's norm exceeds C_F (the sensitivity bound)", CF * CF, clipped_norm)

    et = np.where(live, trace.clipped, 0)
    if h:
        G1 = np.einsum("tbh,tbk->thk", np.where(livek, trace.delta_clipped, 0), x)
        G2 = np.einsum("tb,tbk->tk", et, v)
        shi = np.stack([join_mlp_grad(G1[t], G2[t]) for t in range(T)])
    else:
        shi = np.einsum("tb,tbk->tk", et, x)
    _fail("sum", shi != trace.grad_sum, "Shi is not the exact sum of the clipped gradients", shi, trace.grad_sum)
    g = sem.grid_shift
    S = trace.grad_sum if g == 0 else (trace.grad_sum + (1 << (g - 1))) >> g
    _fail("sum", S != trace.rounded_sum, "S is not Shi rounded to the grid", S, trace.rounded_sum)
    _fail("noise", ~_interval_ok(sem.noise_table, trace.noise, u_noise),
          "a noise value is inconsistent with its word (CDT interval)")
    a, ush = P.update_multiplier()
    step = a * (trace.rounded_sum + trace.noise)
    delta = (step + (1 << (ush - 1))) >> ush if ush > 0 else step << -ush
    lim = P.weight_limit
    new = np.clip(trace.theta[:-1] - delta, -lim, lim)
    _fail("update", new != trace.theta[1:], "theta_(t+1) is not clamp(theta_t - rhu(a (S + z), sh))", new,
          trace.theta[1:])


def check_randomness(run_id: bytes, tape: randomness.Tape, tape_commitment: bytes, shape,
                     auditor_public_key: bytes, coin_signature: bytes, policy_digest: bytes) -> np.ndarray:
    """Open the tape, verify the coin over this run, and return u = R + m mod 2^63."""
    randomness.check_tape(tape, tape_commitment, shape)
    num_words = shape.num_words
    coin = randomness.verify_coin(auditor_public_key, run_id, coin_signature)
    m = randomness.mask(coin, tape_commitment, policy_digest, num_words)
    return randomness.masked_words(tape.words, m)[0]

"""The integer DP-SGD reference trainer: the semantics the training proof certifies.

Logistic regression, d = d_in + 1 parameters theta (Q_w, w = weight_bits),
features x~ = [x, 2^f] (Q_f, f = feature_bits), F = w + f, fine clip norm
C_F = C 2^F, grid g, Delta = C 2^g. Step t reads W = (B_max + 1) + d words
u of the tape (`randomness.masked_words`): B_max + 1 gap words, then d
noise words. With rhu(x, k) = floor((x + 2^(k-1)) / 2^k) (round half up; x
when k = 0):

    G_j   = GEO(u_j)                      j = 0..B_max   (CDT, tables.geometric)
    i_0   = G_0,  i_j = i_(j-1) + 1 + G_j;  slot j < B_max is live iff i_j < N
    i_B_max >= N                          (otherwise BatchOverflow: abort)
  per live slot (record i = i_j):
    dot   = theta . x~_i                                    Q_F
    zin   = clamp(rhu(dot, F - s_in), -L, L - 1)            Q_s_in, L = sigmoid_input_limit
    p     = SIG[zin]                                        Q_w
    e     = p - y_i 2^w
    nrm   = e^2 |x~_i|^2                                    (< 2^62)
    root  = ceil_sqrt(nrm):  (root - 1)^2 < nrm <= root^2
    den   = max(root, C_F)
    e~    = sgn(e) floor(|e| C_F / den)                     (toward zero)
    invariant  e~^2 |x~_i|^2 <= C_F^2                       (privacy rests on this line)
  dead slots: every per-slot value is 0.
    Shi   = sum_live e~ x~_i                                Q_F, exact
    S     = rhu(Shi, F - g)                                 grid units
    z_k   = GAUSS(u_(B_max+1+k))                            k = 0..d-1 (CDT, tables.rounded_gaussian)
    step  = a (S + z) with eta 2^(w-g) / B_exp = a / 2^sh   (policy.update_multiplier)
    theta' = clamp(theta - rhu(step, sh), -(2^wl - 1), 2^wl - 1)

MLP 30-h-1 (ReLU, sigmoid; sigmoid_input_bits = f): theta = [W1 (h x d_in,
row-major), b1 (h), w2 (h), b2], W~1 = [W1 | b1]. Per live slot, replacing
the logit and clipping lines above:
    zh_j  = clamp(rhu(W~1_j . x~, w), -L, L - 1)   hid_j = max(zh_j, 0)   Q_f
    h~    = [hid, 2^f];  dot = [w2, b2] . h~;  zin, p, e as above
    dh_j  = [zh_j > 0] clamp(rhu(e w2_j, w), -2^w, 2^w)                   Q_w (backprop)
    nrm   = |dh|^2 |x~|^2 + e^2 |h~|^2          (ghost norm: exact, no weight-sized tensor)
    dh~_j = sgn(dh_j) floor(|dh_j| C_F / den),  e~ = sgn(e) floor(|e| C_F / den)
    invariant  |dh~|^2 |x~|^2 + e~^2 |h~|^2 <= C_F^2
    Shi   = [sum dh~ x~^T (W1 columns, then b1), sum e~ h~ (w2, then b2)]
Logistic regression is the case h = 0 with h~ = x~.

`train_reference` is the naive statement of this (Python integers, one
record at a time); `train` is the vectorised version the CLI runs. Both
return the full witness (`Trace`); tests/train check they agree bit for bit.
The run is deterministic given the words."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from zkaudit.train import tables
from zkaudit.train.errors import BatchOverflow, TrainingError
from zkaudit.train.policy import Policy

INIT_DOMAIN = b"zkaudit/init/v1\x00"


@dataclass(frozen=True)
class Semantics:
    """Everything public a step needs: the policy's integers and the three tables."""

    policy: Policy
    num_rows: int
    gap_table: tables.CdtTable
    noise_table: tables.CdtTable
    sigmoid: np.ndarray
    noise_std: str

    @classmethod
    def of(cls, policy: Policy, num_rows: int) -> Semantics:
        std = tables.noise_std_text(policy.clip_grid, policy.num_params, policy.noise_multiplier)
        return cls(policy, num_rows,
                   tables.geometric(policy.rate_numerator, policy.rate_log2_denominator, num_rows),
                   tables.rounded_gaussian(std),
                   tables.sigmoid(policy.sigmoid_input_bits, policy.weight_bits, policy.sigmoid_input_limit),
                   std)

    @property
    def d(self) -> int:
        return self.policy.num_params

    @property
    def hidden(self) -> int:
        """h: the hidden width (0 for logistic regression)."""
        return self.policy.hidden[0] if self.policy.hidden else 0

    @property
    def sig_shift(self) -> int:
        return self.policy.fine_bits - self.policy.sigmoid_input_bits

    @property
    def grid_shift(self) -> int:
        return self.policy.fine_bits - self.policy.grid_bits


@dataclass
class Trace:
    """The witness, step by step (T steps, B = B_max slots, d parameters, h hidden units; h = 0 for logreg)."""

    words: np.ndarray  # (T, B+1+d) uint64: u
    gaps: np.ndarray  # (T, B+1) G_j
    index: np.ndarray  # (T, B+1) i_j
    live: np.ndarray  # (T, B) bool
    hidden: np.ndarray  # (T, B, h) zh: clamped requantized pre-activations
    dot: np.ndarray  # (T, B) the output logit
    zin: np.ndarray  # (T, B)
    prob: np.ndarray  # (T, B)
    err: np.ndarray  # (T, B) e
    delta: np.ndarray  # (T, B, h) dh: backprop to the hidden layer
    norm2: np.ndarray  # (T, B) the squared per-example gradient norm
    root: np.ndarray  # (T, B)
    den: np.ndarray  # (T, B)
    clipped: np.ndarray  # (T, B) e~
    delta_clipped: np.ndarray  # (T, B, h) dh~
    grad_sum: np.ndarray  # (T, d) Shi
    rounded_sum: np.ndarray  # (T, d) S
    noise: np.ndarray  # (T, d) z
    theta: np.ndarray  # (T+1, d) theta_0 .. theta_T
    loss: np.ndarray  # (T,) float: mean log-loss of the live records (display only, not part of the relation)

    FIELDS = ("words", "gaps", "index", "live", "hidden", "dot", "zin", "prob", "err", "delta", "norm2", "root", "den",
              "clipped", "delta_clipped", "grad_sum", "rounded_sum", "noise", "theta")
    PER_SLOT = ("dot", "zin", "prob", "err", "norm2", "root", "den", "clipped")
    PER_UNIT = ("hidden", "delta", "delta_clipped")

    @classmethod
    def empty(cls, T: int, B: int, d: int, h: int = 0) -> Trace:
        z = lambda *shape: np.zeros(shape, dtype=np.int64)  # noqa: E731
        return cls(words=np.zeros((T, B + 1 + d), np.uint64), gaps=z(T, B + 1), index=z(T, B + 1),
                   live=np.zeros((T, B), bool), hidden=z(T, B, h), dot=z(T, B), zin=z(T, B), prob=z(T, B),
                   err=z(T, B), delta=z(T, B, h), norm2=z(T, B), root=z(T, B), den=z(T, B), clipped=z(T, B),
                   delta_clipped=z(T, B, h), grad_sum=z(T, d), rounded_sum=z(T, d), noise=z(T, d), theta=z(T + 1, d),
                   loss=np.zeros(T))

    def arrays(self) -> dict[str, np.ndarray]:
        return {f: getattr(self, f) for f in self.FIELDS}

    @property
    def final_theta(self) -> np.ndarray:
        return self.theta[-1]


def split_mlp(theta, d_in: int, h: int):
    """(W~1 = [W1 | b1] as h x (d_in + 1), w~2 = [w2, b2]) from the flat theta."""
    theta = np.asarray(theta)
    W1 = theta[:h * d_in].reshape(h, d_in)
    b1 = theta[h * d_in:h * d_in + h]
    return np.hstack([W1, b1[:, None]]), theta[h * d_in + h:]


def join_mlp_grad(G1: np.ndarray, G2: np.ndarray) -> np.ndarray:
    """The flat gradient in theta's layout from G1 (h x (d_in + 1)) and G2 (h + 1)."""
    return np.concatenate([G1[:, :-1].ravel(), G1[:, -1], G2])


def rhu(x: int, k: int) -> int:
    """Round half up of x / 2^k (Python integers)."""
    return x if k == 0 else (x + (1 << (k - 1))) >> k


def ceil_sqrt(n: int) -> int:
    s = math.isqrt(n)
    return s if s * s == n else s + 1


def augmented(X: np.ndarray, feature_bits: int) -> np.ndarray:
    """x~ = [x, 2^f]: the bias input."""
    return np.hstack([np.asarray(X, dtype=np.int64), np.full((len(X), 1), 1 << feature_bits, dtype=np.int64)])


def initial_theta(policy: Policy) -> np.ndarray:
    """theta_0 as the policy declares it: zeros, or seeded Glorot-uniform integers
    (Q_w, bound floor(2^w sqrt(6 / (fan_in + fan_out))) per layer) from
    SHAKE256(INIT_DOMAIN || seed), read as 64-bit words mod (2 bound + 1); biases zero."""
    d = policy.num_params
    if policy.init_kind == "zeros":
        return np.zeros(d, dtype=np.int64)
    import hashlib

    raw = np.frombuffer(hashlib.shake_256(INIT_DOMAIN + policy.init_seed).digest(8 * d), dtype="<u8")
    layers = [(0, policy.d_in, policy.d_in, 1)] if policy.family == "logreg" else \
        [(0, policy.hidden[0] * policy.d_in, policy.d_in, policy.hidden[0]),
         (policy.hidden[0] * (policy.d_in + 1), policy.hidden[0], policy.hidden[0], 1)]
    theta = np.zeros(d, dtype=np.int64)
    for start, count, fan_in, fan_out in layers:
        bound = math.isqrt(6 * (1 << (2 * policy.weight_bits)) // (fan_in + fan_out))
        if bound > policy.weight_limit:
            raise TrainingError(f"seeded initial weights reach {bound}, above the weight limit 2^"
                                f"{policy.weight_limit_log2} - 1; raise fixed_point.weight_limit_log2")
        theta[start:start + count] = (raw[start:start + count] % np.uint64(2 * bound + 1)).astype(np.int64) - bound
    return theta


def _live_slots(sem: Semantics, gap_words: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    gaps = sem.gap_table.draw(gap_words)
    index = np.cumsum(gaps + 1) - 1  # i_j = sum_{l <= j} G_l + j
    if index[-1] < sem.num_rows:
        raise BatchOverflow(f"step {t}: the Poisson batch has more than max_batch = {sem.policy.max_batch} records; "
                            "the run must be aborted (its probability is counted in delta), not retried")
    return gaps, index


def _loss(prob: np.ndarray, y: np.ndarray, w: int) -> float:
    if len(prob) == 0:
        return float("nan")
    p = np.clip(prob / float(1 << w), 1e-12, 1 - 1e-12)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def train(policy: Policy, X: np.ndarray, y: np.ndarray, words: np.ndarray, *,
          on_step: Callable[[int, float], None] | None = None) -> Trace:
    """The vectorised trainer. X: (N, d_in) int64 at Q_f; y: 0/1; words: the
    T * W masked tape words u."""
    sem = Semantics.of(policy, len(X))
    P, N, d, B, h = policy, len(X), policy.num_params, policy.max_batch, sem.hidden
    words = np.asarray(words, dtype=np.uint64).reshape(P.steps, P.words_per_step)
    Xt = augmented(X, P.feature_bits)
    xn = (Xt * Xt).sum(axis=1)
    y = np.asarray(y, dtype=np.int64)
    CF, L, w = P.clip_fine, P.sigmoid_input_limit, P.weight_bits
    a, sh = P.update_multiplier()
    lim = P.weight_limit
    tr = Trace.empty(P.steps, B, d, h)
    theta = initial_theta(P)
    tr.theta[0] = theta
    for t in range(P.steps):
        gaps, index = _live_slots(sem, words[t, :B + 1], t)
        live = index[:B] < N
        rows = index[:B][live]
        x, yl, nx = Xt[rows], y[rows], xn[rows]
        if h:
            W1, w2 = split_mlp(theta, P.d_in, h)
            zh = np.clip(_rhu_vec(x @ W1.T, w), -L, L - 1)
            v = augmented(np.maximum(zh, 0), P.feature_bits)  # h~
            dot = v @ w2
        else:
            v, dot = x, x @ theta
        zin = np.clip(_rhu_vec(dot, sem.sig_shift), -L, L - 1)
        prob = sem.sigmoid[zin + L]
        e = prob - yl * (1 << w)
        nrm = e * e * (v * v).sum(axis=1)
        if h:
            dh = np.where(zh > 0, np.clip(_rhu_vec(e[:, None] * w2[None, :h], w), -(1 << w), 1 << w), 0)
            nrm = nrm + (dh * dh).sum(axis=1) * nx
        root = _ceil_sqrt_vec(nrm)
        den = np.maximum(root, CF)
        et = np.sign(e) * ((np.abs(e) * CF) // den)
        if h:
            dht = np.sign(dh) * ((np.abs(dh) * CF) // den[:, None])
            shi = join_mlp_grad(dht.T @ x, et @ v)
        else:
            shi = et @ x
        S = _rhu_vec(shi, sem.grid_shift)
        z = sem.noise_table.draw(words[t, B + 1:])
        step = a * (S + z)
        theta = np.clip(theta - (_rhu_vec(step, sh) if sh > 0 else step << -sh), -lim, lim)
        tr.words[t], tr.gaps[t], tr.index[t], tr.live[t] = words[t], gaps, index, live
        for name, val in (("dot", dot), ("zin", zin), ("prob", prob), ("err", e), ("norm2", nrm), ("root", root),
                          ("den", den), ("clipped", et)):
            getattr(tr, name)[t, live] = val
        if h:
            tr.hidden[t, live], tr.delta[t, live], tr.delta_clipped[t, live] = zh, dh, dht
        tr.grad_sum[t], tr.rounded_sum[t], tr.noise[t], tr.theta[t + 1] = shi, S, z, theta
        tr.loss[t] = _loss(prob, yl, w)
        if on_step is not None:
            on_step(t, tr.loss[t])
    return tr


def _rhu_vec(x: np.ndarray, k: int) -> np.ndarray:
    return x if k == 0 else (x + (1 << (k - 1))) >> k


def _ceil_sqrt_vec(n: np.ndarray) -> np.ndarray:
    """ceil(sqrt(n)) exactly for int64 n in [0, 2^62): a float estimate, then integer corrections."""
    s = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    for _ in range(2):
        s = np.where(s * s > n, s - 1, s)
        s = np.where((s + 1) * (s + 1) <= n, s + 1, s)
    return np.where(s * s < n, s + 1, s)


def train_reference(policy: Policy, X: np.ndarray, y: np.ndarray, words: np.ndarray) -> Trace:
    """The naive statement of the semantics: Python integers, one slot and one
    coordinate at a time, no numpy arithmetic (tables are only looked up)."""
    sem = Semantics.of(policy, len(X))
    P, N, d, B, h = policy, len(X), policy.num_params, policy.max_batch, sem.hidden
    W = P.words_per_step
    words = [int(v) for v in np.asarray(words, dtype=np.uint64)]
    gap_T = [int(v) for v in sem.gap_table.thresholds]
    noise_T = [int(v) for v in sem.noise_table.thresholds]
    sig = [int(v) for v in sem.sigmoid]
    one_f = 1 << P.feature_bits
    Xt = [[int(v) for v in row] + [one_f] for row in np.asarray(X)]
    ys = [int(v) for v in y]
    CF, L, w = P.clip_fine, P.sigmoid_input_limit, P.weight_bits
    a, sh = P.update_multiplier()
    lim = P.weight_limit
    clamp = lambda v, lo, hi: min(max(v, lo), hi)  # noqa: E731
    sgn = lambda v: (v > 0) - (v < 0)  # noqa: E731

    def cdt(T, u):  # the k with T[k-1] <= u < T[k]
        lo, hi = 0, len(T) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if T[mid] <= u else (lo, mid)
        return lo

    tr = Trace.empty(P.steps, B, d, h)
    theta = [int(v) for v in initial_theta(P)]
    tr.theta[0] = theta
    for t in range(P.steps):
        u = words[t * W:(t + 1) * W]
        i, index, gaps = -1, [], []
        for j in range(B + 1):
            g = cdt(gap_T, u[j])
            i = i + 1 + g
            gaps.append(g)
            index.append(i)
        if index[B] < N:
            raise BatchOverflow(f"step {t}: batch overflow")
        shi = [0] * d
        probs, labels = [], []
        for j in range(B):
            if index[j] >= N:
                continue
            x, yy = Xt[index[j]], ys[index[j]]
            if h:  # W~1_k = theta[k d_in : (k+1) d_in] + [b1_k]; w~2 = theta[h (d_in+1):]
                rows1 = [theta[k * P.d_in:(k + 1) * P.d_in] + [theta[h * P.d_in + k]] for k in range(h)]
                w2 = theta[h * (P.d_in + 1):]
                zh = [clamp(rhu(sum(p * q for p, q in zip(r, x)), w), -L, L - 1) for r in rows1]
                v = [max(z, 0) for z in zh] + [one_f]
            else:
                v = x
                w2 = theta
            dot = sum(p * q for p, q in zip(w2, v))
            zin = clamp(rhu(dot, sem.sig_shift), -L, L - 1)
            p = sig[zin + L]
            e = p - yy * (1 << w)
            nrm = e * e * sum(q * q for q in v)
            dh = []
            if h:
                dh = [clamp(rhu(e * w2[k], w), -(1 << w), 1 << w) if zh[k] > 0 else 0 for k in range(h)]
                nrm += sum(q * q for q in dh) * sum(q * q for q in x)
            root = ceil_sqrt(nrm)
            den = max(root, CF)
            et = sgn(e) * (abs(e) * CF // den)
            dht = [sgn(q) * (abs(q) * CF // den) for q in dh]
            if h:
                for k in range(h):
                    for m in range(P.d_in):
                        shi[k * P.d_in + m] += dht[k] * x[m]
                    shi[h * P.d_in + k] += dht[k] * x[P.d_in]
                for k in range(h + 1):
                    shi[h * (P.d_in + 1) + k] += et * v[k]
                tr.hidden[t, j], tr.delta[t, j], tr.delta_clipped[t, j] = zh, dh, dht
            else:
                for k in range(d):
                    shi[k] += et * x[k]
            for name, val in (("dot", dot), ("zin", zin), ("prob", p), ("err", e), ("norm2", nrm), ("root", root),
                              ("den", den), ("clipped", et)):
                getattr(tr, name)[t, j] = val
            tr.live[t, j] = True
            probs.append(p)
            labels.append(yy)
        S = [rhu(v, sem.grid_shift) for v in shi]
        z = [cdt(noise_T, u[B + 1 + k]) - sem.noise_table.offset for k in range(d)]
        new = []
        for k in range(d):
            step = a * (S[k] + z[k])
            delta = rhu(step, sh) if sh > 0 else step << -sh
            new.append(clamp(theta[k] - delta, -lim, lim))
        theta = new
        tr.words[t] = u
        tr.gaps[t], tr.index[t] = gaps, index
        tr.grad_sum[t], tr.rounded_sum[t], tr.noise[t], tr.theta[t + 1] = shi, S, z, theta
        tr.loss[t] = _loss(np.array(probs, dtype=np.int64), np.array(labels, dtype=np.int64), w)
    return tr


def logits(policy: Policy, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The integer model's output logit at Q_F (the forward pass of the semantics)."""
    Xt = augmented(X, policy.feature_bits)
    theta = np.asarray(theta, dtype=np.int64)
    if policy.family == "logreg":
        return Xt @ theta
    h, L = policy.hidden[0], policy.sigmoid_input_limit
    W1, w2 = split_mlp(theta, policy.d_in, h)
    zh = np.clip(_rhu_vec(Xt @ W1.T, policy.weight_bits), -L, L - 1)
    return augmented(np.maximum(zh, 0), policy.feature_bits) @ w2


def predict(policy: Policy, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Class 1 iff the logit is >= 0 (the integer model's decision)."""
    return (logits(policy, theta, X) >= 0).astype(np.int64)


def check_widths(policy: Policy, feature_abs_max: np.ndarray) -> None:
    """Every integer of the semantics stays below 2^62 (no wrap in the field, no
    int64 overflow here), given the largest |x| per feature (Q_f integers, from the
    dataset's declared ranges). Raises TrainingError naming the quantity. For an
    MLP the hidden pre-activation and the backprop product stay below 2^61."""
    P = policy
    xm = [int(v) for v in feature_abs_max] + [1 << P.feature_bits]
    xnorm = sum(v * v for v in xm)
    emax = 1 << P.weight_bits
    limit = 1 << 62
    sem_noise = 12 * float(P.noise_multiplier) * (P.clip_grid + math.sqrt(P.num_params))
    a, _ = P.update_multiplier()
    h, L = (P.hidden[0] if P.hidden else 0), P.sigmoid_input_limit
    vm = [L] * h + [1 << P.feature_bits] if h else xm  # the output layer's input h~ (x~ for logreg)
    checks = {
        "the squared gradient norm": emax * emax * (sum(v * v for v in vm) + h * xnorm),
        "the logit": P.weight_limit * sum(vm),
        "a hidden pre-activation": P.weight_limit * sum(xm),
        "e w2 (the backprop product)": emax * P.weight_limit,
        "|e| C_F (the clip division)": emax * P.clip_fine,
        "the gradient sum": P.max_batch * emax * max(max(xm), max(vm)),
        "the update a (S + z)": a * (P.max_batch * P.clip_grid + int(sem_noise) + 1),
    }
    if h:  # the training proof's clamps bound these two within 2^(61 - w) of a clamp bound (plan._build_unit)
        for what in ("a hidden pre-activation", "e w2 (the backprop product)"):
            checks[what] *= 2
    for what, v in checks.items():
        if v >= limit:
            raise TrainingError(f"the policy's formats let {what} reach 2^{v.bit_length() - 1} >= 2^62; "
                                "lower the feature range, weight bits or clip norm")

"""Float DP-SGD (numpy) with the hyperparameters of a policy: the yardstick the
integer trainer's utility is measured against (tests, benchmark). Poisson
sampling at rate q, per-example clipping to C (Opacus' rule, max(1, |g|/C)),
Gaussian noise of std sigma * C on the sum, theta -= eta (sum + noise) / B_exp.
Not part of the certified semantics."""

from __future__ import annotations

import numpy as np

from zkaudit.train.policy import Policy


def train_float(policy: Policy, X: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """X: real features (N, d_in); returns [w, b] as float64."""
    rng = np.random.default_rng(seed)
    N = len(X)
    Xt = np.hstack([np.asarray(X, dtype=np.float64), np.ones((N, 1))])
    theta = np.zeros(Xt.shape[1])
    q, C, sigma = float(policy.rate), float(policy.clip_norm), float(policy.noise_multiplier)
    eta, B = float(policy.learning_rate), policy.expected_batch
    for _ in range(policy.steps):
        m = rng.random(N) < q
        xb, yb = Xt[m], y[m]
        p = 1.0 / (1.0 + np.exp(-(xb @ theta)))
        g = (p - yb)[:, None] * xb
        g /= np.maximum(1.0, np.linalg.norm(g, axis=1) / C)[:, None]
        theta -= eta * (g.sum(axis=0) + rng.normal(0.0, sigma * C, size=theta.shape)) / B
    return theta


def accuracy_float(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    Xt = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    return float(((Xt @ theta >= 0).astype(int) == y).mean())

"""Epsilon from the policy: what a verifier calls to recompute the privacy claim.

The integer gradient sum S_t is released as S_t + round(N(0, s^2)) =
round(S_t + N(0, s^2)), post-processing of the Gaussian mechanism whose l2
sensitivity is Delta_eff = Delta + sqrt(d) grid units (rounding after the
exact sum moves each coordinate by less than one unit). So each step is the
Poisson-subsampled Gaussian mechanism with noise multiplier
sigma_eff = s / Delta_eff = sigma, and the run is

    SelfComposed(PoissonSampled(q, Gaussian(sigma)), T)

composed with every earlier run on the same dataset, accounted by
dp-accounting 0.6.0: PLD (pessimistic, the policy's discretization) is the
claim, RDP the cross-check (RDP is looser; PLD above RDP would mean a bug).

The implemented mechanism differs from the ideal one by at most
eta = T d TV_noise + T (B_max + 1) TV_gap + P(overflow in the run) in total
variation on every dataset, so it is (eps, delta_acc + (1 + e^eps) eta)-DP:
`epsilon` picks delta_acc = delta - slack and reports eps at delta_acc, so
the stated (eps, delta) holds for the mechanism that runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from zkaudit.train import tables
from zkaudit.train.errors import PolicyError
from zkaudit.train.policy import ACCOUNTANT_LIBRARY, ACCOUNTANT_VERSION, Policy

RDP_ORDERS = tuple([1.5, 1.75] + list(range(2, 65)) + [80, 96, 128, 256, 512, 1024])


@dataclass(frozen=True)
class PrivacyReport:
    """The accountant block of a training record."""

    epsilon: float  # PLD, at delta_accountant: the claim
    epsilon_rdp: float  # RDP at the same delta: the cross-check (>= epsilon)
    delta: float  # the policy's target: the claim holds at (epsilon, delta)
    delta_accountant: float  # delta - slack
    slack: float  # (1 + e^eps) * eta
    eta: float  # total-variation distance of the implementation from the ideal mechanism
    tv_noise: float
    tv_gap: float
    overflow: float  # P(some step overflows B_max) <= T * P(Binomial(N, q) > B_max)
    sigma_eff: float
    q: float
    steps: int
    runs: int  # this run plus earlier runs composed

    def to_json(self) -> dict:
        """Numbers as decimal strings (canonical JSON has no floats)."""
        out = {k: repr(float(v)) for k, v in self.__dict__.items() if k not in ("steps", "runs")}
        out.update(steps=self.steps, runs=self.runs, accountant=f"{ACCOUNTANT_LIBRARY}=={ACCOUNTANT_VERSION}",
                   method="pld (pessimistic); rdp cross-check",
                   event="SelfComposed(PoissonSampled(q, Gaussian(sigma_eff)), steps)")
        return out


def _check_version() -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        got = version(ACCOUNTANT_LIBRARY)
    except PackageNotFoundError:
        raise PolicyError(f"{ACCOUNTANT_LIBRARY} is not installed; install zkaudit's dependencies "
                          f"({ACCOUNTANT_LIBRARY}=={ACCOUNTANT_VERSION})") from None
    if got != ACCOUNTANT_VERSION:
        raise PolicyError(f"epsilon must be recomputed with {ACCOUNTANT_LIBRARY}=={ACCOUNTANT_VERSION}, "
                          f"this environment has {got}")


def _unpin_absl_stream() -> None:
    """dp-accounting imports absl, whose logging handler keeps the sys.stderr of
    the moment of import and closes it on logging.shutdown() unless it is the
    sys.stderr of that later moment. A program (or test) that redirects stderr
    around our first epsilon and later reconfigures logging (a web server
    starting) would have that stream closed under it. Pin the handler to the
    process's own stderr, which absl never closes."""
    import sys

    try:
        from absl import logging as absl_logging

        absl_logging.get_absl_handler().python_handler.stream = sys.__stderr__
    except (ImportError, AttributeError):  # another absl: nothing to unpin
        pass


def _event(policy: Policy):
    from dp_accounting import dp_event as ev

    _unpin_absl_stream()

    return ev.SelfComposedDpEvent(
        ev.PoissonSampledDpEvent(float(policy.rate), ev.GaussianDpEvent(float(policy.noise_multiplier))),
        policy.steps)


def overflow_probability(policy: Policy, num_rows: int) -> float:
    """An upper bound on P(a step's batch exceeds B_max) over the run:
    T * P(Binomial(N, q) > B_max), summed exactly in mpmath and rounded up."""
    import mpmath as mp

    N, B, q = num_rows, policy.max_batch, policy.rate
    if B >= N:
        return 0.0
    with mp.workdps(40):
        qq = mp.mpf(q.numerator) / q.denominator
        term = mp.binomial(N, B + 1) * qq ** (B + 1) * (1 - qq) ** (N - B - 1)
        total, k = mp.mpf(0), B + 1
        while k <= N:
            total += term
            if term < total * mp.mpf(2) ** -80 and k > N * qq:
                break  # terms fall geometrically past the mean
            term = term * (N - k) / (k + 1) * qq / (1 - qq)
            k += 1
        return min(1.0, float(total * policy.steps) * (1 + 2 ** -40))


def epsilon(policy: Policy, num_rows: int, *, earlier_runs: Sequence[Policy] = ()) -> PrivacyReport:
    """Recompute (epsilon, delta) for a run of `policy` on `num_rows` records,
    composed with `earlier_runs` on the same dataset. Raises PolicyError when
    the slack leaves no delta (B_max too small) or the library is not the pinned one."""
    _check_version()
    from dp_accounting.pld import pld_privacy_accountant as pld
    from dp_accounting.rdp import rdp_privacy_accountant as rdp

    d = policy.num_params
    noise = tables.rounded_gaussian(tables.noise_std_text(policy.clip_grid, d, policy.noise_multiplier))
    gaps = tables.geometric(policy.rate_numerator, policy.rate_log2_denominator, num_rows)
    overflow = overflow_probability(policy, num_rows)
    eta = policy.steps * d * noise.tv + policy.steps * (policy.max_batch + 1) * gaps.tv + overflow
    for other in earlier_runs:  # their implementation slack adds up too
        od = other.num_params
        on = tables.rounded_gaussian(tables.noise_std_text(other.clip_grid, od, other.noise_multiplier))
        og = tables.geometric(other.rate_numerator, other.rate_log2_denominator, num_rows)
        eta += other.steps * od * on.tv + other.steps * (other.max_batch + 1) * og.tv \
            + overflow_probability(other, num_rows)

    events = [_event(p) for p in (*earlier_runs, policy)]
    pld_acc = pld.PLDAccountant(value_discretization_interval=float(policy.pld_discretization))
    rdp_acc = rdp.RdpAccountant(orders=list(RDP_ORDERS))
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # RDP warns about orders it skips; the skipped orders only loosen the bound
    try:
        for e in events:
            pld_acc.compose(e)
            rdp_acc.compose(e)
        delta = float(policy.delta)
        delta_acc = delta
        for _ in range(8):  # slack = (1 + e^eps(delta_acc)) eta; eps grows as delta_acc shrinks
            eps = pld_acc.get_epsilon(delta_acc)
            slack = (1 + _exp(eps)) * eta
            if delta_acc + slack <= delta:
                break
            delta_acc = delta - slack * 1.01
            if delta_acc <= 0:
                raise PolicyError(f"the implementation slack {slack:.3g} (batch overflow {overflow:.3g}) uses up "
                                  f"delta = {delta}; raise max_batch")
        else:
            raise PolicyError("the delta slack did not settle; raise max_batch or delta")
        eps_rdp = rdp_acc.get_epsilon(delta_acc)
    finally:
        absl.setLevel(level)
    return PrivacyReport(epsilon=float(eps), epsilon_rdp=float(eps_rdp), delta=delta, delta_accountant=delta_acc,
                         slack=slack, eta=eta, tv_noise=noise.tv, tv_gap=gaps.tv, overflow=overflow,
                         sigma_eff=float(policy.noise_multiplier), q=float(policy.rate), steps=policy.steps,
                         runs=1 + len(earlier_runs))


def _exp(x: float) -> float:
    import math

    return math.exp(min(x, 700.0))


def check_claim(report: PrivacyReport, claimed_epsilon: float, claimed_delta: Fraction | float) -> None:
    """The verifier's check against its own recomputation (`epsilon`, with every
    earlier run on the dataset): a claimed epsilon below it, or a claimed delta
    below the policy's, is rejected (RunRejected). Same library, same inputs:
    the floats are compared exactly."""
    from zkaudit.train.errors import RunRejected

    if claimed_epsilon < report.epsilon:
        raise RunRejected("the claimed epsilon is below the accountant's", where="accountant",
                          expected=report.epsilon, got=claimed_epsilon)
    if float(claimed_delta) < report.delta:
        raise RunRejected("the claimed delta is below the policy's delta (the slack is inside it)",
                          where="accountant", expected=report.delta, got=float(claimed_delta))

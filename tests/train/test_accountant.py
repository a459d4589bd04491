"""Epsilon from the policy (dp-accounting 0.6.0, PLD with an RDP cross-check),
the implementation slack inside delta, and the verifier's claim check."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from train_helpers import policy_doc

from zkaudit.train.accountant import check_claim, epsilon, overflow_probability
from zkaudit.train.errors import PolicyError, RunRejected
from zkaudit.train.policy import Policy


@pytest.fixture(scope="module")
def report(policy):
    return epsilon(policy, 455)


def test_breast_cancer_epsilon_matches_the_design(report):
    # design §3.4: breast cancer, 455 rows, B = 64, 20 epochs, sigma = 1, delta = 1e-3 -> PLD 8.70
    assert report.epsilon == pytest.approx(8.70, abs=0.02)
    assert report.epsilon < report.epsilon_rdp < 1.3 * report.epsilon  # RDP is the looser cross-check
    assert report.steps == 143 and report.runs == 1


def test_slack_is_inside_delta(report):
    assert 0 < report.slack < 1e-6
    assert report.delta_accountant + report.slack <= report.delta == 1e-3
    assert report.eta == pytest.approx(143 * 31 * report.tv_noise + 143 * 129 * report.tv_gap + report.overflow)
    assert report.slack == pytest.approx((1 + math.exp(report.epsilon)) * report.eta, rel=0.02)


def test_overflow_bound_is_the_binomial_tail(policy):
    q = float(policy.rate)
    assert overflow_probability(policy, 455) == pytest.approx(143 * stats.binom.sf(128, 455, q), rel=1e-6)
    small = Policy.from_json(policy_doc(sampling__max_batch=70))
    assert overflow_probability(small, 455) == pytest.approx(min(1, 143 * stats.binom.sf(70, 455, q)), rel=1e-6)


def test_overflow_that_eats_delta_is_refused():
    with pytest.raises(PolicyError, match="raise max_batch"):
        epsilon(Policy.from_json(policy_doc(sampling__max_batch=80)), 455)


def test_larger_noise_smaller_epsilon_and_the_10k_example():
    assert epsilon(Policy.from_json(policy_doc(noise_multiplier="2")), 455).epsilon == pytest.approx(2.85, abs=0.02)
    doc = policy_doc(steps=1563, sampling__rate_numerator=round(0.0064 * 2 ** 32), privacy__delta="0.00001")
    assert epsilon(Policy.from_json(doc), 10_000).epsilon == pytest.approx(1.40, abs=0.02)  # design §3.4, row 1


@pytest.fixture(scope="module")
def two_runs(policy):
    return epsilon(policy, 455, earlier_runs=[policy])


def test_earlier_runs_are_composed(report, two_runs):
    assert two_runs.runs == 2 and two_runs.epsilon > report.epsilon * 1.2
    assert two_runs.eta == pytest.approx(2 * report.eta)


def test_claim_check(report, two_runs):
    check_claim(report, report.epsilon, report.delta)
    with pytest.raises(RunRejected, match="below the accountant"):
        check_claim(report, report.epsilon * 0.99, report.delta)
    with pytest.raises(RunRejected, match="below the policy's delta"):  # delta claimed without the slack
        check_claim(report, report.epsilon, report.delta_accountant / 2)
    with pytest.raises(RunRejected, match="below the accountant"):  # a second run on the data not composed
        check_claim(two_runs, report.epsilon, report.delta)


def test_pinned_version():
    from importlib.metadata import version

    assert version("dp-accounting") == "0.6.0"


def test_the_accountant_leaves_no_stderr_for_absl_to_close():
    """dp-accounting's absl handler keeps the sys.stderr of its import and closes it
    on logging.shutdown() unless it is the current one: a redirected stderr around
    the first epsilon was closed later under a web server's logging setup (and
    took pytest's captured stderr down with it). The accountant pins absl to the
    process's own stderr."""
    import contextlib
    import io
    import logging.config
    import sys

    from absl import logging as absl_logging

    from zkaudit.train import accountant

    policy = Policy.from_json(policy_doc(steps=4))
    held = io.StringIO()
    with contextlib.redirect_stderr(held):
        accountant.epsilon(policy, 455)
    assert absl_logging.get_absl_handler().python_handler.stream is sys.__stderr__
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})  # closes existing handlers
    assert not held.closed

"""The integer reference trainer: the vectorised trainer equals the naive
statement bit for bit, runs are determined by their words, utility matches
float DP-SGD on breast cancer, and the honest failure modes."""

from __future__ import annotations

import numpy as np
import pytest
from train_helpers import policy_doc, words_for

from zkaudit.train import float_reference, trainer
from zkaudit.train.errors import BatchOverflow, TrainingError
from zkaudit.train.policy import Policy


@pytest.mark.parametrize("changes", [
    {"steps": 20},
    # a learning rate that is not a power of two (a = 3), a coarser grid, a second noise level
    {"steps": 12, "learning_rate": "0.375", "fixed_point__grid_bits": 8, "noise_multiplier": "2"},
    # weights clamped at +-(2^10 - 1) and a multiplier (sh < 0), seeded start
    {"steps": 10, "fixed_point__weight_limit_log2": 10, "learning_rate": "8", "sampling__expected_batch": 16},
    {"steps": 10, "init": {"kind": "seeded", "seed": "5eed"}},
])
def test_vectorised_trainer_equals_the_naive_reference(bc, changes):
    policy = Policy.from_json(policy_doc(**changes))
    words = words_for(policy, 3)
    fast = trainer.train(policy, bc["X8"], bc["ytr"], words)
    slow = trainer.train_reference(policy, bc["X8"], bc["ytr"], words)
    for field in trainer.Trace.FIELDS:
        assert np.array_equal(getattr(fast, field), getattr(slow, field)), field
    if "weight_limit_log2" in str(changes):
        assert np.abs(fast.theta).max() == policy.weight_limit  # the clamp was exercised
    if "seed" in str(changes):
        assert np.count_nonzero(fast.theta[0]) == 30  # Glorot-uniform weights, zero bias
    assert fast.live.any() and (fast.noise != 0).any()


def test_same_words_same_weights_other_words_other_weights(bc, short_policy, short_trace):
    words, tr = short_trace
    again = trainer.train(short_policy, bc["X8"], bc["ytr"], words.copy())
    assert np.array_equal(again.final_theta, tr.final_theta)
    other = trainer.train(short_policy, bc["X8"], bc["ytr"], words_for(short_policy, 8))
    assert not np.array_equal(other.final_theta, tr.final_theta)


def test_clipping_invariant_and_batches(short_policy, short_trace):
    _, tr = short_trace
    CF = short_policy.clip_fine
    xn = tr.norm2[tr.live] // np.maximum(tr.err[tr.live] ** 2, 1)
    assert np.all(tr.clipped[tr.live] ** 2 * xn <= CF * CF)
    assert np.any(tr.root[tr.live] > CF)  # some gradients were actually clipped
    assert 50 < tr.live.sum(axis=1).mean() < 80  # ~ N q = 64


def test_accuracy_within_one_point_of_float_dpsgd(bc, policy):
    """The design's comparison: 5 seeds each, same hyperparameters (sigma = 1, q = 64/455, T = 143)."""
    acc_int, acc_float = [], []
    for seed in range(5):
        tr = trainer.train(policy, bc["X8"], bc["ytr"], words_for(policy, 100 + seed))
        acc_int.append((trainer.predict(policy, tr.final_theta, bc["X8te"]) == bc["yte"]).mean())
        theta = float_reference.train_float(policy, bc["Xtr"], bc["ytr"], seed)
        acc_float.append(float_reference.accuracy_float(theta, bc["Xte"], bc["yte"]))
    assert np.mean(acc_int) > 0.93
    assert abs(np.mean(acc_int) - np.mean(acc_float)) <= 0.01, (acc_int, acc_float)


def test_batch_overflow_aborts(bc):
    policy = Policy.from_json(policy_doc(steps=30, sampling__max_batch=64))
    with pytest.raises(BatchOverflow, match="must be aborted"):
        trainer.train(policy, bc["X8"], bc["ytr"], words_for(policy, 1))
    with pytest.raises(BatchOverflow):
        trainer.train_reference(policy, bc["X8"], bc["ytr"], words_for(policy, 1))


def test_widths_are_checked(policy):
    trainer.check_widths(policy, np.full(30, 256))
    with pytest.raises(TrainingError, match="2\\^62"):
        trainer.check_widths(policy, np.full(30, 1 << 24))


def test_ceil_sqrt_exact_near_squares():
    n = np.array([0, 1, 2, 3, 4, 5, (1 << 52) + 1, (1 << 62) - 1, 2147483647 ** 2, 2147483647 ** 2 + 1, 2147483647 ** 2 - 1], np.int64)
    assert trainer._ceil_sqrt_vec(n).tolist() == [trainer.ceil_sqrt(int(v)) for v in n]


def test_seeded_start_must_fit_the_weight_limit(bc):
    policy = Policy.from_json(policy_doc(init={"kind": "seeded", "seed": "01"}, fixed_point__weight_limit_log2=10))
    with pytest.raises(TrainingError, match="weight limit"):
        trainer.initial_theta(policy)


def test_mlp_matches_its_reference_and_learns(bc):
    """MLP 30-8-1: ghost-norm clipping, backprop clamp, the same witness from both trainers."""
    policy = Policy.from_json(policy_doc(model={"family": "mlp", "hidden": [8]}, init={"kind": "seeded", "seed": "01"},
                                         steps=8))
    words = words_for(policy, 1)
    fast = trainer.train(policy, bc["X8"], bc["ytr"], words)
    slow = trainer.train_reference(policy, bc["X8"], bc["ytr"], words)
    for field in trainer.Trace.FIELDS:
        assert np.array_equal(getattr(fast, field), getattr(slow, field)), field
    assert (fast.hidden[fast.live] > 0).any() and (fast.hidden[fast.live] < 0).any()  # ReLU on and off
    full = Policy.from_json(policy_doc(model={"family": "mlp", "hidden": [16]}, init={"kind": "seeded", "seed": "01"}))
    tr = trainer.train(full, bc["X8"], bc["ytr"], words_for(full, 2))
    assert (trainer.predict(full, tr.final_theta, bc["X8te"]) == bc["yte"]).mean() > 0.93


def test_mlp_widths_are_checked():
    policy = Policy.from_json(policy_doc(model={"family": "mlp", "hidden": [4096]}, init={"kind": "seeded", "seed": "01"}))
    with pytest.raises(TrainingError, match="squared gradient norm"):
        trainer.check_widths(policy, np.full(30, 256))


def test_final_loss_skips_steps_whose_batch_was_empty():
    """Poisson sampling can leave a step without a batch (its loss NaN): the
    run's reported final loss must not be NaN for that, nor warn."""
    import warnings

    from zkaudit.train.run import final_loss

    nan = float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert final_loss(np.array([0.9, 0.7, 0.5, nan, 0.3]), 20) == 0.3  # window of 2: one finite
        assert final_loss(np.array([0.9, 0.7, 0.6, nan, nan]), 20) == 0.6  # window all empty: the last batch's
        assert final_loss(np.array([0.75, 0.5, 0.25, 0.5]), 40) == 0.5  # window of 4 (exact in binary)
        assert np.isnan(final_loss(np.array([nan, nan]), 10))  # no step had a batch

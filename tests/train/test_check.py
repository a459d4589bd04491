"""The non-ZK checker of R_dpsgd: an honest run passes; each attack of the
design's catalogue that the reference relation can see is caught by its
named constraint (randomness: tape changed, tape after coin, wrong mask,
invalid coin; trace: zero or shifted noise, unclipped or zeroed gradient,
skipped record, truncated batch, wrong row, state jump, weight overflow,
undeclared start, fewer steps)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from zkaudit.train.tape import TapeShape
from zkaudit.train import check, randomness, trainer
from zkaudit.train.errors import CoinRejected, MaskRejected, TapeRejected, TraceRejected

RUN_ID = bytes(range(32))
POLICY_DIGEST = bytes(32)


@pytest.fixture(scope="module")
def auditor():
    from py_ecc.bls import G2ProofOfPossession as bls

    sk = bls.KeyGen(b"\x07" * 32)
    return sk, randomness.public_key(sk)


@pytest.fixture(scope="module")
def committed(short_policy, auditor):
    sk, pk = auditor
    tape = randomness.Tape.generate(short_policy.tape_words, np.random.default_rng(11))
    sig = randomness.sign_coin(sk, RUN_ID)
    return tape, tape.commitment(TapeShape.of(short_policy)), sig


@pytest.fixture(scope="module")
def sem(short_policy):
    return trainer.Semantics.of(short_policy, 455)


def _words(short_policy, committed, pk):
    tape, c_r, sig = committed
    return check.check_randomness(RUN_ID, tape, c_r, TapeShape.of(short_policy), pk, sig, POLICY_DIGEST)


# --- randomness ----------------------------------------------------------------------
def test_honest_randomness_gives_masked_words(short_policy, committed, auditor):
    tape, c_r, sig = committed
    u = _words(short_policy, committed, auditor[1])
    m = randomness.mask(randomness.coin_value(sig), c_r, POLICY_DIGEST, short_policy.tape_words)
    total = tape.words.astype(object) + m.astype(object)
    assert [int(v) for v in u[:50]] == [int(v) % (1 << 63) for v in total[:50]]
    assert not np.array_equal(u, tape.words)
    assert randomness.sign_coin(auditor[0], RUN_ID) == sig  # unique: signing again gives the same coin


def test_tape_changed(short_policy, committed, auditor):
    tape, c_r, sig = committed
    words = tape.words.copy()
    words[5] ^= np.uint64(1)
    with pytest.raises(TapeRejected, match="tape was changed"):
        check.check_randomness(RUN_ID, randomness.Tape(words, tape.salt), c_r, TapeShape.of(short_policy), auditor[1],
                               sig, POLICY_DIGEST)


def test_tape_after_coin(short_policy, committed, auditor):
    """A tape chosen after seeing the coin needs a new commitment, hence a new run
    record and run id, over which the auditor's coin is not a signature."""
    tape, c_r, sig = committed
    new = randomness.Tape.generate(short_policy.tape_words, np.random.default_rng(99))
    new_run_id = bytes(reversed(RUN_ID))  # the record that holds the new commitment
    with pytest.raises(CoinRejected):
        check.check_randomness(new_run_id, new, new.commitment(TapeShape.of(short_policy)), TapeShape.of(short_policy), auditor[1], sig,
                               POLICY_DIGEST)


@pytest.mark.parametrize("attack", ["flipped_byte", "other_key", "other_run", "garbage"])
def test_coin_signature_invalid(short_policy, committed, auditor, attack):
    from py_ecc.bls import G2ProofOfPossession as bls

    tape, c_r, sig = committed
    if attack == "flipped_byte":
        sig = sig[:40] + bytes([sig[40] ^ 1]) + sig[41:]
    elif attack == "other_key":
        sig = randomness.sign_coin(bls.KeyGen(b"\x08" * 32), RUN_ID)
    elif attack == "other_run":
        sig = randomness.sign_coin(auditor[0], bytes(32))
    else:
        sig = b"\x00" * 95
    with pytest.raises(CoinRejected):
        check.check_randomness(RUN_ID, tape, c_r, TapeShape.of(short_policy), auditor[1], sig, POLICY_DIGEST)


def test_wrong_mask(bc, short_policy, committed, auditor):
    """The trainer trains on words from another mask (here: its raw tape, m = 0)."""
    tape, _, _ = committed
    trace = trainer.train(short_policy, bc["X8"], bc["ytr"], tape.words)
    with pytest.raises(MaskRejected, match="not tape \\+ mask"):
        check.check_words(_words(short_policy, committed, auditor[1]), trace)


# --- the trace -----------------------------------------------------------------------
def test_honest_trace_passes(bc, sem, short_trace):
    words, trace = short_trace
    check.check_words(words, trace)
    check.check_trace(sem, bc["X8"], bc["ytr"], trace)


def _first_live(trace):
    t, j = (int(v) for v in np.argwhere(trace.live)[3])
    return t, j


def _mutants():
    def zero_noise(tr):
        tr.noise[2] = 0

    def noise_off_by_one_bucket(tr):
        tr.noise[2, 4] += 1

    def unclipped_gradient(tr):
        t, j = np.argwhere(tr.live & (tr.root > tr.den - 1) & (np.abs(tr.clipped) < np.abs(tr.err)))[0]
        tr.clipped[t, j] = tr.err[t, j]

    def clip_factor_too_small(tr):
        t, j = _first_live(tr)
        tr.clipped[t, j] = 0

    def skip_record(tr):
        t, j = _first_live(tr)
        tr.gaps[t, j] += 1
        tr.index[t, j:] += 1

    def silent_truncation(tr):
        tr.index[1, -1] = 400

    def wrong_row(tr):
        t, j = _first_live(tr)
        tr.dot[t, j] += 256

    # the trace holds one state array (theta_out[t] is theta_in[t+1] by construction); a jump
    # in the final state is seen only by the update
    def state_jump(tr):
        tr.theta[-1, 3] += 1

    def weight_overflow(tr):
        tr.theta[-1, 0] = (1 << 30) + 5

    def undeclared_theta0(tr):
        tr.theta[0, 0] = 100

    def negative_dead_slot(tr):
        t, j = np.argwhere(~tr.live)[0]
        tr.clipped[t, j] = -1

    return {"zero_noise": (zero_noise, "noise"), "noise_off_by_one_bucket": (noise_off_by_one_bucket, "noise"),
            "unclipped_gradient": (unclipped_gradient, "clip"), "clip_factor_too_small": (clip_factor_too_small, "clip"),
            "skip_record": (skip_record, "gap"), "silent_truncation": (silent_truncation, "complete"),
            "wrong_row": (wrong_row, "logit"), "state_jump": (state_jump, "update"),
            "weight_overflow": (weight_overflow, "update"), "undeclared_theta0": (undeclared_theta0, "init"),
            "dead_slot_contribution": (negative_dead_slot, "dead")}


@pytest.mark.parametrize("name", sorted(_mutants()))
def test_attack_is_caught_by_its_constraint(bc, sem, short_trace, name):
    mutate, constraint = _mutants()[name]
    _, honest = short_trace
    tr = copy.deepcopy(honest)
    mutate(tr)
    with pytest.raises(TraceRejected) as err:
        check.check_trace(sem, bc["X8"], bc["ytr"], tr)
    assert err.value.where == constraint, str(err.value)


def test_fewer_steps_rejected(bc, sem, short_trace):
    _, honest = short_trace
    tr = copy.deepcopy(honest)
    for f in trainer.Trace.FIELDS:
        setattr(tr, f, getattr(tr, f)[:-1])
    with pytest.raises(TraceRejected, match="wrong shape"):
        check.check_trace(sem, bc["X8"], bc["ytr"], tr)


@pytest.fixture(scope="module")
def mlp(bc):
    from train_helpers import policy_doc, words_for

    from zkaudit.train.policy import Policy

    policy = Policy.from_json(policy_doc(model={"family": "mlp", "hidden": [8]}, init={"kind": "seeded", "seed": "01"},
                                         steps=6))
    return trainer.Semantics.of(policy, 455), trainer.train(policy, bc["X8"], bc["ytr"], words_for(policy, 4))


def _mlp_mutants():
    def live_unit(tr, active=True):
        t, j, k = (int(v) for v in np.argwhere(tr.live[:, :, None] & ((tr.hidden > 0) == active))[2])
        return t, j, k

    def wrong_hidden(tr):
        t, j, k = live_unit(tr)
        tr.hidden[t, j, k] += 1

    def relu_gate_ignored(tr):
        t, j, k = live_unit(tr, active=False)
        tr.delta[t, j, k] = 5

    def unclipped_hidden_gradient(tr):
        t, j, k = (int(v) for v in np.argwhere(tr.live[:, :, None] & (np.abs(tr.delta_clipped) < np.abs(tr.delta)))[0])
        tr.delta_clipped[t, j, k] = tr.delta[t, j, k]

    def norm_without_hidden_part(tr):
        t, j = (int(v) for v in np.argwhere(tr.live)[0])
        tr.norm2[t, j] = tr.err[t, j] ** 2

    return {"wrong_hidden": (wrong_hidden, "hidden"), "relu_gate_ignored": (relu_gate_ignored, "backprop"),
            "unclipped_hidden_gradient": (unclipped_hidden_gradient, "clip"),
            "norm_without_hidden_part": (norm_without_hidden_part, "norm")}


def test_mlp_honest_trace_passes(bc, mlp):
    sem, tr = mlp
    check.check_trace(sem, bc["X8"], bc["ytr"], tr)


@pytest.mark.parametrize("name", sorted(_mlp_mutants()))
def test_mlp_attack_is_caught_by_its_constraint(bc, mlp, name):
    sem, honest = mlp
    mutate, constraint = _mlp_mutants()[name]
    tr = copy.deepcopy(honest)
    mutate(tr)
    with pytest.raises(TraceRejected) as err:
        check.check_trace(sem, bc["X8"], bc["ytr"], tr)
    assert err.value.where == constraint, str(err.value)

"""The Poseidon2 GKR prover's fast paths against their references, exactly:

* `PartialRun` (a partial round on lane 0 and one line table) gives the
  same proofs, byte for byte, as the generic sum-check prover, plain and
  zero-knowledge (one fixed bank), at every size including one variable;
* its kernels: `partial_round_evals` equals `round_evals` on the eight
  lanes, `line_table` the combination on Python ints, `lanes_at` the
  tables folded one variable at a time;
* the round kernels (coefficient form, 20 products per extension lane)
  equal the point-form twin on the sizes that take the parallel wrappers.
"""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.field.randomness import random_base
from zkaudit.field.scalar import Fp2
from zkaudit.hash import gkr_kernels as gk
from zkaudit.hash import gkr_prover
from zkaudit.hash.gkr import NUM_ROUNDS, LaneClaim
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck import kernels as sk
from zkaudit.sumcheck.zk import ZkProver
from zkaudit.transcript import Transcript

BANK = 6000


def _transcript(zk=None) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/poseidon2-gkr-fast-paths", 1)
    t.zk = zk
    return t


def _proof_bytes(layers, n: int, *, fast: bool, bank=None) -> bytes:
    zk = ZkProver({"advice": BANK}, {"advice": bank}) if bank is not None else None
    t = _transcript(zk)
    z, gamma = t.challenge_exts(b"z", n), t.challenge_exts(b"g", 8)
    out = layers[NUM_ROUNDS]
    # the true claim: the fast runs take g(1) = claim - g(0), the generic prover sums g(1)
    value = sum((g * evaluate(np.ascontiguousarray(out[k]), list(z)) for k, g in enumerate(gamma)),
                Fp2(0))
    proofs, xc = gkr_prover.prove(layers, LaneClaim(tuple(z), tuple(gamma), value), t, fast=fast)
    out = b"".join(p.to_bytes() for p in proofs)
    return out + b"".join(v.to_bytes() for v in xc.point + xc.gamma)


@pytest.fixture
def every_partial_round_on_two_tables(monkeypatch):
    gk.line_table(np.zeros((7, 2), dtype=np.uint64), np.zeros((8, 2), dtype=np.uint64))  # numba started
    monkeypatch.setattr(gkr_prover, "PARTIAL_RUN_FROM", 0)
    assert gkr_prover.partial_run_applies(2)


@pytest.mark.parametrize("n", [1, 2, 5, 11])
def test_partial_run_proofs_equal_the_generic_prover(n, every_partial_round_on_two_tables):
    rng = np.random.default_rng(40 + n)  # test data only
    states = rng.integers(0, 2**63, size=(1 << n, 8), dtype=np.uint64)
    layers = gkr_prover.trace(states)
    assert layers.shape == (NUM_ROUNDS + 1, 8, 1 << n)
    assert _proof_bytes(layers, n, fast=True) == _proof_bytes(layers, n, fast=False)
    bank = rng.integers(0, P, size=(BANK, 2), dtype=np.uint64)
    assert _proof_bytes(layers, n, fast=True, bank=bank) == _proof_bytes(layers, n, fast=False, bank=bank)


def _partial_inputs(log_n: int, ext: bool):
    n = 1 << log_n
    lanes = random_base(16 * n).reshape(8, n, 2) if ext else random_base(8 * n).reshape(8, n)
    eqs = random_base(n).reshape(n // 2, 2)
    m = random_base(16).reshape(8, 2)
    return lanes, eqs, m


def _line_reference(lanes, m) -> np.ndarray:
    """sum_{k>=1} m_k A_k on Python ints (base or extension lanes)."""
    n = lanes.shape[1]
    out = np.zeros((n, 2), dtype=np.uint64)
    for i in range(n):
        s0 = s1 = 0
        for k in range(1, 8):
            m0, m1 = int(m[k, 0]), int(m[k, 1])
            a0, a1 = (int(lanes[k, i]), 0) if lanes.ndim == 2 else (int(lanes[k, i, 0]), int(lanes[k, i, 1]))
            s0 += m0 * a0 + 7 * m1 * a1
            s1 += m0 * a1 + m1 * a0
        out[i] = (s0 % P, s1 % P)
    return out


# 2^12 entries: 2048 pairs, the parallel wrappers (SERIAL_PAIRS = 1024)
@pytest.mark.parametrize("log_n", [1, 4, 12])
@pytest.mark.parametrize("ext", [False, True], ids=["base", "extension"])
def test_partial_round_evals_equal_the_eight_lane_kernels(log_n, ext):
    lanes, eqs, m = _partial_inputs(log_n, ext)
    lin = _line_reference(lanes, m)
    a0 = np.ascontiguousarray(lanes[0])
    expected = gk.round_evals(lanes, eqs, m, False)
    assert np.array_equal(gk.partial_round_evals(a0, lin, eqs, m), expected)
    assert np.array_equal(expected, gk.round_evals_points(lanes, eqs, m, False))


@pytest.mark.parametrize("log_n", [0, 3, 9])
def test_line_table_equals_the_combination_on_ints(log_n):
    lanes, _, m = _partial_inputs(max(log_n, 1), False)
    lanes = np.ascontiguousarray(lanes[:, : 1 << log_n])
    m[1] = (P - 1, P - 1)  # the largest weight
    assert np.array_equal(gk.line_table(np.ascontiguousarray(lanes[1:]), m), _line_reference(lanes, m))


@pytest.mark.parametrize("log_n", [1, 5, 10])
def test_lanes_at_equals_folding_one_variable_at_a_time(log_n):
    rng = np.random.default_rng(log_n)  # test data only
    n = 1 << log_n
    rest = random_base(7 * n).reshape(7, n)
    rest[0, :] = P - 1  # the largest entries
    point = [Fp2(int(a), int(b)) for a, b in rng.integers(0, P, size=(log_n, 2), dtype=np.uint64)]
    folded = rest
    for j, r in enumerate(point):
        out = np.empty((7, folded.shape[1] // 2, 2), dtype=np.uint64)
        fold = sk.fold_stack_base if folded.ndim == 2 else sk.fold_stack_ext
        fold(folded, np.uint64(r.c0), np.uint64(r.c1), out)
        folded = out
        assert np.array_equal(gk.lanes_at(rest, eq_table(point[: j + 1])), folded)


@pytest.mark.parametrize("ext", [False, True], ids=["base", "extension"])
@pytest.mark.parametrize("full", [True, False], ids=["full-round", "partial-round"])
def test_round_kernels_equal_the_point_form_in_parallel(ext, full):
    lanes, eqs, m = _partial_inputs(12, ext)
    lanes[:, :5] = P - 1  # the largest entries, on both halves' first pairs
    lanes[:, 2048: 2048 + 5] = P - 1
    assert np.array_equal(gk.round_evals(lanes, eqs, m, full), gk.round_evals_points(lanes, eqs, m, full))


@pytest.mark.parametrize("log_n", [1, 12])
@pytest.mark.parametrize("ext", [False, True], ids=["base", "extension"])
def test_lazy_sums_at_the_largest_entries(log_n, ext):
    """Every product at its largest: a = d = e = p - 1 in every coordinate
    (b = a + d = p - 2), so the lazy sums carry past 2^128 at every step."""
    n = 1 << log_n
    shape = (8, n, 2) if ext else (8, n)
    lanes = np.full(shape, P - 1, dtype=np.uint64)
    lanes[:, n // 2:] = P - 2
    eqs = np.full((n // 2, 2), P - 1, dtype=np.uint64)
    m = np.full((8, 2), P - 1, dtype=np.uint64)
    for full in (True, False):
        expected = gk.round_evals_points(lanes, eqs, m, full)
        assert np.array_equal(gk.round_evals(lanes, eqs, m, full), expected)
    lin = _line_reference(lanes, m)
    assert np.array_equal(gk.partial_round_evals(np.ascontiguousarray(lanes[0]), lin, eqs, m),
                          gk.round_evals_points(lanes, eqs, m, False))


def test_three_word_accumulator_carries_exactly():
    """`_acc3` and `_settle` against Python ints, including the one carry a
    kernel run practically never meets: hi words summing to 2^64 - 1 with a
    carry coming up from the low words."""
    import random

    rng = random.Random(5)  # test data only
    top = (1 << 64) - 1
    cases = [(top, top, top, top), (top - 5, 3, 5, 4), (0, top, top, 1), (top, 0, 0, top)]
    cases += [tuple(rng.randrange(1 << 64) for _ in range(4)) for _ in range(200)]
    for hi0, lo0, hi, lo in cases:
        acc = np.zeros((1, 1, 3), dtype=np.uint64)
        acc[0, 0, 0], acc[0, 0, 1], acc[0, 0, 2] = lo0, hi0, 7
        gk._acc3(acc, 0, 0, 0, np.uint64(hi), np.uint64(lo))
        total = (7 << 128) + (hi0 << 64) + lo0 + (hi << 64) + lo
        assert int(acc[0, 0, 0]) + (int(acc[0, 0, 1]) << 64) + (int(acc[0, 0, 2]) << 128) == total
        assert int(gk._settle(acc, 0, 0, 0)) == total % P
    for a, b in [(P - 1, P - 1), (top, top), (1 << 63, 3)] + [(rng.randrange(1 << 64), rng.randrange(1 << 64))
                                                              for _ in range(100)]:
        hi, lo = gk._mul128(np.uint64(a), np.uint64(b))
        assert (int(hi) << 64) + int(lo) == a * b


def test_line_table_and_lanes_at_at_the_largest_entries():
    n = 1 << 9
    rest = np.full((7, n), P - 1, dtype=np.uint64)
    m = np.full((8, 2), P - 1, dtype=np.uint64)
    lanes = np.full((8, n), P - 1, dtype=np.uint64)
    assert np.array_equal(gk.line_table(rest, m), _line_reference(lanes, m))
    weights = np.full((n // 2, 2), P - 1, dtype=np.uint64)  # any table of weights, here the largest
    got = gk.lanes_at(rest, weights)
    want = ((P - 1) * (P - 1) * (n // 2)) % P
    assert got.shape == (7, 2, 2) and (got == want).all()

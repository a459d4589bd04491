"""Sum-check: honest runs on many shapes, fast prover == naive reference, and
the attack catalogue, each attack expecting its specific rejection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.errors import MalformedProof
from zkaudit.field import Fp2, vec
from zkaudit.sumcheck import (
    ClaimMismatch,
    FinalEvaluationMismatch,
    ProofShapeError,
    RoundSumMismatch,
    SumcheckProof,
    SumOfProducts,
)
from zkaudit.sumcheck import prover, reference
from zkaudit.sumcheck.verifier import verify
from zkaudit.transcript import Transcript


def _transcript(tag: str = "sumcheck-test") -> Transcript:
    t = Transcript()
    t.absorb_statement(tag, 1, digests={"case": b"\x00" * 32})
    return t


SPECS = {
    "prod2": SumOfProducts.product(2),
    "prod2-coeff-swapped": SumOfProducts.of(2, [(Fp2(3, 9), (1, 0))]),
    "square": SumOfProducts.of(2, [(1, (0, 0))]),
    "prod3+linear": SumOfProducts.of(3, [(5, (0, 1, 2)), (Fp2(3, 4), (0,)), (1, (2, 2))]),
    "deg8": SumOfProducts.of(2, [(1, (0, 1, 0, 1, 0, 1, 0, 1)), (7, (1,))]),
}


def _tables(name: str, num_vars: int, kinds: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    spec = SPECS[name]
    out = []
    for i in range(spec.num_tables):
        ext = kinds == "ext" or (kinds == "mixed" and i % 2 == 1)
        out.append(vec.ext_random(1 << num_vars, rng) if ext else vec.random(1 << num_vars, rng))
    return spec, out


def _prove(tables, spec, impl=prover, **kw):
    proof, claim, s = impl.prove(tables, spec, _transcript(), **kw)
    return proof, claim, s


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("kinds", ["base", "ext", "mixed"])
@pytest.mark.parametrize("num_vars", [0, 1, 5])
def test_honest_and_equal_to_reference(name, kinds, num_vars):
    spec, tables = _tables(name, num_vars, kinds)
    proof, claim, s = _prove(tables, spec)
    ref_proof, ref_claim, ref_s = _prove(tables, spec, impl=reference)
    assert proof.to_bytes() == ref_proof.to_bytes() and s == ref_s and claim == ref_claim
    parsed = SumcheckProof.from_bytes(proof.to_bytes())
    got = verify(parsed, s, num_vars, spec, _transcript())
    assert got == claim
    for i, t in enumerate(tables):
        got.check_table(i, t)


def test_larger_tables_fast_paths_verify():
    for name in ("prod2", "prod3+linear"):
        spec, tables = _tables(name, 14, "base", seed=5)
        proof, claim, s = _prove(tables, spec)
        got = verify(proof, s, 14, spec, _transcript())
        for i, t in enumerate(tables):
            got.check_table(i, t)


# ------------------------------------------------------------ attack catalogue

NUM_VARS = 6


@pytest.fixture(scope="module")
def honest():
    spec, tables = _tables("prod3+linear", NUM_VARS, "mixed", seed=11)
    proof, claim, s = _prove(tables, spec)
    return spec, tables, proof, s


def _with_round(proof, i, evals):
    rounds = list(proof.round_evals)
    rounds[i] = tuple(evals)
    return dataclasses.replace(proof, round_evals=tuple(rounds))


def _bump(evals, k):
    evals = list(evals)
    evals[k] = evals[k] + 1
    return evals


def _verify(proof, s, spec, num_vars=NUM_VARS, transcript=None):
    return verify(proof, s, num_vars, spec, transcript or _transcript())


def test_corrupted_first_round_rejected(honest):
    spec, _, proof, s = honest
    with pytest.raises(RoundSumMismatch) as e:
        _verify(_with_round(proof, 0, _bump(proof.round_evals[0], 0)), s, spec)
    assert e.value.round == 0


def test_corrupted_middle_round_detected(honest):
    spec, _, proof, s = honest
    with pytest.raises(RoundSumMismatch) as e:
        _verify(_with_round(proof, 3, _bump(proof.round_evals[3], 1)), s, spec)
    assert e.value.round == 3


def test_corrupted_off_node_evaluation_caught_next_round(honest):
    # Changing g_i(2) keeps g_i(0) + g_i(1) but moves g_i(r_i): round i + 1 fails.
    spec, _, proof, s = honest
    with pytest.raises(RoundSumMismatch) as e:
        _verify(_with_round(proof, 2, _bump(proof.round_evals[2], 2)), s, spec)
    assert e.value.round == 3


def test_corrupted_last_round_caught_by_final_values(honest):
    spec, _, proof, s = honest
    with pytest.raises(FinalEvaluationMismatch):
        _verify(_with_round(proof, NUM_VARS - 1, _bump(proof.round_evals[-1], 3)), s, spec)


def test_wrong_claimed_sum_rejected(honest):
    spec, _, proof, s = honest
    with pytest.raises(RoundSumMismatch) as e:
        _verify(proof, s + 1, spec)
    assert e.value.round == 0


def test_prover_with_wrong_sum_cannot_convince():
    spec, tables = _tables("prod2", NUM_VARS, "base", seed=3)
    proof, _, s = prover.prove(tables, spec, _transcript(), claimed_sum=Fp2(12345))
    with pytest.raises(RoundSumMismatch):
        _verify(proof, s, spec)


def test_swapped_rounds_rejected(honest):
    spec, _, proof, s = honest
    rounds = list(proof.round_evals)
    rounds[1], rounds[2] = rounds[2], rounds[1]
    with pytest.raises(RoundSumMismatch) as e:
        _verify(dataclasses.replace(proof, round_evals=tuple(rounds)), s, spec)
    assert e.value.round == 1


def test_replayed_round_polynomial_rejected(honest):
    spec, _, proof, s = honest
    with pytest.raises(RoundSumMismatch) as e:
        _verify(_with_round(proof, 2, proof.round_evals[1]), s, spec)
    assert e.value.round == 2


def test_truncated_proof_rejected(honest):
    spec, _, proof, s = honest
    short = dataclasses.replace(proof, round_evals=proof.round_evals[:-1])
    with pytest.raises(ProofShapeError):
        _verify(short, s, spec)
    data = proof.to_bytes()
    with pytest.raises(MalformedProof):
        SumcheckProof.from_bytes(data[:-5])


def test_extra_trailing_data_rejected(honest):
    _, _, proof, _ = honest
    with pytest.raises(MalformedProof, match="trailing"):
        SumcheckProof.from_bytes(proof.to_bytes() + b"\x00")


def test_non_canonical_element_rejected(honest):
    _, _, proof, _ = honest
    data = bytearray(proof.to_bytes())
    data[5:13] = (2**64 - 1).to_bytes(8, "little")
    with pytest.raises(MalformedProof, match="non-canonical"):
        SumcheckProof.from_bytes(bytes(data))


def test_wrong_degree_rejected(honest):
    spec, _, proof, s = honest
    padded = dataclasses.replace(proof, round_evals=tuple(r + (Fp2(0),) for r in proof.round_evals))
    with pytest.raises(ProofShapeError, match="degree"):
        _verify(padded, s, spec)
    low = SumOfProducts.of(3, [(5, (0, 1)), (Fp2(3, 4), (0,)), (1, (2, 2))])  # degree 2 claimed
    with pytest.raises(ProofShapeError, match="degree"):
        _verify(proof, s, low)


def test_extra_round_rejected(honest):
    spec, _, proof, s = honest
    longer = dataclasses.replace(proof, round_evals=proof.round_evals + (proof.round_evals[-1],))
    with pytest.raises(ProofShapeError, match="rounds"):
        _verify(longer, s, spec)


def test_transcript_desync_rejected(honest):
    spec, _, proof, s = honest
    with pytest.raises(RoundSumMismatch) as e:
        _verify(proof, s, spec, transcript=_other_statement())
    assert e.value.round == 1  # round 0 holds for any challenge; round 1 sees a different r_0


def _other_statement():
    t = Transcript()
    t.absorb_statement("sumcheck-test", 1, digests={"case": b"\x01" * 32})
    return t


def test_wrong_final_value_rejected(honest):
    spec, _, proof, s = honest
    finals = list(proof.final_values)
    finals[1] = finals[1] + 1
    with pytest.raises(FinalEvaluationMismatch):
        _verify(dataclasses.replace(proof, final_values=tuple(finals)), s, spec)


def test_different_polynomial_same_sum_caught_by_final_claim():
    # g differs from f but has the same hypercube sum: the sum-check itself
    # passes, and the returned claim fails when discharged against f.
    rng = np.random.default_rng(4)
    f = vec.random(1 << NUM_VARS, rng)
    g = f.copy()
    from zkaudit.field import P

    g[0] = np.uint64((int(f[0]) + 5) % P)
    g[1] = np.uint64((int(f[1]) - 5) % P)
    ones = vec.from_ints([1] * (1 << NUM_VARS))
    spec = SumOfProducts.product(2)
    proof, _, s = prover.prove([g, ones], spec, _transcript())
    claim = _verify(proof, s, spec)
    assert s == Fp2(int(vec.sum(f)))
    with pytest.raises(ClaimMismatch):
        claim.check_table(0, f)


def test_masking_hook_takes_a_mask():
    spec, tables = _tables("prod2", 2, "base")
    proof, _, _ = prover.prove(tables, spec, _transcript(), mask=prover.MaskingPolynomial.sample(2, 2))
    assert proof.mask_sum is not None  # a MaskedSumcheckProof (tests/sumcheck/test_masked.py)


# ------------------------------------------- parser: bounded and canonical
# (issue 14: a one-byte change of a round count made the parser allocate
# without end; a zero-round proof's evaluation count was never read)

import struct  # noqa: E402
import tracemalloc  # noqa: E402

from zkaudit.sumcheck.proof import MAX_EVALS, MAX_FINAL_VALUES, MAX_ROUNDS  # noqa: E402


def _zero_round_bytes() -> bytes:
    spec, tables = _tables("prod2", 0, "base")
    proof, _, _ = _prove(tables, spec)
    data = proof.to_bytes()
    assert data[:5] == struct.pack("<IB", 0, 0)
    return data


def test_huge_round_count_with_zero_evals_rejected_without_allocating():
    # The original attack: num_evals = 0 and num_rounds = 2^32 - 1 built
    # billions of empty tuples. Now rejected from the 5-byte header.
    data = bytearray(_zero_round_bytes())
    data[0:4] = (2**32 - 1).to_bytes(4, "little")
    tracemalloc.start()
    try:
        with pytest.raises(MalformedProof, match="more rounds"):
            SumcheckProof.from_bytes(bytes(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_top_byte_of_round_count_flipped_in_a_real_proof(honest):
    _, _, proof, _ = honest
    data = bytearray(proof.to_bytes())
    data[3] ^= 0x80
    with pytest.raises(MalformedProof, match="more rounds"):
        SumcheckProof.from_bytes(bytes(data))


def test_rounds_with_zero_evaluations_rejected():
    data = struct.pack("<IB", 3, 0) + _zero_round_bytes()[5:]
    with pytest.raises(MalformedProof, match="evaluations per round"):
        SumcheckProof.from_bytes(data)


@pytest.mark.parametrize("evals", [1, MAX_EVALS + 1, 255])
def test_evaluation_count_outside_protocol_range_rejected(honest, evals):
    _, _, proof, _ = honest
    data = bytearray(proof.to_bytes())
    data[4] = evals
    with pytest.raises(MalformedProof):
        SumcheckProof.from_bytes(bytes(data))


@pytest.mark.parametrize("byte", [1, 3, 9, 255])
def test_zero_round_proof_evaluation_count_is_not_malleable(byte):
    # Before: 255 other values at this offset parsed and verified.
    data = bytearray(_zero_round_bytes())
    SumcheckProof.from_bytes(bytes(data))
    data[4] = byte
    with pytest.raises(MalformedProof, match="zero-round"):
        SumcheckProof.from_bytes(bytes(data))


def test_every_single_byte_change_of_the_header_is_rejected_or_reencodes_identically(honest):
    spec, _, proof, s = honest
    data = proof.to_bytes()
    for pos in range(5):
        for byte in range(256):
            if byte == data[pos]:
                continue
            mutated = data[:pos] + bytes([byte]) + data[pos + 1 :]
            try:
                parsed = SumcheckProof.from_bytes(mutated)
            except MalformedProof:
                continue
            # Anything that parses must be its own canonical encoding.
            assert parsed.to_bytes() == mutated


def test_zero_or_huge_final_value_count_rejected(honest):
    _, _, proof, _ = honest
    data = proof.to_bytes()
    head = 5 + NUM_VARS * 4 * 16
    for count in (0, MAX_FINAL_VALUES + 1, 2**32 - 1):
        bad = data[:head] + struct.pack("<I", count) + data[head + 4 :]
        with pytest.raises(MalformedProof, match="final value count"):
            SumcheckProof.from_bytes(bad)


def test_round_count_above_protocol_maximum_rejected():
    data = struct.pack("<IB", MAX_ROUNDS + 1, 3) + b"\x00" * 16 * 3 * (MAX_ROUNDS + 1) + struct.pack("<I", 1) + b"\0" * 16
    with pytest.raises(MalformedProof, match="more rounds"):
        SumcheckProof.from_bytes(data)


def test_expected_shape_enforced_before_reading(honest):
    _, _, proof, _ = honest
    data = proof.to_bytes()
    SumcheckProof.read(data, 0, num_rounds=NUM_VARS, num_evals=4, num_tables=3)
    for kw in ({"num_rounds": NUM_VARS - 1}, {"num_evals": 3}, {"num_tables": 2}):
        with pytest.raises(MalformedProof, match="wrong"):
            SumcheckProof.read(data, 0, **kw)


def test_combine_on_ints_equals_the_field_reference():
    """SumOfProducts.combine's plain-int path against combine_reference:
    repeated tables, base and extension coefficients, edge values; Fp and
    Hidden values take the reference."""
    from zkaudit.field import Fp
    from zkaudit.field.constants import P
    from zkaudit.field.hidden import Hidden
    from zkaudit.field.randomness import random_fp2s

    spec = SumOfProducts.of(4, [(1, (0, 1)), (P - 3, (0, 0, 2)), (Fp2(5, 9), (3,)), (Fp(7), (1, 2, 3, 3))])
    for values in (random_fp2s(4), [Fp2(0), Fp2(1), Fp2(P - 1, P - 1), Fp2(0, P - 1)], [Fp2(P - 1)] * 4):
        assert spec.combine(values) == spec.combine_reference(values)
    with pytest.raises(TypeError):  # mixing the fields is an error on both paths
        spec.combine([Fp2(3), Fp(4), Fp2(5, 6), Fp2(7)])
    hidden = [Hidden(Fp2(2), [(("advice", 0), Fp2(1))]), Fp2(1), Fp2(1), Fp2(1)]
    with pytest.raises(TypeError):  # a product of two Hidden values is not linear
        spec.combine(hidden)

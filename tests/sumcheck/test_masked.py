"""Libra-masked sum-check: honest runs (fast prover == brute-force
reference), the attack catalogue under masking, and the zero-knowledge
certificates of zero-knowledge.md §9: the exact mask-rank test with fixed
challenges, a simulator, and the round-polynomial leakage attack that works
on the unmasked sum-check and fails on the masked one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gfp_linalg import affine_map, apply, flatten, in_column_span, kernel_vector, rank

from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp
from zkaudit.poly import evaluate
from zkaudit.poly.mle import eq_table, point_array
from zkaudit.sumcheck import (
    FinalEvaluationMismatch,
    MaskBank,
    MaskedSumcheckProof,
    MaskingPolynomial,
    ProofShapeError,
    RoundSumMismatch,
    SumOfProducts,
)
from zkaudit.sumcheck import prover, reference
from zkaudit.sumcheck.verifier import verify, verify_masked
from zkaudit.transcript import Transcript


def _transcript(tag: str = "masked-sumcheck-test") -> Transcript:
    t = Transcript()
    t.absorb_statement(tag, 1, digests={"mask-commitment": b"\x07" * 32})
    return t


SPECS = {
    "prod2": SumOfProducts.product(2),
    "prod3+linear": SumOfProducts.of(3, [(5, (0, 1, 2)), (Fp2(3, 4), (0,)), (1, (2, 2))]),
}


def _case(name, num_vars, seed=0, kinds="base"):
    rng = np.random.default_rng(seed)
    spec = SPECS[name]
    ext = kinds == "ext"
    tables = [vec.ext_random(1 << num_vars, rng) if ext else vec.random(1 << num_vars, rng)
              for _ in range(spec.num_tables)]
    return spec, tables


def _words_value(weights, words) -> Fp2:
    acc = Fp2(0)
    for w, x in zip(weights, words):
        acc = acc + w * Fp2(int(x))
    return acc


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("num_vars", [0, 1, 3, 6])
@pytest.mark.parametrize("kinds", ["base", "ext"])
def test_honest_masked_run_verifies_and_equals_reference(name, num_vars, kinds):
    spec, tables = _case(name, num_vars, kinds=kinds)
    g = MaskingPolynomial.sample(num_vars, spec.degree)
    proof, (claim, mclaim), s = prover.prove(tables, spec, _transcript(), mask=g)
    if num_vars <= 3:
        ref, _, ref_s = reference.prove(tables, spec, _transcript(), mask=g)
        assert ref.to_bytes() == proof.to_bytes() and ref_s == s
    parsed = MaskedSumcheckProof.from_bytes(proof.to_bytes())
    got, mask_claim = verify_masked(parsed, s, num_vars, spec, _transcript())
    assert got == claim and mask_claim == mclaim
    for i, t in enumerate(tables):
        got.check_table(i, t)
    # The mask claim is a linear function of the committed words.
    assert _words_value(mask_claim.weights(), g.table_words()) == g.evaluate(mask_claim.point) == mask_claim.value


def test_large_masked_run_uses_the_fast_paths():
    spec, tables = _case("prod2", 14, seed=3)
    g = MaskingPolynomial.sample(14, 2)
    proof, _, s = prover.prove(tables, spec, _transcript(), mask=g)
    verify_masked(proof, s, 14, spec, _transcript())


def test_mask_of_the_wrong_shape_refused():
    spec, tables = _case("prod2", 3)
    for g in (MaskingPolynomial.sample(2, 2), MaskingPolynomial.sample(3, 3)):
        with pytest.raises(ValueError, match="mask"):
            prover.prove(tables, spec, _transcript(), mask=g)


# ------------------------------------------------------- attacks, masked

NV = 5


@pytest.fixture(scope="module")
def honest():
    spec, tables = _case("prod3+linear", NV, seed=9)
    g = MaskingPolynomial.sample(NV, spec.degree)
    proof, (claim, mclaim), s = prover.prove(tables, spec, _transcript(), mask=g)
    return spec, tables, g, proof, s


def _inner(proof, **kw):
    return dataclasses.replace(proof, inner=dataclasses.replace(proof.inner, **kw))


def test_wrong_claimed_sum_rejected_under_masking(honest):
    spec, _, _, proof, s = honest
    with pytest.raises(RoundSumMismatch):
        verify_masked(proof, s + 1, NV, spec, _transcript())


def test_lying_mask_sum_rejected(honest):
    # Shifting G shifts the opening claim by rho * delta; rho is drawn after G.
    spec, _, _, proof, s = honest
    with pytest.raises(RoundSumMismatch):
        verify_masked(dataclasses.replace(proof, mask_sum=proof.mask_sum + 1), s, NV, spec, _transcript())


def test_lying_mask_value_rejected(honest):
    spec, _, _, proof, s = honest
    with pytest.raises(FinalEvaluationMismatch):
        verify_masked(dataclasses.replace(proof, mask_value=proof.mask_value + 1), s, NV, spec, _transcript())


def test_mask_value_consistent_lie_caught_by_the_mask_claim(honest):
    """A prover that lies about f's final values and balances the final check
    with g(r) passes the sum-check but leaves a mask claim the committed
    mask contradicts."""
    spec, _, g, proof, s = honest
    finals = list(proof.inner.final_values)
    finals[1] = finals[1] + 1
    delta = spec.combine(finals) - spec.combine(proof.inner.final_values)
    # rho as the verifier draws it: replay the transcript up to rho.
    t = _transcript()
    from zkaudit.sumcheck.protocol import LABEL_MASK_RHO, LABEL_MASK_SUM, absorb_header

    absorb_header(t, spec, NV, s)
    t.absorb_ext(LABEL_MASK_SUM, proof.mask_sum)
    rho = t.challenge_ext(LABEL_MASK_RHO)
    forged = dataclasses.replace(_inner(proof, final_values=tuple(finals)),
                                 mask_value=proof.mask_value - delta * rho.inverse())
    _, mclaim = verify_masked(forged, s, NV, spec, _transcript())
    assert _words_value(mclaim.weights(), g.table_words()) != mclaim.value


def test_corrupted_round_rejected_under_masking(honest):
    spec, _, _, proof, s = honest
    rounds = list(proof.inner.round_evals)
    rounds[2] = (rounds[2][0] + 1,) + rounds[2][1:]
    with pytest.raises(RoundSumMismatch):
        verify_masked(_inner(proof, round_evals=tuple(rounds)), s, NV, spec, _transcript())


def test_unmasked_proof_is_not_a_masked_proof(honest):
    spec, tables, _, _, s = honest
    plain, _, _ = prover.prove(tables, spec, _transcript())
    with pytest.raises(ProofShapeError):
        verify_masked(plain, s, NV, spec, _transcript())


def test_masked_proof_shape_checked(honest):
    spec, _, _, proof, s = honest
    with pytest.raises(ProofShapeError):
        verify_masked(_inner(proof, round_evals=proof.inner.round_evals[:-1]), s, NV, spec, _transcript())


def test_masked_proof_parse_is_strict(honest):
    _, _, _, proof, _ = honest
    raw = proof.to_bytes()
    from zkaudit.errors import MalformedProof

    for bad in (raw[:-1], raw + b"\0", raw[:10]):
        with pytest.raises(MalformedProof):
            MaskedSumcheckProof.from_bytes(bad)


def test_two_masked_proofs_of_the_same_statement_differ_in_every_masked_element(honest):
    spec, tables, _, proof, s = honest
    other, _, _ = prover.prove(tables, spec, _transcript(), mask=MaskingPolynomial.sample(NV, spec.degree))
    assert other.mask_sum != proof.mask_sum and other.mask_value != proof.mask_value
    for a, b in zip(other.inner.round_evals, proof.inner.round_evals):
        assert all(x != y for x, y in zip(a, b))


def test_mask_bank_lays_masks_end_to_end():
    bank = MaskBank.sample([(3, 2), (0, 2), (5, 3)])
    table = bank.table()
    offsets = bank.offsets()
    assert offsets == [0, 14, 16] and table.shape[0] == 64
    for g, off in zip(bank.masks, offsets):
        words = g.table_words()
        assert np.array_equal(table[off : off + words.shape[0]], words)


# ------------------------------------------------ zero-knowledge certificates


class FixedChallenges(Transcript):
    """Honest-verifier analysis: the verifier's coins fixed in advance
    (absorbs still happen; only the challenge values are pinned)."""

    def __init__(self, challenges):
        super().__init__()
        self.absorb_statement("zk-rank", 1, digests={"c": b"\0" * 32})
        self._fixed = list(challenges)

    def challenge_ext(self, label):
        super().challenge_ext(label)
        return self._fixed.pop(0)


N_RANK, SPEC_RANK = 3, SumOfProducts.product(2)
CHALLENGES = [Fp2(11, 5), Fp2(3, 17), Fp2(101, 2), Fp2(7, 999)]  # rho, r_1, r_2, r_3


def _revealed(tables, mask_elems) -> list[int]:
    g = MaskingPolynomial.from_elements(mask_elems, N_RANK, 2)
    proof, _, s = prover.prove(tables, SPEC_RANK, FixedChallenges(CHALLENGES), mask=g)
    out = [proof.mask_sum] + [e for r in proof.inner.round_evals for e in r] + [proof.mask_value]
    return flatten(out + list(proof.inner.final_values))


def _as_mask(rho: list[int]) -> list[Fp2]:
    return [Fp2(rho[2 * i], rho[2 * i + 1]) for i in range(len(rho) // 2)]


def _two_witnesses():
    """(f, g) and (f + Delta, g) with the same sum and the same f~(r), g~(r):
    the same public statement and the same claims left to the caller."""
    rng = np.random.default_rng(5)
    f, g = vec.random(8, rng), vec.random(8, rng)
    r = CHALLENGES[1:]
    eq = eq_table(point_array(r))  # (8, 2)
    rows = [[int(x) for x in g], [int(e[0]) for e in eq], [int(e[1]) for e in eq]]
    delta = kernel_vector(rows, 8, pick=12345)
    f2 = np.array([(int(a) + d) % P for a, d in zip(f, delta)], dtype=np.uint64)
    assert evaluate(f2, r) == evaluate(f, r) and sum(int(x) * int(y) for x, y in zip(f2, g)) % P == \
        sum(int(x) * int(y) for x, y in zip(f, g)) % P
    assert not np.array_equal(f, f2)
    return [f, g], [f2, g]


def test_every_revealed_element_is_affine_in_the_mask_and_full_rank():
    w, _ = _two_witnesses()
    num_rand = 2 * (N_RANK * 2 + 1)
    a, cols = affine_map(lambda rho: _revealed(w, _as_mask(rho)), num_rand)
    rho = [int(x) for x in vec.random(num_rand, np.random.default_rng(1))]
    assert _revealed(w, _as_mask(rho)) == apply(a, cols, rho)  # affine, exactly
    # Free coordinates of the transcript: G, n (d + 1) round values, g(r),
    # minus n round-sum checks and the final check: 2 (n d + 1) base
    # coordinates, exactly the mask's. Full rank: uniform on that space.
    assert rank([list(c) for c in cols]) == num_rand


def test_transcript_difference_of_two_witnesses_lies_in_the_mask_span():
    w1, w2 = _two_witnesses()
    num_rand = 2 * (N_RANK * 2 + 1)
    a1, cols = affine_map(lambda rho: _revealed(w1, _as_mask(rho)), num_rand)
    a2 = _revealed(w2, [Fp2(0)] * (num_rand // 2))
    diff = [(x - y) % P for x, y in zip(a1, a2)]
    assert any(diff)  # the unmasked transcripts differ: they leak
    assert in_column_span(cols, diff)


def test_rank_test_fails_with_masks_zeroed():
    """The Virgo dead-mask bug: a 'masked' prover whose masks are zero passes
    every completeness and soundness test; only this kind of test sees it."""
    w1, w2 = _two_witnesses()
    zero = [Fp2(0)] * (N_RANK * 2 + 1)
    diff = [(x - y) % P for x, y in zip(_revealed(w1, zero), _revealed(w2, zero))]
    dead_cols = [[0] * len(diff)]
    assert not in_column_span(dead_cols, diff)


def simulate(spec, num_vars, claimed_sum, finals, transcript):
    """The HVZK simulator: an accepting masked proof for `claimed_sum` given
    only the public claim and the final values the caller is left with (no
    tables). It samples its own mask sum and round polynomials uniformly
    subject to the verifier's checks and solves the last check for g(r); the
    mask claim it leaves is discharged by the (simulated) hiding opening."""
    from zkaudit.field.randomness import random_fp2s
    from zkaudit.poly.univariate import evaluate_from_evals
    from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_MASK_RHO, LABEL_MASK_SUM, \
        LABEL_MASK_VALUE, LABEL_ROUND, absorb_header
    from zkaudit.sumcheck.proof import SumcheckProof

    absorb_header(transcript, spec, num_vars, claimed_sum)
    (mask_sum,) = random_fp2s(1)
    transcript.absorb_ext(LABEL_MASK_SUM, mask_sum)
    rho = transcript.challenge_ext(LABEL_MASK_RHO)
    claim = claimed_sum + rho * mask_sum
    rounds = []
    for _ in range(num_vars):
        tail = random_fp2s(spec.degree)  # s(1..d) uniform, s(0) forced by the sum check
        evals = [claim - tail[0]] + tail
        rounds.append(tuple(evals))
        transcript.absorb_exts(LABEL_ROUND, evals)
        claim = evaluate_from_evals(evals, transcript.challenge_ext(LABEL_CHALLENGE))
    mask_value = (claim - spec.combine(finals)) * rho.inverse()
    transcript.absorb_exts(LABEL_FINAL, finals)
    transcript.absorb_ext(LABEL_MASK_VALUE, mask_value)
    return MaskedSumcheckProof(mask_sum, SumcheckProof(tuple(rounds), tuple(finals)), mask_value)


def test_simulator_produces_accepting_transcripts_without_the_witness():
    spec = SPECS["prod3+linear"]
    for _ in range(20):
        s = Fp2(int(vec.random(1, np.random.default_rng())[0]))
        finals = tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(3, np.random.default_rng()))
        sim = simulate(spec, 4, s, finals, _transcript())
        claim, mclaim = verify_masked(MaskedSumcheckProof.from_bytes(sim.to_bytes()), s, 4, spec, _transcript())
        assert claim.values == finals and mclaim.value == sim.mask_value


def test_simulated_and_real_round_values_pass_the_same_uniformity_test():
    """Statistical side of §9.3 (the exact side is the rank test): the top
    three bits of each revealed coordinate, over many runs, are uniform for
    real and simulated proofs alike (chi-square, 7 degrees of freedom;
    the threshold 35 is exceeded by a uniform sample with probability < 1e-5)."""
    spec, tables = _case("prod2", 3, seed=2)
    _, claim, s = prover.prove(tables, spec, _transcript())
    runs = 400

    def chi2(samples):
        counts = np.bincount(np.array(samples, dtype=np.uint64) >> np.uint64(61), minlength=8).astype(float)
        return float(((counts - len(samples) / 8) ** 2 / (len(samples) / 8)).sum())

    real, sim = [], []
    for _ in range(runs):
        g = MaskingPolynomial.sample(3, 2)
        proof, _, _ = prover.prove(tables, spec, _transcript(), mask=g)
        real += [e.c0 for r in proof.inner.round_evals for e in r[1:]] + [proof.mask_value.c0]
        fake = simulate(spec, 3, s, claim.values, _transcript())
        sim += [e.c0 for r in fake.inner.round_evals for e in r[1:]] + [fake.mask_value.c0]
    assert chi2(real) < 35 and chi2(sim) < 35


def _half_sum_attack(proof_rounds) -> Fp2:
    """Leakage attack (c): in the sum-check of sum_x f(x) * 1(x), round 1's
    s(0) is the sum of f over the first half of the cube: read it off."""
    return proof_rounds[0][0]


def test_round_polynomial_leak_works_unmasked_and_fails_masked():
    rng = np.random.default_rng(8)
    f = vec.random(1 << 6, rng)
    ones = vec.from_ints([1] * (1 << 6))
    secret = Fp2(int(sum(int(x) for x in f[: 1 << 5]) % P))
    spec = SumOfProducts.product(2)
    plain, _, _ = prover.prove([f, ones], spec, _transcript())
    assert _half_sum_attack(plain.round_evals) == secret  # unmasked: the half-sum leaks
    masked, _, s = prover.prove([f, ones], spec, _transcript(), mask=MaskingPolynomial.sample(6, 2))
    assert _half_sum_attack(masked.inner.round_evals) != secret
    verify_masked(masked, s, 6, spec, _transcript())
    # Not even the unmasked part: the masked round's value minus any fixed
    # guess is uniform -- two runs disagree.
    again, _, _ = prover.prove([f, ones], spec, _transcript(), mask=MaskingPolynomial.sample(6, 2))
    assert again.inner.round_evals[0][0] != masked.inner.round_evals[0][0]


def test_unmasked_verify_still_accepts_unmasked_proofs(honest):
    spec, tables, _, _, s = honest
    plain, _, _ = prover.prove(tables, spec, _transcript())
    verify(plain, s, NV, spec, _transcript())
    assert isinstance(Fp(1), Fp)

"""Naive sum-check prover: the same signature and transcript choreography as
`prover.prove`, with every round polynomial computed by brute force over
Python field scalars. Slow (tests use it up to ~2^8 entries); its proofs
must equal the fast prover's byte for byte."""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts
from zkaudit.sumcheck.mask import MaskClaim
from zkaudit.sumcheck.proof import MaskedSumcheckProof, SumcheckProof
from zkaudit.sumcheck.protocol import (
    LABEL_CHALLENGE,
    LABEL_FINAL,
    LABEL_MASK_RHO,
    LABEL_MASK_SUM,
    LABEL_MASK_VALUE,
    LABEL_ROUND,
    absorb_header,
)
from zkaudit.transcript import Transcript


def _scalars(table) -> list[Fp2]:
    if table.ndim == 1:
        return [Fp2(int(v)) for v in table]
    return [Fp2(int(a), int(b)) for a, b in table]


def _cube(n: int):
    for x in range(1 << n):
        yield [Fp2((x >> (n - 1 - i)) & 1) for i in range(n)]


def prove(tables, spec: SumOfProducts, transcript: Transcript, *, claimed_sum=None, mask=None):
    """Masked runs sum the mask g by brute force over the cube as well."""
    tabs = [_scalars(t) for t in tables]
    size = len(tabs[0])
    num_vars = size.bit_length() - 1
    if claimed_sum is None:
        claimed_sum = sum((spec.combine([t[x] for t in tabs]) for x in range(size)), Fp2(0))
    absorb_header(transcript, spec, num_vars, claimed_sum)
    rho = Fp2(0)
    if mask is not None:
        mask_sum = sum((mask.evaluate(x) for x in _cube(num_vars)), Fp2(0))
        transcript.absorb_ext(LABEL_MASK_SUM, mask_sum)
        rho = transcript.challenge_ext(LABEL_MASK_RHO)
    rounds, point = [], []
    for rnd in range(num_vars):
        half = len(tabs[0]) // 2
        evals = []
        for t in range(spec.degree + 1):
            total = Fp2(0)
            for x in range(half):
                total = total + spec.combine([tab[x] + (tab[x + half] - tab[x]) * t for tab in tabs])
            if mask is not None:
                for rest in _cube(num_vars - rnd - 1):
                    total = total + rho * mask.evaluate(point + [Fp2(t)] + rest)
            evals.append(total)
        rounds.append(tuple(evals))
        transcript.absorb_exts(LABEL_ROUND, evals)
        r = transcript.challenge_ext(LABEL_CHALLENGE)
        point.append(r)
        tabs = [[tab[x] + r * (tab[x + half] - tab[x]) for x in range(half)] for tab in tabs]
    finals = tuple(t[0] for t in tabs)
    transcript.absorb_exts(LABEL_FINAL, finals)
    inner, evaluation = SumcheckProof(tuple(rounds), finals), EvaluationClaim(tuple(point), finals)
    if mask is None:
        return inner, evaluation, claimed_sum
    value = mask.evaluate(point)
    transcript.absorb_ext(LABEL_MASK_VALUE, value)
    return (MaskedSumcheckProof(mask_sum, inner, value), (evaluation, MaskClaim(tuple(point), value, mask.degree)),
            claimed_sum)

"""Naive sum-check prover: the same signature and transcript choreography as
`prover.prove`, with every round polynomial computed by brute force over
Python field scalars. Slow (tests use it up to ~2^8 entries); its proofs
must equal the fast prover's byte for byte."""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_ROUND, absorb_header
from zkaudit.transcript import Transcript


def _scalars(table) -> list[Fp2]:
    if table.ndim == 1:
        return [Fp2(int(v)) for v in table]
    return [Fp2(int(a), int(b)) for a, b in table]


def prove(tables, spec: SumOfProducts, transcript: Transcript, *, claimed_sum=None, mask=None):
    if mask is not None:
        raise NotImplementedError("zero-knowledge masking of sum-check is not built yet")
    tabs = [_scalars(t) for t in tables]
    size = len(tabs[0])
    num_vars = size.bit_length() - 1
    if claimed_sum is None:
        claimed_sum = sum((spec.combine([t[x] for t in tabs]) for x in range(size)), Fp2(0))
    absorb_header(transcript, spec, num_vars, claimed_sum)
    rounds, point = [], []
    for _ in range(num_vars):
        half = len(tabs[0]) // 2
        evals = []
        for t in range(spec.degree + 1):
            total = Fp2(0)
            for x in range(half):
                total = total + spec.combine([tab[x] + (tab[x + half] - tab[x]) * t for tab in tabs])
            evals.append(total)
        rounds.append(tuple(evals))
        transcript.absorb_exts(LABEL_ROUND, evals)
        r = transcript.challenge_ext(LABEL_CHALLENGE)
        point.append(r)
        tabs = [[tab[x] + r * (tab[x + half] - tab[x]) for x in range(half)] for tab in tabs]
    finals = tuple(t[0] for t in tabs)
    transcript.absorb_exts(LABEL_FINAL, finals)
    return SumcheckProof(tuple(rounds), finals), EvaluationClaim(tuple(point), finals), claimed_sum

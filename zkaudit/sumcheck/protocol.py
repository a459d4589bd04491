"""What prover and verifier share: transcript labels, the header both absorb,
and the soundness of one sum-check."""

from __future__ import annotations

import math

from zkaudit.field.constants import EXT_BITS
from zkaudit.field.scalar import Fp2
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.transcript import Transcript

LABEL_SPEC = b"sumcheck/spec"
LABEL_CLAIM = b"sumcheck/claimed-sum"
LABEL_ROUND = b"sumcheck/round"
LABEL_CHALLENGE = b"sumcheck/challenge"
LABEL_FINAL = b"sumcheck/final-values"
LABEL_MASK_SUM = b"sumcheck/mask-sum"
LABEL_MASK_RHO = b"sumcheck/mask-rho"
LABEL_MASK_VALUE = b"sumcheck/mask-value"


def soundness_bits(num_vars: int, degree: int) -> float:
    """-log2 of the soundness error n d / p^2."""
    if num_vars == 0:
        return math.inf
    return EXT_BITS - math.log2(num_vars * degree)


def absorb_header(transcript: Transcript, spec: SumOfProducts, num_vars: int, claimed_sum: Fp2) -> None:
    """Shared by prover and verifier: binds the polynomial shape and the claim."""
    transcript.absorb_bytes(LABEL_SPEC, spec.to_bytes() + num_vars.to_bytes(4, "little"))
    transcript.absorb_ext(LABEL_CLAIM, claimed_sum)

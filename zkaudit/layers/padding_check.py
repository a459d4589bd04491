"""A zero-check that an advice tensor is zero on its padding, for layers
whose other relations do not see the padding (a lookup reads only the real
rows): GatherRows' output, PointerWalk's levels. With ind(x) the MLE of the
real-cell indicator of the tensor's shape,

    sum_x eq(r, x) (1 - ind(x)) V(x) = 0,

a degree-3 sum-check to a point s for a challenge point r; eq and ind the
verifier evaluates itself, V~(s) is left as a claim on the advice.
Soundness n / p^2 for r and 3 n / p^2 for the rounds. In a zero-knowledge
run the sum-check is masked (the transcript's session). The prover side is
`padding_check_prover.py`."""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.layers.tensor import num_vars, real_indicator
from zkaudit.poly.mle import eq_eval
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.errors import FinalEvaluationMismatch

EQ, IND, VALUE = 0, 1, 2
# eq(r, x) V(x) - eq(r, x) ind(x) V(x)
PADDING = SumOfProducts.of(3, [(1, (EQ, VALUE)), (-1, (EQ, IND, VALUE))])


def verify(proof, shape: tuple[int, ...], label: bytes, where: str, transcript) -> tuple[tuple, object]:
    """Check the zero-check of a tensor of `shape`; returns (s, V~(s)), the
    claim the caller hands to the advice opening."""
    n = num_vars(shape)
    r = transcript.challenge_exts(label, n)  # zero-check point: n / p^2
    reduced = sumcheck_verifier.verify(proof, Fp2(0), n, PADDING, transcript, where=f"{where} padding",
                                       public=(EQ, IND))
    s = tuple(reduced.point)
    for what, got, want in (("eq", reduced.values[EQ], eq_eval(r, s)),
                            ("indicator", reduced.values[IND], real_indicator(shape, s))):
        if got != want:
            raise FinalEvaluationMismatch(f"padding zero-check: the {what} value is not the public one",
                                          where=f"{where} padding", expected=want, got=got)
    return s, reduced.values[VALUE]

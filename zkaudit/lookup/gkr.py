"""Fractional-sum GKR, prover side: build the tree, then reduce the root claim
to a claim on the leaves layer by layer (the protocol is stated in
`protocol.py`; the checks are in `verifier.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp2
from zkaudit.lookup import kernels
from zkaudit.lookup.protocol import LABEL_LAMBDA, LABEL_MERGE, LABEL_ROOT, PL, PR, QL, QR, layer_spec
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

U64 = np.uint64


def build_layers(p: np.ndarray, q: np.ndarray, layer_up=kernels.layer_up) -> list[tuple[np.ndarray, np.ndarray]]:
    """layers[k] = (p_k, q_k) with 2^k fractions; layers[-1] is the leaves."""
    layers = [(p, q)]
    while layers[-1][0].shape[0] > 1:
        p, q = layers[-1]
        h = p.shape[0] // 2
        po, qo = np.empty((h, 2), dtype=U64), np.empty((h, 2), dtype=U64)
        layer_up(p, q, po, qo)
        layers.append((po, qo))
    layers.reverse()
    return layers


def _ext(a: np.ndarray) -> Fp2:
    return Fp2(int(a[0]), int(a[1]))


def prove(layers, transcript: Transcript):
    """Returns (root, layer proofs, leaf point, (p~, q~) at the leaf point)."""
    p0, q0 = _ext(layers[0][0][0]), _ext(layers[0][1][0])
    transcript.absorb_exts(LABEL_ROOT, [p0, q0])
    point: tuple[Fp2, ...] = ()
    vp, vq = p0, q0
    proofs: list[SumcheckProof] = []
    for k in range(1, len(layers)):
        lam = transcript.challenge_ext(LABEL_LAMBDA)  # batches the p and q claims: 1/p^2
        p, q = layers[k]
        h = p.shape[0] // 2
        eq = eq_table(point) if point else np.array([[1, 0]], dtype=U64)
        tables = [eq, p[:h], p[h:], q[:h], q[h:]]
        proof, claim, _ = sumcheck_prover.prove(tables, layer_spec(lam), transcript, claimed_sum=vp + lam * vq)
        proofs.append(proof)
        c = transcript.challenge_ext(LABEL_MERGE)  # line through L and R (degree 1): 1/p^2
        v = claim.values
        vp = v[PL] + c * (v[PR] - v[PL])
        vq = v[QL] + c * (v[QR] - v[QL])
        point = (c,) + tuple(claim.point)
    return (p0, q0), tuple(proofs), point, (vp, vq)

"""A one-entry advice table's claims (inference protocol 11, `zk.discharge`):
the first is proven by the advice opening, each later one only by a
deferred equality with the first. Here: each scalar table is opened once,
and a wrong later (or first) claim is rejected by the advice opening. The
tampering is on the verifier's side only, so these tests do not tell the
deferred equality from the opening itself; the prover-and-verifier
forgeries and the mutant check that does (the equalities dropped, the
forgery accepted) are in tests/review/test_review_0712_scalar_soundness.py."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.statements.inference import zk as izk
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "adversarial"))
from small_circuits import _rq, chain  # noqa: E402


@pytest.fixture(scope="module")
def scalar_model():
    """A score: a (1, 4) record times a (4, 1) weight column, requantized to
    one int8 value, so the requantization's advice tensors hold one entry."""
    x = TensorSpec("x", (1, 4), -128, 127, 0.1, 0)
    w = TensorSpec("w", (4, 1), -127, 127)
    nodes = [Node.make("mm", "MatMul", ["x", "w"], "acc", a_zero_point=0, b_zero_point=0),
             _rq("rq", "acc", "y", channels=1)]
    circuit = chain("score", [x], [w], nodes, ["y"])
    weights = Weights({"w": np.array([[3], [-7], [11], [-2]])})
    record = {"x": np.array([[5, -9, 100, 17]])}
    com = commit_weights(circuit, weights)[0].to_bytes()
    proof = prove(circuit, weights, record, weight_commitment=com)
    return circuit, weights, com, proof


def _verify(model):
    circuit, _, com, proof = model
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


def _scalar_claims(claims, advice_names) -> dict[str, list]:
    return {name: cl for name, cl in claims.items() if name in advice_names and any(not len(c.point) for c in cl)}


def test_an_honest_proof_opens_one_claim_per_scalar_table(scalar_model, monkeypatch):
    seen = {}
    real = izk.discharge

    def spy(circuit, body, claims, advice_names, transcript, weight_value, **kw):
        scalars = _scalar_claims(claims, set(advice_names))
        seen["scalar_claims"] = sum(len(cl) for cl in scalars.values())
        seen["scalar_tables"] = len(scalars)
        out, used = real(circuit, body, claims, advice_names, transcript, weight_value, **kw)
        seen["opened"] = sum(1 for c in out["advice"] for t, z, _ in c.evals if not len(z))
        return out, used

    monkeypatch.setattr(izk, "discharge", spy)
    verdict = _verify(scalar_model)
    assert verdict.valid, verdict.reason
    # the circuit has one-entry tables claimed more than once, and each is opened exactly once
    assert seen["scalar_claims"] > seen["scalar_tables"] >= 1
    assert seen["opened"] == seen["scalar_tables"]


@pytest.mark.parametrize("which", ["later", "first"])
def test_a_wrong_claim_on_a_scalar_table_is_rejected(scalar_model, monkeypatch, which):
    """Shift the public part of one claim on a one-entry table before the
    verifier discharges it (what a prover that slipped a false value past
    a layer would leave): the proof must fail."""
    real = izk.discharge
    hit = []

    def tampered(circuit, body, claims, advice_names, transcript, weight_value, **kw):
        scalars = _scalar_claims(claims, set(advice_names))
        name, cl = next((n, cl) for n, cl in sorted(scalars.items()) if len(cl) >= 2)
        i = 0 if which == "first" else len(cl) - 1
        c = cl[i]
        cl[i] = type(c)(c.tensor, c.point, Hidden.of(c.value) + Fp2(1))
        hit.append(name)
        return real(circuit, body, claims, advice_names, transcript, weight_value, **kw)

    monkeypatch.setattr(izk, "discharge", tampered)
    verdict = _verify(scalar_model)
    assert hit, "no scalar table with two claims: the test exercises nothing"
    assert not verdict.valid
    # caught by the advice opening: the first claim directly, a later one through the bank claim its
    # deferred equality folds into
    assert verdict.reason.startswith("[pcs/hiding]"), verdict.reason

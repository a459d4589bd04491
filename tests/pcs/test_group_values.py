"""The hiding opening's per-row-group values (`hiding_verifier._group_values`,
numpy) equal the term-by-term reference on real openings: a zero-knowledge
inference proof (weighted bank entries, eq terms, lone and grouped terms)
with a hashed weight commitment (dense bank blocks)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zkaudit.circuit import encode_circuit
from zkaudit.pcs import hiding_verifier as hv
from zkaudit.statements.inference.commitment import hashed_weight_commitment
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
from small_circuits import instance, mlp_clip  # noqa: E402

SALT = (5, 6)


@pytest.mark.parametrize("hashed", [False, True])
def test_group_values_equal_the_reference_on_a_proof(monkeypatch, hashed):
    circuit, weights, x = instance(mlp_clip, seed=2)
    com = (hashed_weight_commitment(circuit, weights, SALT)[0] if hashed else commit_weights(circuit, weights)[0]).to_bytes()
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT if hashed else None)
    seen = []
    fast = hv._group_values

    def both(flat, groups, coeffs, eq_at, eq_values, data_row):
        got = fast(flat, groups, coeffs, eq_at, eq_values, data_row)
        assert got == hv._group_values_reference(flat, groups, coeffs, eq_at, eq_values, data_row)
        seen.append((len(flat), len(groups), sum(len(t.col_weights) for t in flat),
                     sum(t.block is not None for t in flat)))
        return got

    monkeypatch.setattr(hv, "_group_values", both)
    verdict = verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)
    assert verdict.valid, verdict.reason
    assert seen and any(n > g for n, g, _, _ in seen)  # some group holds several terms
    assert any(w for _, _, w, _ in seen) and any(b for _, _, _, b in seen)  # weighted entries, a dense block (the bank)

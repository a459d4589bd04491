"""The hiding opening's row groups on arrays (`hiding_groups.plan`) equal
the Term-by-Term reference (`plan_reference`: `claim_terms`, `row_groups`,
`_group_values_reference`) on real openings: a zero-knowledge inference
proof (weighted bank entries, eq terms, lone and grouped terms) with a
hashed weight commitment (dense bank blocks)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zkaudit.circuit import encode_circuit
from zkaudit.field import Fp2
from zkaudit.pcs import hiding_groups
from zkaudit.statements.inference.commitment import hashed_weight_commitment, zk_params
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
    fast = hiding_groups.plan

    def both(layout, claims, powers, log_rows):
        got = fast(layout, claims, powers, log_rows)
        power_list = [Fp2(int(a), int(b)) for a, b in powers]
        ref = hiding_groups.plan_reference(layout, len(layout.num_vars) // 2, claims, zk_params(), power_list,
                                           log_rows)
        assert got.row_points == ref.row_points and got.coeffs == ref.coeffs
        fast_values = got.values

        def values(data_row):
            out = fast_values(data_row)
            assert out == ref.values(data_row)
            return out

        got.values = values
        seen.append((len(claims), len(got.coeffs), sum(len(c.entries) for c in claims),
                     sum(c.block is not None for c in claims)))
        return got

    monkeypatch.setattr(hiding_groups, "plan", both)
    verdict = verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)
    assert verdict.valid, verdict.reason
    assert seen and any(n > g for n, g, _, _ in seen)  # some group holds several claims' terms
    assert any(w for _, _, w, _ in seen)  # weighted entries
    assert any(b for _, _, _, b in seen)  # a dense block (the bank)

"""Review attacks on broadcasting through Expand (every padding cell of each
broadcast source, and changes coordinated between a source and its copies)
and on the empty weight commitment (a proof with weights checked against
it, a weightless proof checked against a real commitment or another
circuit). Each must be refused."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.statements.inference.commitment import EMPTY_WEIGHT_COMMITMENT, params
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

from malicious_prover import Attack, sweep
from small_circuits import INT8, broadcast_add_mul, chain, instance


@pytest.fixture(scope="module")
def attack():
    circuit, weights, inputs = instance(broadcast_add_mul, seed=3)
    return Attack(circuit, weights, inputs)


@pytest.mark.adversarial  # minutes of zero-knowledge proofs; test_sweep covers each circuit by default
def test_every_padding_cell_of_every_broadcast_source(attack):
    """h (5, 3) -> (2, 5, 3) and c (5, 1) -> (5, 3) are the committed broadcast
    sources (Expand's outputs are index maps, never committed): every padding
    cell of each to 1, to -1 and to 100, and every real cell by +1."""
    names = sorted(set(("h", "c", "hb", "cb")) & set(attack.committed() + attack.advice()))
    assert {"h", "c"} <= set(names), names
    counts, forged = sweep(attack, np.random.default_rng(5), padding_cells=10**6, real_cells=10**6,
                           values=(1, -1, 100), names=names)
    assert not forged, forged[:3]
    assert counts.get("rejected", 0) > 0, counts


def _h(i, j):  # h (5, 3) padded (8, 4)
    return i * 4 + j


@pytest.mark.parametrize("cells", [
    [(i, 3) for i in range(5)],  # the whole padding column next to the real rows (each feeds a copy's column 3)
    [(i, j) for i in range(5, 8) for j in range(4)],  # every padding row
    [(i, j) for i in range(8) for j in range(4) if i >= 5 or j == 3],  # all padding at once
])
@pytest.mark.parametrize("value", [3, -2])
def test_all_padding_of_the_broadcast_source_together(attack, cells, value):
    out = attack.attempt(*[("h", _h(i, j), value) for i, j in cells])
    assert not out.forged, out.stage


def _relu_circuit():
    x = TensorSpec("x", (1, 6), *INT8, 0.1, 0)
    nodes = [Node.make("re", "Relu", ["x"], "y", zero_point=0)]
    return chain("relu6", [x], [], nodes, ["y"])


def test_weighted_proof_against_the_empty_commitment():
    circuit, weights, inputs = instance(broadcast_add_mul, seed=4)
    cbin = encode_circuit(circuit)
    commitment = commit_weights(circuit, weights)[0].to_bytes()
    proof = prove(circuit, weights, inputs)
    assert verify_proof(proof, circuit_bin=cbin, weight_commitment=commitment).valid
    assert not verify_proof(proof, circuit_bin=cbin, weight_commitment=EMPTY_WEIGHT_COMMITMENT).valid
    # the same proof against a weightless circuit with the empty commitment
    assert not verify_proof(proof, circuit_bin=encode_circuit(_relu_circuit()),
                            weight_commitment=EMPTY_WEIGHT_COMMITMENT).valid


def test_weightless_proof_against_a_real_commitment_or_a_weighted_circuit():
    circuit = _relu_circuit()
    cbin = encode_circuit(circuit)
    x = np.array([[-5, 0, 3, 127, -128, 9]])
    proof = prove(circuit, Weights({}), {"x": x})
    v = verify_proof(proof, circuit_bin=cbin, weight_commitment=EMPTY_WEIGHT_COMMITMENT)
    assert v.valid, v.reason
    wc, ww, _ = instance(broadcast_add_mul, seed=4)
    real = commit_weights(wc, ww)[0].to_bytes()
    assert not verify_proof(proof, circuit_bin=cbin, weight_commitment=real).valid
    assert not verify_proof(proof, circuit_bin=cbin, weight_commitment=b"").valid
    assert not verify_proof(proof, circuit_bin=encode_circuit(wc), weight_commitment=real).valid
    assert not verify_proof(proof, circuit_bin=encode_circuit(wc), weight_commitment=EMPTY_WEIGHT_COMMITMENT).valid

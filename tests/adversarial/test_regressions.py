"""The three forgeries a review built against the landed code (issue
"forged proofs accepted"), rebuilt with the malicious prover. Each must now
be refused; each was accepted before the fix (padding relations, ArgMax's
masked index term, two-sided committed ranges)."""

from __future__ import annotations

import numpy as np

from zkaudit.circuit import Circuit, Node, TensorSpec
from zkaudit.circuit.weights import Weights

import small_circuits
from malicious_prover import Attack

INT8 = (-128, 127)


def _mlp():
    """x -> MatMul (4x3) -> Requantize int8 -> MatMul (3x2): the second
    MatMul's inner size 3 pads to 4 (`small_circuits.mlp_exact`)."""
    return small_circuits.instance(small_circuits.mlp_exact, seed=1)


def test_matmul_reads_requantize_padding_times_weight_padding_refused():
    """G in h's padding (cell 3) and 1 in w2's padding row 3 would move y by G."""
    circuit, weights, inputs = _mlp()
    attack = Attack(circuit, weights, inputs)
    honest = attack.run(attack.honest)
    assert honest.accepted and not honest.forged
    w2_row3 = [6, 7]  # w2 pads (3, 2) -> (4, 2): row 3 is cells 6, 7
    for g in (100, 254):
        out = attack.attempt(("w2", w2_row3[0], 1), ("w2", w2_row3[1], 1), ("h", 3, g))
        assert not out.accepted, out
        # each half alone is refused too
        assert not attack.attempt(("h", 3, g)).accepted
    assert not attack.attempt(("w2", w2_row3[0], 1)).accepted


def _argmax():
    """MatMul -> ArgMax over 5 slots (padded to 8) -> Table and Concat
    (`small_circuits.argmax_table`)."""
    return small_circuits.instance(small_circuits.argmax_table, seed=2)


def test_argmax_selector_on_unwired_slot_refused():
    """s = 1 on slot 5 (>= K = 5, wired to nothing) would add 5 to the index."""
    circuit, weights, inputs = _argmax()
    attack = Attack(circuit, weights, inputs)
    assert attack.run(attack.honest).accepted
    true_idx = int(attack.honest.real("idx").ravel()[0])
    row = 0  # the only output cell; slots are its rows 0..7
    for k in (5, 6, 7):
        out = attack.attempt(("am/max/select", row * 8 + k, 1), ("idx", 0, true_idx + k))
        assert not out.accepted, out


def test_weight_above_its_range_refused():
    """A weight of 2 in a [-1, 1] tensor: w - lo = 3 < 2^2 passed a one-sided check."""
    x = TensorSpec("x", (1, 3), *INT8, 0.1, 0)
    w = TensorSpec("w", (3, 2), -1, 1)
    circuit = small_circuits.chain("ternary", [x], [w],
                                   [Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0, b_zero_point=0)],
                                   ["y"])
    rng = np.random.default_rng(3)
    attack = Attack(circuit, Weights({"w": rng.integers(-1, 2, (3, 2))}), {"x": rng.integers(-128, 128, (1, 3))})
    assert attack.run(attack.honest).accepted
    out = attack.attempt(("w", 0, 2))
    assert out.reference is None  # no honest execution with that weight
    assert not out.accepted, out
    # committed inputs share the code path
    committed = Attack(circuit, Weights({"w": attack.honest.real("w")}), {"x": attack.honest.real("x")},
                       commit_input=True)
    assert committed.run(committed.honest).accepted
    assert not committed.attempt(("w", 1, -2)).accepted


def test_requantize_that_would_wrap_is_refused_when_committed():
    """multiplier 2^31 - 1, shift 62, input near 2^31: the validator's ranges
    accept it, the prover's wrap-free bound does not (sum of bounds >= p);
    compile (which commits the weights) must refuse it with the reason."""
    import pytest

    from zkaudit.layers.shapes import UnsupportedLayer
    from zkaudit.statements.inference.prover import commit_weights
    from small_circuits import chain

    x = TensorSpec("x", (1, 2), -(2**31) + 1, 2**31 - 1)
    w = TensorSpec("w", (2, 2), -1, 1)
    z = TensorSpec("z", (1, 2), *INT8)
    nodes = [Node.make("mm", "MatMul", ["z", "w"], "a", a_zero_point=0, b_zero_point=0),
             Node.make("rq", "Requantize", ["x"], "y", axis=0, in_zero_point=0, multiplier=(2**31 - 1,),
                       shift=(62,), out_min=-128, out_max=127, out_zero_point=0)]
    circuit = chain("wraps", [x, z], [w], nodes, ["y", "a"])
    with pytest.raises(UnsupportedLayer, match="rq.*sum of bounds"):
        commit_weights(circuit, Weights({"w": np.zeros((2, 2), dtype=np.int64)}))


def test_proof_made_by_the_unsound_format_is_refused_with_the_reason():
    """A logistic_risk proof made by format 1 (stored when that version was
    current) verified before; it is now refused before any check, saying why."""
    from pathlib import Path

    from zkaudit.statements.verify import verify_proof

    data = Path(__file__).resolve().parents[1] / "data"
    verdict = verify_proof((data / "inference_format1_unsound.zkp").read_bytes(),
                           circuit_bin=(data / "inference_format1_circuit.bin").read_bytes(),
                           weight_commitment=(data / "inference_format1_weights.commitment").read_bytes())
    assert not verdict.valid
    assert "re-prove" in verdict.reason and "forged" in verdict.reason, verdict.reason


def test_weight_named_like_advice_is_refused():
    """A weight named like an advice tensor (here Requantize's parity
    column) would route the advice's claims to the weight commitment, where
    a value fixed at commit time stands in for per-proof advice."""
    import dataclasses

    import pytest

    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.inference.prover import commit_weights
    from zkaudit.statements.inference.verifier import AmbiguousName
    from zkaudit.statements.verify import verify_proof

    circuit, weights, inputs = _mlp()
    renamed = dataclasses.replace(circuit, weights=tuple(dataclasses.replace(s, name="rq/parity")
                                                         if s.name == "w2" else s for s in circuit.weights),
                                  nodes=tuple(dataclasses.replace(n, inputs=tuple("rq/parity" if i == "w2" else i
                                                                                  for i in n.inputs))
                                              for n in circuit.nodes))
    moved = Weights({"w1": weights["w1"], "rq/parity": weights["w2"]})
    with pytest.raises(AmbiguousName):
        commit_weights(renamed, moved)
    # the verifier refuses such a circuit before any check (here: an honest
    # proof's body checked against the renamed circuit)
    from zkaudit.statements.envelope import parse_envelope
    from zkaudit.statements.inference.proof import InferenceBody
    from zkaudit.statements.inference.prover import prove
    from zkaudit.statements.inference.verifier import verify_body

    proof = prove(circuit, weights, inputs)
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    with pytest.raises(AmbiguousName, match="rq/parity"):
        verify_body(renamed, body, commit_weights(circuit, weights)[0].to_bytes())


def test_circuit_declaring_a_narrower_range_than_its_op_is_refused():
    """Every layer's wrap-free argument reads the declared ranges; a circuit
    whose declared range is not what the op's inference rule gives is not
    a valid model, and nothing is verified against it."""
    import dataclasses

    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.inference.prover import prove
    from zkaudit.statements.verify import verify_proof

    circuit, weights, inputs = _mlp()
    narrow = dataclasses.replace(circuit, tensors=tuple(dataclasses.replace(s, lo=-10, hi=10) if s.name == "acc1"
                                                        else s for s in circuit.tensors))
    from zkaudit.statements.inference.prover import commit_weights

    proof = prove(circuit, weights, inputs)
    verdict = verify_proof(proof, circuit_bin=encode_circuit(narrow),
                           weight_commitment=commit_weights(circuit, weights)[0].to_bytes())
    assert not verdict.valid and "not valid" in verdict.reason and "mm1" in verdict.reason, verdict.reason


def test_rounded_outputs_off_by_one_refused_with_advice_built_for_them():
    """A rounded output moved by one, with its remainder, half and parity
    recomputed for the moved value (what a forger commits): the remainder
    leaves its range, and that range check refuses it (AveragePool), or
    the relations do (Requantize)."""
    attack = Attack(*small_circuits.instance(small_circuits.cnn_odd))
    pooled = attack.honest.real("a").ravel()
    _, real = attack.cells("a")
    for index in real[:4]:
        for delta in (1, -1):
            out = attack.attempt(("a", int(index), int(attack.honest.table("a")[index]) + delta))
            assert not out.accepted and "[lookup" in out.stage, out.stage  # the LogUp (its roots' sum in a ZK proof)
    assert pooled.size
    mlp = Attack(*_mlp())
    h = mlp.honest.table("h")
    _, real = mlp.cells("h")
    for index in real:
        for delta in (1, -1):
            assert not mlp.attempt(("h", int(index), int(h[index]) + delta)).accepted

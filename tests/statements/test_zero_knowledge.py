"""Zero knowledge of inference proofs, tested (design note §9):

* the exact mask-rank check: with the challenges fixed, everything a proof
  reveals through its protocols is an affine function of the proof's bank,
  and the difference between the transcripts of two witnesses with the
  same public statement (two patient inputs with the same output, behind
  hiding commitments) lies in the span of that randomness: some bank makes
  one witness's transcript exactly the other's;
* on the unmasked build the same difference is visible (nothing to span it);
* two proofs of the same statement differ wherever randomness reaches;
* a plain proof says so, and `verify` prints which.

The harness is `zk_harness.py`; the hiding commitment's own rank test is
tests/pcs/test_hiding.py; the masked sum-check's simulator is in
tests/sumcheck/test_zk_sumcheck.py; the leakage attacks are in
test_zk_attacks.py."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.circuit import Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.field.constants import P
from zkaudit.field.randomness import random_ext
from zkaudit.field.scalar import Fp2
from zkaudit.statements.envelope import parse_envelope
from zkaudit.statements.inference import witness
from zkaudit.statements.inference.proof import InferenceBody
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

from zk_harness import bank_usage, revealed_vector, solve_in_span

OPENING = bytes(range(32))


def _tiny() -> tuple[Circuit, Weights]:
    """A committed 4-pixel record times a 4x2 weight matrix whose third row
    is zero: records differing in their third entry give the same output."""
    x = TensorSpec("x", (1, 4), -8, 7, 0.1, 0)
    w1 = TensorSpec("w1", (4, 2), -7, 7)
    h = TensorSpec("h", (1, 2), -224, 224)
    circuit = Circuit("tiny", (x,), (h,), (w1,),
                      (Node.make("mm", "MatMul", ["x", "w1"], "h", a_zero_point=0, b_zero_point=0),), (h,))
    return circuit, Weights({"w1": np.array([[1, 2], [3, -1], [0, 0], [-2, 1]])})


X1 = np.array([[1, 2, 3, 4]])
X2 = np.array([[1, 2, -5, 4]])  # same output, another record


def _pairs(v: list[int]) -> list[Fp2]:
    assert len(v) % 2 == 0
    return [Fp2(v[i], v[i + 1]) for i in range(0, len(v), 2)]


def _ext(a) -> Fp2:
    return Fp2(int(a[0]), int(a[1]))


@pytest.fixture(scope="module")
def runs():
    """Record 1 at a random bank B1; record 2 at the bank B2 that agrees with
    B1 except on the final-value pads, moved so that every padded final
    value is the same number (m' = m + (f1 - f2) / Z). A final-value pad
    enters the last round of its sum-check through the products of the
    randomized extensions, so the run is affine in the *other* entries (the
    Libra masks and the pads of sent values) at fixed final pads; those
    are varied one at a time around B2."""
    circuit, weights = _tiny()
    w1 = witness.build(circuit, weights, {"x": X1}, commit_input=True)
    w2 = witness.build(circuit, weights, {"x": X2}, commit_input=True)
    assert np.array_equal(w1.value("h"), w2.value("h"))
    size, used = bank_usage(w1, OPENING)
    b1 = {"advice": np.zeros((size, 2), dtype=np.uint64), "input": np.zeros((used["input"], 2), dtype=np.uint64)}
    for bank, n in used.items():
        b1[bank][:n] = random_ext(n)

    def run(w, banks):
        return revealed_vector(w, size, banks, OPENING)

    v1, pads1 = run(w1, b1)
    _, pads2 = run(w2, b1)
    b2 = {name: arr.copy() for name, arr in b1.items()}
    for (key, f1, z), (key2, f2, z2) in zip(pads1, pads2):
        assert key == key2 and z == z2  # the runs' shapes and (fixed) challenges agree
        m = _ext(b1[key[0]][key[1]]) + (f1 - f2) * z.inverse()
        b2[key[0]][key[1]] = (m.c0, m.c1)
    v2, _ = run(w2, b2)
    finals = {key for key, _, _ in pads1}
    free = [(bank, k) for bank, n in used.items() for k in range(n) if (bank, k) not in finals]
    coeffs = {}
    for bank, k in free:
        b = {name: arr.copy() for name, arr in b2.items()}
        b[bank][k] = ((_ext(b[bank][k]) + Fp2(1)).c0, (_ext(b[bank][k]) + Fp2(1)).c1)
        v, _ = run(w2, b)
        coeffs[(bank, k)] = [a - c for a, c in zip(_pairs(v), _pairs(v2))]
    return dict(circuit=circuit, weights=weights, w1=w1, w2=w2, run=run, v1=v1, v2=v2, b2=b2, coeffs=coeffs,
               finals=len(finals))


def test_everything_revealed_is_affine_in_the_masks(runs):
    """Around B2, moving the Libra masks and sent-value pads by d gives
    base + sum_k c_k d_k exactly."""
    b = {name: arr.copy() for name, arr in runs["b2"].items()}
    d = {}
    for bank, k in runs["coeffs"]:
        d[(bank, k)] = Fp2(*[int(x) for x in random_ext(1)[0]])
        new = _ext(b[bank][k]) + d[(bank, k)]
        b[bank][k] = (new.c0, new.c1)
    got, _ = runs["run"](runs["w2"], b)
    want = _pairs(runs["v2"])
    for key, col in runs["coeffs"].items():
        want = [w + c * d[key] for w, c in zip(want, col)]
    assert _pairs(got) == want


def test_two_records_with_the_same_output_are_indistinguishable(runs):
    """The difference of the two records' transcripts lies in the span of the
    prover's randomness: some bank turns record 2's run into record 1's."""
    a, b = _pairs(runs["v1"]), _pairs(runs["v2"])
    assert len(a) == len(b)
    delta = [x - y for x, y in zip(a, b)]
    assert any(d != Fp2(0) for d in delta), "the two records' runs coincide: the test would prove nothing"
    columns = []  # over GF(p): an entry w0 + X w1 contributes c (w0 + X w1)
    for col in runs["coeffs"].values():
        columns.append([x for c in col for x in (c.c0, c.c1)])
        columns.append([x for c in col for x in (7 * c.c1 % P, c.c0)])
    target = [x for d in delta for x in (d.c0, d.c1)]
    inside, rank = solve_in_span(columns, target)
    assert inside, f"the witness difference leaves the span of the prover's randomness (rank {rank})"


def test_unmasked_runs_of_the_two_records_differ(runs):
    """The same two records through the plain protocol: the revealed values
    differ and there is no randomness to explain it (what the masks fix)."""
    from zkaudit.statements.inference.prover import prove_witness

    circuit = runs["circuit"]
    p1 = prove_witness(runs["w1"], zero_knowledge=False)
    p2 = prove_witness(runs["w2"], zero_knowledge=False)
    b1 = InferenceBody.from_bytes(parse_envelope(p1).body, circuit)
    b2 = InferenceBody.from_bytes(parse_envelope(p2).body, circuit)
    assert b1.outputs["h"].tolist() == b2.outputs["h"].tolist()
    assert b1.layers != b2.layers  # plain layer proofs are a function of the record alone


def test_two_proofs_of_one_statement_differ_wherever_randomness_reaches():
    circuit, weights = _tiny()
    a = prove(circuit, weights, {"x": X1}, commit_input=True, input_opening=OPENING)
    b = prove(circuit, weights, {"x": X1}, commit_input=True, input_opening=OPENING)
    ba = InferenceBody.from_bytes(parse_envelope(a).body, circuit)
    bb = InferenceBody.from_bytes(parse_envelope(b).body, circuit)
    assert ba.input_commitment == bb.input_commitment  # the same opening: the same commitment
    assert ba.advice_commitment != bb.advice_commitment
    # the layer stream: every 16-byte element that is not a fixed public value differs
    la, lb = ba.layers, bb.layers
    assert len(la) == len(lb)
    same = sum(la[i:i + 16] == lb[i:i + 16] for i in range(0, len(la) - 15, 16))
    assert same <= len(la) // 16 // 10, f"{same} of {len(la) // 16} elements repeat across two proofs"


def test_verify_reports_zero_knowledge_and_the_weight_leak():
    circuit, weights = _tiny()
    com = commit_weights(circuit, weights)[0].to_bytes()
    zk = verify_proof(prove(circuit, weights, {"x": X1}), circuit_bin=encode_circuit(circuit), weight_commitment=com)
    assert zk.valid and zk.privacy["zero_knowledge"] is True
    assert zk.privacy["weights_hidden"] is False and zk.privacy["weights_determined_after_proofs"] == 1
    plain = verify_proof(prove(circuit, weights, {"x": X1}, zero_knowledge=False),
                         circuit_bin=encode_circuit(circuit), weight_commitment=com)
    assert plain.valid and plain.privacy["zero_knowledge"] is False


def test_a_format_2_inference_proof_is_refused_with_the_reason():
    """Format 2 proofs ran the plain inference protocol 3: refused, not misread."""
    from zkaudit.statements.envelope import encode_envelope

    circuit, weights = _tiny()
    com = commit_weights(circuit, weights)[0].to_bytes()
    proof = prove(circuit, weights, {"x": X1})
    old = encode_envelope("inference", parse_envelope(proof).body, version=2)
    verdict = verify_proof(old, circuit_bin=encode_circuit(circuit), weight_commitment=com)
    assert not verdict.valid and "format 2" in verdict.reason and "re-prove" in verdict.reason


# ---------------------------------------------------------------- every op type
#
# The exact span test above needs one run per bank entry; for the op
# catalogue a cheaper test finds what a leak looks like: a revealed value
# that the bank does not move (the same under two banks) but the record
# does (different for two records with the same output). Either of those
# alone is fine (public values; masked values); both together is a value
# sent in the clear that depends on the hidden record.


def _zeroed(name):
    """The builder's circuit with every output multiplied by a zero weight:
    every node is still proven (claims flow back through all of them), and
    any two records give the same (zero) output, the same public statement."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
    from small_circuits import BUILDERS, chain, instance

    circuit, ins, ws = BUILDERS[name]()
    _, weights, _ = instance(BUILDERS[name])
    nodes, zeros, outs = list(circuit.nodes), [], []
    for spec in circuit.outputs:
        z = TensorSpec(f"zero_{spec.name}", spec.shape, -1, 1)
        zeros.append(z)
        nodes.append(Node.make(f"kill_{spec.name}", "Mul", [spec.name, z.name], f"{spec.name}_x0", a_zero_point=0,
                               b_zero_point=0))
        outs.append(f"{spec.name}_x0")
    zeroed = chain(f"{name}_zeroed", list(ins), list(ws) + zeros, nodes, outs)
    values = {s.name: weights[s.name] for s in ws}
    values.update({z.name: np.zeros(z.shape, dtype=np.int64) for z in zeros})
    return zeroed, Weights(values)


@pytest.mark.parametrize("name", ["mlp_clip", "shapes_softmax", "cnn_odd", "mlp_exact", "argmax_table",
                                  "broadcast_add_mul"])
def test_no_value_in_the_clear_depends_on_a_hidden_record(name):
    circuit, weights = _zeroed(name)
    spec = circuit.inputs[0]
    rng = np.random.default_rng(7)
    r1, r2 = ({spec.name: rng.integers(spec.lo, spec.hi + 1, size=spec.shape)} for _ in range(2))
    w1 = witness.build(circuit, weights, r1, commit_input=True)
    w2 = witness.build(circuit, weights, r2, commit_input=True)
    assert all(np.array_equal(w1.value(o.name), w2.value(o.name)) for o in circuit.outputs)
    assert not np.array_equal(r1[spec.name], r2[spec.name])
    size, used = bank_usage(w1, OPENING)

    def banks():
        out = {"advice": np.zeros((size, 2), dtype=np.uint64), "input": np.zeros((used["input"], 2), dtype=np.uint64)}
        for bank, n in used.items():
            out[bank][:n] = random_ext(n)
        return out

    b, b2 = banks(), banks()
    a, _ = revealed_vector(w1, size, b, OPENING)
    a2, _ = revealed_vector(w1, size, b2, OPENING)
    c, _ = revealed_vector(w2, size, b, OPENING)
    assert len(a) == len(a2) == len(c)
    leaks = [i for i in range(len(a)) if a[i] == a2[i] and a[i] != c[i]]
    assert not leaks, f"{len(leaks)} revealed coordinates depend on the record and not on the masks: {leaks[:10]}"
    assert sum(x != y for x, y in zip(a, a2)) > len(a) // 2  # most of what is revealed is masked

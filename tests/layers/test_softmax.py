"""Softmax: honest reductions with every claim discharged (ties, clamps,
padding), an end-to-end inference proof, and attacks (remainder out of
range, exp-table output wrong, wrong output, wrong max, tampered bytes)."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.circuit import Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit import kernels as ir
from zkaudit.circuit.weights import Weights
from zkaudit.errors import ProofRejected
from zkaudit.field import Fp, Fp2
from zkaudit.layers.softmax import prover, verifier
from zkaudit.layers.softmax.proof import SoftmaxProof
from zkaudit.layers.tensor import embed
from zkaudit.lookup import LookupSumNonZero
from zkaudit.lookup.tables import NotInTable
from zkaudit.poly.mle import evaluate
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof
from zkaudit.sumcheck.errors import RoundSumMismatch
from zkaudit.transcript import Transcript


def _t():
    t = Transcript()
    t.absorb_statement("softmax-test", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def discharge(claims, tables):
    for c in claims:
        assert _ext(evaluate(tables[c.tensor], c.point)) == c.value, c.tensor


def _attrs(lo, hi, scale=0.05, mul=1 << 30, shift=22, zo=-128, out=(-128, 127)):
    d = np.arange(-(hi - lo), 1, dtype=np.float64)
    exp_values = tuple(int(v) for v in np.rint(np.exp(d * scale) * 2**16))
    return dict(axis=-1, exp_values=exp_values, out_multiplier=mul, out_shift=shift, out_zero_point=zo,
                out_min=out[0], out_max=out[1])


def _setup(shape, lo=-128, hi=127, seed=0, x=None, **kw):
    rng = np.random.default_rng(seed)
    x = rng.integers(lo, hi + 1, size=shape) if x is None else np.asarray(x)
    attrs = _attrs(lo, hi, **kw)
    y = ir.softmax(x, **{**attrs, "axis": len(shape) - 1})
    node = Node.make("sm", "Softmax", ["x"], "y", **{**attrs, "axis": len(shape) - 1})
    specs = {"x": TensorSpec("x", tuple(shape), lo, hi), "y": TensorSpec("y", y.shape, *attrs_range(attrs))}
    return node, specs, x, y


def attrs_range(attrs):
    return attrs["out_min"], attrs["out_max"]


def _run(node, specs, x, advice=None):
    st = verifier.setup(node, specs)
    advice = prover.softmax_advice(node, specs, {"x": x}) if advice is None else advice
    tables = {"x": embed(x), **{k: embed(v) for k, v in advice.items()}}
    proof, pclaims = prover.prove(st, tables, _t())
    parsed, end = SoftmaxProof.read(proof.to_bytes(), 0)
    assert end == len(proof.to_bytes())
    claims = verifier.verify(st, parsed, _t())
    assert claims == pclaims
    return claims, tables, proof


CASES = [
    ((1, 10), {}),
    ((3, 5), {}),  # padding on both axes
    ((2, 1, 7), {"scale": 0.02}),
    ((1, 4), {"mul": 1 << 30, "shift": 22, "zo": 0, "out": (0, 100)}),  # upper clamp active
    ((2, 3), {"lo": -8, "hi": 7, "scale": 0.5, "mul": 3, "shift": 0, "zo": -1, "out": (-1, 1)}),  # tiny, ties
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_honest_reduction_discharges(case):
    shape, kw = CASES[case]
    node, specs, x, y = _setup(shape, **kw)
    advice = prover.softmax_advice(node, specs, {"x": x})
    assert np.array_equal(advice["y"], y)
    claims, tables, _ = _run(node, specs, x, advice)
    assert {"x", "y", "sm/exp", "sm/total", "sm/rem"} <= {c.tensor for c in claims}
    discharge(claims, tables)
    shapes = verifier.advice_shapes(node, specs)
    assert set(shapes) == set(advice) and all(tuple(np.shape(advice[k])) == shapes[k] for k in shapes)


def test_tie_case_is_exercised():
    """rnd(n/d) exactly half way: q must be even (parity bit and r in {0, 2d})."""
    node, specs, x, y = _setup((1, 2), lo=-8, hi=7, x=[[3, 3]], scale=0.5, mul=3, shift=0, zo=-1, out=(-1, 1))
    st = verifier.setup(node, specs)
    w = prover.witness(st, x)
    assert np.all((w["rem"] == 0) | (w["rem"] == 2 * (w["total"] << st.shift)))  # 2*e*3 / (2e): 1.5 -> 2
    claims, tables, _ = _run(node, specs, x)
    discharge(claims, tables)


def test_uniform_and_one_hot_rows():
    node, specs, x, _ = _setup((2, 6), x=[[5] * 6, [127, -128, -128, -128, -128, -128]])
    claims, tables, _ = _run(node, specs, x)
    discharge(claims, tables)


# -- attacks -----------------------------------------------------------------------

def _forge(node, specs, x, change, *, raw=False):
    """Advice from an altered witness; when the honest range decomposition
    refuses (a value out of range), multiplicities are counted mod 2^b."""
    st = verifier.setup(node, specs)
    w = prover.witness(st, x)
    change(w)
    try:
        advice = prover.advice_from(st, x, w)
    except NotInTable:
        advice = _advice_wrapping(st, x, w)
    tables = {"x": embed(x), **{k: embed(v) for k, v in advice.items()}}
    proof, _ = prover.prove(st, tables, _t())
    return st, proof, tables


def _advice_wrapping(st, x, w):
    from zkaudit.layers.pool.ranges import MultiRange
    from zkaudit.lookup.tables import TableSpec

    orig_decompose, orig_rows = MultiRange.decompose, TableSpec.row_indices
    from zkaudit.layers.softmax import table as vtable
    orig_vrows = vtable.ValuesTable.row_indices

    def decompose(self, j, values):
        u = values.copy()
        out, shift = [], 0
        for width in self.widths(j):
            out.append([(u >> np.uint64(shift)) & np.uint64((1 << width) - 1)])
            shift += width
        return out

    def rows(self, cols):
        return (cols[0] % np.uint64(self.num_rows)).astype(np.int64)

    MultiRange.decompose = decompose
    TableSpec.row_indices = rows
    vtable.ValuesTable.row_indices = rows
    try:
        return prover.advice_from(st, x, w)
    finally:
        MultiRange.decompose = orig_decompose
        TableSpec.row_indices = orig_rows
        vtable.ValuesTable.row_indices = orig_vrows


def test_attack_remainder_out_of_range_rejected():
    """q one too small with r = honest r + 2d: the identity holds, r > 2d."""
    node, specs, x, _ = _setup((1, 6), seed=1)

    def change(w):
        q = 2 * w["half"] + w["par"]
        i = int(np.argmax(q))
        d = (w["total"] << 22)[0, 0]
        q = q.copy()
        q[0, i] -= 1
        w["half"], w["par"] = q >> 1, q & 1
        w["rem"] = w["rem"].copy()
        w["rem"][0, i] += 2 * d
        w["y"] = np.clip(-128 + q, -128, 127)
    st, proof, tables = _forge(node, specs, x, change)
    # r - par is 2^43-wide: its limbs are advice, a wrapped value's limbs are
    # in range but recompose to another column, caught where the claims on
    # rem are discharged (the advice opening, in a full proof)
    with pytest.raises(ProofRejected):
        discharge_or_reject(verifier.verify(st, proof, _t()), tables)


def test_attack_exp_table_output_wrong_rejected():
    node, specs, x, _ = _setup((1, 6), seed=2)

    def change(w):
        w["exp"] = w["exp"].copy()
        w["exp"][0, 0] += 1
        w["total"] = w["exp"].sum(axis=-1, keepdims=True)
    st, proof, _ = _forge(node, specs, x, change)
    with pytest.raises(LookupSumNonZero):
        verifier.verify(st, proof, _t())


def test_attack_wrong_output_rejected():
    """Y off by one, everything else honest: the clamp identity fails."""
    node, specs, x, _ = _setup((1, 6), seed=3)

    def change(w):
        w["y"] = w["y"].copy()
        w["y"][0, 2] += 1
    st, proof, _ = _forge(node, specs, x, change)
    with pytest.raises(RoundSumMismatch):
        verifier.verify(st, proof, _t())


def test_attack_wrong_sum_rejected():
    node, specs, x, _ = _setup((1, 6), seed=4)

    def change(w):
        w["total"] = w["total"] + 1
    st, proof, _ = _forge(node, specs, x, change)
    with pytest.raises(ProofRejected):
        verifier.verify(st, proof, _t())


def test_attack_tie_rounded_odd_rejected():
    """At a tie, rounding to the odd neighbour satisfies the identity with r = 0 or 2d."""
    node, specs, x, _ = _setup((1, 2), lo=-8, hi=7, x=[[3, 3]], scale=0.5, mul=3, shift=0, zo=-1, out=(-1, 3))

    def change(w):
        q = 2 * w["half"] + w["par"]  # 2 (even); the odd neighbour 1 needs r = 2d
        den = w["total"] << 0
        q = q - 1
        w["half"], w["par"] = q >> 1, q & 1
        w["rem"] = 2 * w["exp"] * 3 + den - 2 * den * q
        w["y"] = np.clip(-1 + q, -1, 3)
    st, proof, tables = _forge(node, specs, x, change)
    # 2d - r - par = -1 is out of range (caught in the limbs' recomposition)
    with pytest.raises(ProofRejected):
        discharge_or_reject(verifier.verify(st, proof, _t()), tables)


def test_tampered_proof_bytes_rejected():
    node, specs, x, _ = _setup((1, 5), seed=5)
    st = verifier.setup(node, specs)
    claims, tables, proof = _run(node, specs, x)
    raw = proof.to_bytes()
    rng = np.random.default_rng(1)
    for pos in rng.choice(len(raw), 20, replace=False):
        bad = bytearray(raw)
        bad[pos] ^= 0x33
        with pytest.raises(ProofRejected):
            p2, end = SoftmaxProof.read(bytes(bad), 0)
            if end != len(bad):
                raise ProofRejected("trailing")
            discharge_or_reject(verifier.verify(st, p2, _t()), tables)


def discharge_or_reject(claims, tables):
    for c in claims:
        if _ext(evaluate(tables[c.tensor], c.point)) != c.value:
            raise ProofRejected(f"claim on {c.tensor} does not discharge")


# -- end to end ----------------------------------------------------------------------

def test_end_to_end_softmax():
    """x + b (a committed bias) into Softmax over the last axis."""
    attrs = {**_attrs(-128, 127), "axis": 1}
    x_spec = TensorSpec("x", (2, 7), -64, 63)
    b_spec = TensorSpec("b", (2, 7), -64, 63)
    h_spec = TensorSpec("h", (2, 7), -128, 126)
    y_spec = TensorSpec("y", (2, 7), -128, 127)
    nodes = (Node.make("add", "Add", ["x", "b"], "h", a_zero_point=0, b_zero_point=0),
             Node.make("sm", "Softmax", ["h"], "y", **attrs))
    circuit = Circuit("softmax-e2e", (x_spec,), (y_spec,), (b_spec,), nodes, (h_spec, y_spec))
    rng = np.random.default_rng(0)
    weights = Weights({"b": rng.integers(-64, 64, (2, 7))})
    commitment, _ = commit_weights(circuit, weights)
    x = rng.integers(-64, 64, (2, 7))
    proof = prove(circuit, weights, {"x": x})
    verdict = verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=commitment.to_bytes())
    assert verdict.valid, verdict.reason
    assert verdict.output == {k: v.tolist() for k, v in circuit.execute(weights, {"x": x}).items()}
    # the output is committed advice: a changed public output must not open
    env = parse_envelope(proof)
    body = InferenceBody.from_bytes(env.body, circuit)
    y = body.outputs["y"].copy()
    y[1, 3] = y[1, 3] - 1 if y[1, 3] > -128 else y[1, 3] + 1
    forged = encode_envelope(STATEMENT, InferenceBody(body.inputs, {"y": y}, body.advice_commitment, body.layers,
                                                      body.weight_opening, body.advice_opening).to_bytes(circuit))
    assert not verify_proof(forged, circuit_bin=encode_circuit(circuit),
                            weight_commitment=commitment.to_bytes()).valid


@pytest.mark.parametrize("shape,axis", [((3, 4), 0), ((2, 5, 3), 1), ((1, 3, 2, 2), 1)])
def test_other_axes_run_on_a_transposed_view(shape, axis):
    """Claims on X', Y' map to claims on X, Y at un-permuted points."""
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, size=shape)
    attrs = {**_attrs(-128, 127), "axis": axis}
    y = ir.softmax(x, **attrs)
    node = Node.make("sm", "Softmax", ["x"], "y", **attrs)
    specs = {"x": TensorSpec("x", shape, -128, 127), "y": TensorSpec("y", y.shape, -128, 127)}
    advice = prover.softmax_advice(node, specs, {"x": x})
    assert np.array_equal(advice["y"], y)
    shapes = verifier.advice_shapes(node, specs)
    assert set(shapes) == set(advice) and all(tuple(np.shape(advice[k])) == shapes[k] for k in shapes)
    st = verifier.setup(node, specs)
    tables = {"x": embed(x), **{k: embed(v) for k, v in advice.items()}}
    proof, pclaims = prover.prove(st, tables, _t())
    claims = st.to_real(verifier.verify(st, SoftmaxProof.read(proof.to_bytes(), 0)[0], _t()))
    assert claims == st.to_real(pclaims)
    assert {"x", "y"} <= {c.tensor for c in claims}
    discharge(claims, tables)


def test_end_to_end_softmax_middle_axis():
    attrs = {**_attrs(-128, 127), "axis": 1}
    shape = (2, 3, 4)
    x_spec, b_spec = TensorSpec("x", shape, -64, 63), TensorSpec("b", shape, -64, 63)
    h_spec, y_spec = TensorSpec("h", shape, -128, 126), TensorSpec("y", shape, -128, 127)
    nodes = (Node.make("add", "Add", ["x", "b"], "h", a_zero_point=0, b_zero_point=0),
             Node.make("sm", "Softmax", ["h"], "y", **attrs))
    circuit = Circuit("softmax-axis1", (x_spec,), (y_spec,), (b_spec,), nodes, (h_spec, y_spec))
    rng = np.random.default_rng(3)
    weights = Weights({"b": rng.integers(-64, 64, shape)})
    commitment, _ = commit_weights(circuit, weights)
    x = rng.integers(-64, 64, shape)
    verdict = verify_proof(prove(circuit, weights, {"x": x}), circuit_bin=encode_circuit(circuit),
                           weight_commitment=commitment.to_bytes())
    assert verdict.valid, verdict.reason
    assert verdict.output == {k: v.tolist() for k, v in circuit.execute(weights, {"x": x}).items()}

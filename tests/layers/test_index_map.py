"""Index maps: wiring from the executor, pass-through when layouts agree, a
wiring sum-check otherwise; attacks on partial sums and wiring values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.circuit import kernels as ir
from zkaudit.field import Fp, Fp2, vec
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.index_map import prover, verifier
from zkaudit.layers.index_map.wiring import wiring
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, RoundSumMismatch
from zkaudit.transcript import Transcript


def _t():
    t = Transcript()
    t.absorb_statement("index-map-test", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


CASES = [
    ("Reshape", {"shape": (1, 60)}, [(1, 3, 4, 5)]),  # flatten: layout changes
    ("Reshape", {"shape": (2, 4)}, [(8,)]),  # split a power of two: identity on tables
    ("Reshape", {"shape": (3, 1, 4)}, [(3, 4)]),  # unsqueeze: identity
    ("Transpose", {"perm": (1, 0, 2)}, [(3, 5, 2)]),
    ("Concat", {"axis": 1}, [(2, 3), (2, 5)]),
    ("Pad", {"pads": (0, 1, 2, 0, 2, 1), "value": -7}, [(1, 3, 3)]),
    ("Gather", {"axis": 1, "indices": (4, 0, 0, 2)}, [(3, 5)]),  # a repeat, unread cells
    ("Gather", {"axis": 0, "indices": (0, 1, 2, 3, 4, 5, 6)}, [(8, 3)]),  # a crop in place: no identity
    ("Gather", {"axis": 1, "indices": (0, 1, 2)}, [(2, 4)]),  # the same along the last axis
]


def _run(op, attrs, shapes, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.integers(-128, 128, size=s) for s in shapes]
    y = {"Reshape": lambda: ir.reshape(xs[0], **attrs), "Transpose": lambda: ir.transpose(xs[0], **attrs),
         "Concat": lambda: ir.concat(*xs, **attrs), "Pad": lambda: ir.pad(xs[0], **attrs),
         "Gather": lambda: ir.gather(xs[0], **attrs)}[op]()
    w = wiring(op, attrs, shapes, y.shape)
    y_table = embed(y)
    point = tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(num_vars(y.shape), rng))
    claim = TensorClaim("y", point, _ext(evaluate(y_table, point)))
    names = [f"x{j}" for j in range(len(xs))]
    tables = {n: embed(x) for n, x in zip(names, xs)}
    return w, shapes, names, claim, tables


@pytest.mark.parametrize("op,attrs,shapes", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_honest_reduction_discharges(op, attrs, shapes):
    w, shapes, names, claim, tables = _run(op, attrs, shapes)
    proof, prover_claims = prover.prove(w, shapes, names, claim, [tables[n] for n in names], _t())
    claims = verifier.verify(w, shapes, names, claim, proof, _t())
    assert claims == prover_claims
    for c in claims:
        assert _ext(evaluate(tables[c.tensor], c.point)) == c.value


def test_identity_reshape_costs_nothing():
    w, shapes, names, claim, tables = _run("Reshape", {"shape": (2, 4)}, [(8,)])
    proof, claims = prover.prove(w, shapes, names, claim, [tables["x0"]], _t())
    assert proof.partial_sums == () and claims[0].point == claim.point


def test_a_crop_that_keeps_cells_in_place_is_not_an_identity():
    """Rows 0-6 of 8 keep their positions, but row 7 is real input and the
    output's padding: passing the claim through would let Y's padding hold
    it. Only a map that reads every real input cell in place is an identity."""
    w, shapes, names, claim, tables = _run("Gather", {"axis": 0, "indices": tuple(range(7))}, [(8, 3)])
    assert not w.is_identity(shapes[0])
    proof, claims = prover.prove(w, shapes, names, claim, [tables["x0"]], _t())
    assert proof.partial_sums != ()
    full = wiring("Gather", {"axis": 0, "indices": tuple(range(8))}, [(8, 3)], (8, 3))
    assert full.is_identity((8, 3))


def test_wrong_output_rejected():
    w, shapes, names, claim, tables = _run("Reshape", {"shape": (1, 60)}, [(1, 3, 4, 5)])
    proof, _ = prover.prove(w, shapes, names, claim, [tables["x0"]], _t())
    with pytest.raises(RoundSumMismatch):
        verifier.verify(w, shapes, names, dataclasses.replace(claim, value=claim.value + 1), proof, _t())


def test_shifted_partial_sums_rejected():
    w, shapes, names, claim, tables = _run("Concat", {"axis": 1}, [(2, 3), (2, 5)])
    proof, _ = prover.prove(w, shapes, names, claim, [tables[n] for n in names], _t())
    s0, s1 = proof.partial_sums
    moved = dataclasses.replace(proof, partial_sums=(s0 + 1, s1 - 1))  # same total
    with pytest.raises(RoundSumMismatch):
        verifier.verify(w, shapes, names, claim, moved, _t())


def test_forged_wiring_value_rejected():
    w, shapes, names, claim, tables = _run("Transpose", {"perm": (1, 0, 2)}, [(3, 5, 2)])
    proof, _ = prover.prove(w, shapes, names, claim, [tables["x0"]], _t())
    sc = proof.sumchecks[0]
    x, wv = sc.final_values
    forged = dataclasses.replace(sc, final_values=(x * 2, wv / 2))
    with pytest.raises(FinalEvaluationMismatch, match="wiring"):
        verifier.verify(w, shapes, names, claim, dataclasses.replace(proof, sumchecks=(forged,)), _t())

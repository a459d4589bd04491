"""LogUp-GKR: honest runs (single, batched, function tables, odd lengths,
wide and signed ranges via limbs), kernels == naive references, and the
attack catalogue, each attack expecting its specific rejection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.errors import MalformedProof
from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.lookup import kernels, prover, reference, tables, verifier
from zkaudit.lookup import (
    ColumnClaimMismatch,
    DegenerateDenominator,
    GkrLayerMismatch,
    LeafMismatch,
    Lookup,
    LookupInstance,
    LookupProof,
    LookupShapeError,
    LookupSumNonZero,
    NotInTable,
    TableMismatch,
    TableSpec,
    soundness,
)
from zkaudit.lookup.limbs import RangeCheck
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck import FinalEvaluationMismatch, RoundSumMismatch
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

RANGE8 = TableSpec.range(8)
RELU = TableSpec.func("relu", 8)
SIGMOID = TableSpec.func("sigmoid", 8, scale_in=4, scale_out=6)


def _transcript(columns, mults) -> Transcript:
    """Stand-in for the caller: binds the statement and the committed data
    (here the data itself; a real caller absorbs PCS commitments)."""
    t = Transcript()
    t.absorb_statement("lookup-test", 1)
    for cols in columns:
        for c in cols:
            t.absorb_vec(b"test/column", c)
    for m in mults:
        t.absorb_vec(b"test/multiplicities", m)
    return t


def _run(inst, columns, mults=None, *, tamper=None, verify_inst=None):
    """Prove (with honest or given multiplicities), optionally tamper with the
    proof, round-trip the bytes, verify, then discharge the claims."""
    mults = prover.multiplicities(inst, columns) if mults is None else mults
    proof, pclaims = prover.prove(inst, columns, mults, _transcript(columns, mults))
    if tamper is not None:
        proof = tamper(proof)
    proof = LookupProof.from_bytes(proof.to_bytes())
    claims = verifier.verify(verify_inst or inst, proof, _transcript(columns, mults))
    claims.discharge(columns, mults)
    return proof, claims, pclaims


def _rows(spec: TableSpec, idx) -> list[np.ndarray]:
    idx = np.asarray(idx, dtype=np.int64)
    return [c[idx].copy() for c in spec.columns()]


# ------------------------------------------------------------------ honest


def test_single_range_lookup_and_claims_agree():
    inst = LookupInstance((TableSpec.range(4),), (Lookup(0, 5),))
    cols = [[vec.from_ints([5, 5, 5, 5, 5])]]
    m = prover.multiplicities(inst, cols)
    assert int(m[0][5]) == 5 and int(m[0].sum()) == 5
    proof, claims, pclaims = _run(inst, cols, m)
    assert claims == pclaims
    assert soundness(inst).bits > 100


@pytest.mark.parametrize("num_rows", [1, 3, 100, 256, 300, 1000])
def test_lengths_not_the_tables(num_rows):
    rng = np.random.default_rng(num_rows)
    inst = LookupInstance((RANGE8,), (Lookup(0, num_rows),))
    _run(inst, [[rng.integers(0, 256, num_rows, dtype=np.uint64)]])


def test_batched_tables_and_columns():
    rng = np.random.default_rng(1)
    r16 = TableSpec.range(16)
    inst = LookupInstance(
        (RANGE8, RELU, SIGMOID, r16),
        (Lookup(0, 37), Lookup(1, 500), Lookup(2, 64), Lookup(0, 1024), Lookup(3, 3000), Lookup(2, 5)),
    )
    cols = [
        [rng.integers(0, 256, 37, dtype=np.uint64)],
        _rows(RELU, rng.integers(0, 256, 500)),
        _rows(SIGMOID, rng.integers(0, 256, 64)),
        [rng.integers(0, 256, 1024, dtype=np.uint64)],
        [rng.integers(0, 1 << 16, 3000, dtype=np.uint64)],
        _rows(SIGMOID, [0, 255, 128, 127, 3]),
    ]
    _run(inst, cols)
    print(soundness(inst))


def test_function_tables_are_the_functions():
    x, y = (vec.to_signed(c) for c in SIGMOID.columns())
    assert x[0] == -128 and x[-1] == 127
    expect = np.rint(1 / (1 + np.exp(-x / 16.0)) * 64).astype(np.int64)
    assert np.array_equal(y, expect)
    rx, ry = (vec.to_signed(c) for c in RELU.columns())
    assert np.array_equal(ry, np.maximum(rx, 0))
    assert TableSpec.func("relu", 8).digest() == RELU.digest()  # deterministic
    assert len({t.digest() for t in (RANGE8, RELU, SIGMOID, TableSpec.func("sigmoid", 8, 4, 7))}) == 4


@pytest.mark.parametrize("spec", [RANGE8, RELU, SIGMOID, TableSpec.func("exp", 6, 2, 8)])
def test_verifier_table_evaluation_matches_generated(spec):
    rng = np.random.default_rng(0)
    point = [Fp2(int(a), int(b)) for a, b in vec.ext_random(spec.bits, rng)]
    assert spec.evaluate_columns(point) == [evaluate(c, point) for c in spec.columns()]


@pytest.mark.parametrize("bits, signed", [(32, False), (20, False), (32, True), (9, True)])
def test_limb_range_checks(bits, signed):
    rng = np.random.default_rng(bits)
    n = 700
    if signed:
        lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)
        ints = rng.integers(lo, hi, n, dtype=np.int64)
        ints[:4] = [lo, hi - 1, 0, -1]
        values = vec.from_int64(ints)
    else:
        values = rng.integers(0, 1 << bits, n, dtype=np.uint64)
        values[:2] = [0, (1 << bits) - 1]
    rc = RangeCheck(bits, n, signed)
    limbs = rc.decompose(values)
    _, claims, _ = _run(rc.instance(), limbs)
    value_claim = rc.recompose(claims)
    value_claim.check(values, "values")
    with pytest.raises(ColumnClaimMismatch):
        bumped = values.copy()
        bumped[5] = (int(bumped[5]) + 1) % P
        value_claim.check(bumped, "values")


def test_pair_layers_are_read_in_place_and_consuming_gives_the_same_proof():
    """A `pair_array` layer's four halves are a view (the sum-check reads the
    layer where it lies); any other pair is copied. Dropping each proven layer
    (`consume`) leaves the proof as it was."""
    from zkaudit.lookup import gkr

    rng = np.random.default_rng(11)
    p, q = gkr.pair_array(16)
    p[:], q[:] = vec.ext_random(16, rng), vec.ext_random(16, rng)
    view = gkr.halves(p, q)
    assert np.shares_memory(view, p) and np.shares_memory(view, q)
    assert np.array_equal(view, np.stack([p[:8], p[8:], q[:8], q[8:]]))
    loose = gkr.halves(p.copy(), q.copy())
    assert not np.shares_memory(loose, p) and np.array_equal(loose, view)
    proofs = []
    for consume in (False, True):
        layers = gkr.build_layers(p, q)
        t = Transcript()
        t.absorb_statement("lookup-test", 1)
        root, layer_proofs, point, end = gkr.prove(layers, t, consume=consume)
        proofs.append((root, [lp.to_bytes() for lp in layer_proofs], point, end, t.challenge_ext(b"after")))
        if consume:
            assert all(layer is None for layer in layers[:-1])
    assert proofs[0] == proofs[1]


def test_kernels_match_reference():
    rng = np.random.default_rng(3)
    p, q = vec.ext_random(16, rng), vec.ext_random(16, rng)
    outs = [(np.empty((8, 2), np.uint64), np.empty((8, 2), np.uint64)) for _ in range(2)]
    kernels.layer_up(p, q, *outs[0])
    reference.layer_up(p, q, *outs[1])
    assert all(np.array_equal(a, b) for a, b in zip(*outs))
    cols, coeffs = np.stack([vec.random(16, rng), vec.random(16, rng)]), vec.ext_random(2, rng)
    o1, o2 = np.empty((16, 2), np.uint64), np.empty((16, 2), np.uint64)
    kernels.leaf_denominators(cols, coeffs, np.uint64(5), np.uint64(P - 1), o1)
    reference.leaf_denominators(cols, coeffs, np.uint64(5), np.uint64(P - 1), o2)
    assert np.array_equal(o1, o2)


def test_honest_prover_refuses_rows_not_in_table():
    inst = LookupInstance((RANGE8,), (Lookup(0, 3),))
    with pytest.raises(NotInTable):
        prover.multiplicities(inst, [[vec.from_ints([1, 256, 2])]])
    with pytest.raises(NotInTable):
        RangeCheck(32, 2).decompose(vec.from_ints([1, 1 << 32]))
    inst = LookupInstance((RELU,), (Lookup(0, 2),))
    x, y = _rows(RELU, [3, 200])
    y[1] += np.uint64(1)
    with pytest.raises(NotInTable):
        prover.multiplicities(inst, [[x, y]])


# ------------------------------------------------------------------ attacks


def _honest_counts(inst, columns, skip_rows=None):
    """A cheating prover's multiplicities: honest counts over the rows that
    are in the table (rows outside simply go uncounted)."""
    out = [np.zeros(t.num_rows, np.uint64) for t in inst.tables]
    for lk, cols in zip(inst.lookups, columns):
        spec = inst.tables[lk.table]
        for i in range(lk.num_rows):
            row = [int(c[i]) for c in cols]
            try:
                (j,) = spec.row_indices([np.array([v], np.uint64) for v in row])
            except NotInTable:
                continue
            out[lk.table][j] += np.uint64(1)
    return out


def test_attack_value_outside_table():
    inst = LookupInstance((RANGE8,), (Lookup(0, 4),))
    cols = [[vec.from_ints([1, 2, 300, 4])]]
    with pytest.raises(LookupSumNonZero):
        _run(inst, cols, _honest_counts(inst, cols))


@pytest.mark.parametrize(
    "mults",
    [
        {5: 5},  # count the four 5s and the outsider as a fifth 5
        {5: 4, 4: 1},  # put the outsider's weight on a neighbour
        {5: 4, 15: 1},  # ... or on the table's edge (20 = 15 + 5)
    ],
)
def test_attack_multiplicities_balance_the_count(mults):
    inst = LookupInstance((TableSpec.range(4),), (Lookup(0, 5),))
    cols = [[vec.from_ints([5, 5, 5, 5, 20])]]
    m = np.zeros(16, np.uint64)
    for j, v in mults.items():
        m[j] = v
    with pytest.raises(LookupSumNonZero):
        _run(inst, cols, [m])


def test_attack_negative_multiplicity():
    inst = LookupInstance((TableSpec.range(4),), (Lookup(0, 4),))
    cols = [[vec.from_ints([5, 5, 5, 20])]]
    m = np.zeros(16, np.uint64)
    m[5], m[4] = 4, P - 1  # 4/(a-5) - 1/(a-4): total weight 3, but not the rows' fractions
    with pytest.raises(LookupSumNonZero):
        _run(inst, cols, [m])
    m = np.zeros(16, np.uint64)
    m[5], m[6] = 3, P - 1  # an extra -1 anywhere unbalances the sum
    cols = [[vec.from_ints([5, 5, 5, 6])]]
    m[6] = np.uint64(P - 1)
    with pytest.raises(LookupSumNonZero):
        _run(inst, cols, [m])


def test_attack_in_range_only_mod_p():
    inst = LookupInstance((RANGE8,), (Lookup(0, 3),))
    cols = [[vec.from_ints([7, -3, 9])]]  # -3 = p - 3, "3 below zero"
    with pytest.raises(LookupSumNonZero):
        _run(inst, cols, _honest_counts(inst, cols))


def test_attack_wraparound_through_limbs():
    """v = p - 1 has 16-bit 'limbs' l0 + 2^16 l1 = v mod p only with l1 out of range."""
    rc = RangeCheck(32, 2)
    values = vec.from_ints([12345, P - 1])
    l0 = np.array([12345, 0xFFFF], np.uint64)
    l1 = np.array([0, ((P - 1 - 0xFFFF) * pow(1 << 16, P - 2, P)) % P], np.uint64)
    assert (int(l0[1]) + (int(l1[1]) << 16)) % P == P - 1
    inst, limbs = rc.instance(), [[l0], [l1]]
    with pytest.raises(LookupSumNonZero):
        _run(inst, limbs, _honest_counts(inst, limbs))
    # With in-range limbs instead, the recomposition claim fails against v.
    honest = rc.decompose(vec.from_ints([12345, 0xFFFFFFFF]))
    _, claims, _ = _run(inst, honest)
    with pytest.raises(ColumnClaimMismatch):
        rc.recompose(claims).check(values, "values")


def test_attack_non_canonical_zero():
    inst = LookupInstance((RANGE8,), (Lookup(0, 2),))
    with pytest.raises(ValueError, match="non-canonical"):
        prover.multiplicities(inst, [[np.array([0, P], np.uint64)]])  # p is 'zero' too
    with pytest.raises(ValueError, match="non-canonical"):
        RangeCheck(8, 1, signed=True).decompose(np.array([P], np.uint64))
    assert int(vec.from_int64(np.array([-0]))[0]) == 0  # the one zero
    # A proof carrying a value as p instead of 0 does not parse.
    cols = [[vec.from_ints([0, 0])]]
    proof, _, _ = _run(inst, cols)
    data = bytearray(proof.to_bytes())
    zero_at = data.rfind(Fp2(0).to_bytes()[:8])  # some zero word: the last multiplicity's c1
    data[zero_at : zero_at + 8] = P.to_bytes(8, "little")
    with pytest.raises(MalformedProof):
        LookupProof.from_bytes(bytes(data))


def test_attack_function_output_wrong():
    inst = LookupInstance((SIGMOID,), (Lookup(0, 3),))
    x, y = _rows(SIGMOID, [10, 100, 200])
    y[1] = (y[1] + np.uint64(1)) % np.uint64(P)
    m = prover.multiplicities(inst, [_rows(SIGMOID, [10, 100, 200])])  # counts for the right inputs
    with pytest.raises(LookupSumNonZero):
        _run(inst, [[x, y]], m)


def test_attack_swapped_table(monkeypatch):
    # The verifier's instance names another table: rejected by digest.
    inst = LookupInstance((RELU,), (Lookup(0, 3),))
    cols = [_rows(RELU, [0, 200, 255])]
    with pytest.raises(TableMismatch):
        _run(inst, cols, verify_inst=LookupInstance((SIGMOID,), (Lookup(0, 3),)))
    # A prover that uses relu's rows but labels them sigmoid: the verifier's own
    # evaluation of the sigmoid table does not match the leaves.
    sig = LookupInstance((SIGMOID,), (Lookup(0, 3),))
    m = prover.multiplicities(inst, cols)
    with monkeypatch.context() as mp:
        mp.setattr(TableSpec, "columns", lambda self: tables._generate(RELU))
        proof, _ = prover.prove(sig, cols, m, _transcript(cols, m))
    with pytest.raises(LeafMismatch):
        verifier.verify(sig, proof, _transcript(cols, m))
    # Replacing the digest in a proof changes every challenge.
    honest, _, _ = _run(inst, cols)
    swapped = dataclasses.replace(honest, table_digests=(SIGMOID.digest(),))
    with pytest.raises((RoundSumMismatch, FinalEvaluationMismatch)):
        verifier.verify(sig, swapped, _transcript(cols, m))


def _honest_proof():
    inst = LookupInstance((RANGE8, RELU), (Lookup(0, 40), Lookup(1, 20)))
    rng = np.random.default_rng(9)
    cols = [[rng.integers(0, 256, 40, dtype=np.uint64)], _rows(RELU, rng.integers(0, 256, 20))]
    m = prover.multiplicities(inst, cols)
    proof, _ = prover.prove(inst, cols, m, _transcript(cols, m))
    return inst, cols, m, proof


def _verify(inst, cols, m, proof):
    verifier.verify(inst, LookupProof.from_bytes(proof.to_bytes()), _transcript(cols, m)).discharge(cols, m)


def _with_layer(proof, k, layer, tree=0):
    layers = [list(t) for t in proof.layers]
    layers[tree][k - 1] = layer
    return dataclasses.replace(proof, layers=tuple(map(tuple, layers)))


def test_attack_tampered_round_message():
    inst, cols, m, proof = _honest_proof()
    _verify(inst, cols, m, proof)
    assert len(proof.layers) == 3  # 256 + 256 table rows, 64 and 32 lookup leaves: three trees
    for k in (3, len(proof.layers[0])):
        layer = proof.layers[0][k - 1]
        rounds = [list(r) for r in layer.round_evals]
        rounds[1][0] = rounds[1][0] + 1  # breaks g(0) + g(1) = claim
        bad = _with_layer(proof, k, SumcheckProof(tuple(map(tuple, rounds)), layer.final_values))
        with pytest.raises(RoundSumMismatch) as e:
            _verify(inst, cols, m, bad)
        assert f"tree 0 gkr layer {k}" in str(e.value)


def test_attack_tampered_final_values():
    inst, cols, m, proof = _honest_proof()
    layer = proof.layers[0][4]
    finals = list(layer.final_values)
    finals[2] = finals[2] + 1
    with pytest.raises(FinalEvaluationMismatch):
        _verify(inst, cols, m, _with_layer(proof, 5, SumcheckProof(layer.round_evals, tuple(finals))))


def test_attack_wrong_eq_value_rescaled():
    """Layer 1 has no rounds: eq -> 2 eq, p_L -> p_L/2, q_L -> q_L/2 keeps the
    combination, so only the verifier's own eq(rho, rho') catches it."""
    inst, cols, m, proof = _honest_proof()
    eq, pl, pr, ql, qr = proof.layers[0][0].final_values
    half = Fp2(2).inverse()
    forged = SumcheckProof((), (eq * 2, pl * half, pr, ql * half, qr))
    with pytest.raises(GkrLayerMismatch):
        _verify(inst, cols, m, _with_layer(proof, 1, forged))


def _with_root(proof, tree, root):
    roots = list(proof.roots)
    roots[tree] = root
    return dataclasses.replace(proof, roots=tuple(roots))


def test_attack_tampered_root():
    inst, cols, m, proof = _honest_proof()
    p, q = proof.roots[1]
    with pytest.raises(LookupSumNonZero):
        _verify(inst, cols, m, _with_root(proof, 1, (p + 1, q)))
    with pytest.raises(DegenerateDenominator):
        _verify(inst, cols, m, _with_root(proof, 1, (p, Fp2(0))))
    # Scaling (p, q) keeps the fractions' sum at zero: the tree's first layer catches it.
    with pytest.raises(FinalEvaluationMismatch):
        _verify(inst, cols, m, _with_root(proof, 1, (p * 2, q * 2)))


def test_attack_false_root_zero_for_rows_outside():
    """A prover whose true sum is non-zero forges a root that balances it."""
    inst = LookupInstance((RANGE8,), (Lookup(0, 4),))
    cols = [[vec.from_ints([1, 2, 300, 4])]]
    m = _honest_counts(inst, cols)
    proof, _ = prover.prove(inst, cols, m, _transcript(cols, m))
    (p0, q0), (p1, q1) = proof.roots
    assert p0 * q1 + p1 * q0 != 0
    forged = _with_root(proof, 1, (-(p0 * q1) / q0, q1))
    with pytest.raises(FinalEvaluationMismatch):
        verifier.verify(inst, forged, _transcript(cols, m))


def test_attack_tampered_leaf_values_and_claims():
    inst, cols, m, proof = _honest_proof()
    bad_cols = ((proof.column_values[0][0] + 1,), proof.column_values[1])
    with pytest.raises(LeafMismatch):
        _verify(inst, cols, m, dataclasses.replace(proof, column_values=bad_cols))
    bad_m = (proof.multiplicity_values[0], proof.multiplicity_values[1] + 1)
    with pytest.raises(LeafMismatch):
        _verify(inst, cols, m, dataclasses.replace(proof, multiplicity_values=bad_m))
    # Honest proof, but the caller's committed data differs from what was proven.
    other = [[cols[0][0].copy()], cols[1]]
    other[0][0][0] = (other[0][0][0] + np.uint64(1)) % np.uint64(256)
    claims = verifier.verify(inst, proof, _transcript(cols, m))
    with pytest.raises(ColumnClaimMismatch):
        claims.discharge(other, m)


def test_attack_shapes_and_bytes():
    inst, cols, m, proof = _honest_proof()
    with pytest.raises(LookupShapeError):
        _verify(inst, cols, m, dataclasses.replace(proof, layers=(proof.layers[0][:-1],) + proof.layers[1:]))
    with pytest.raises(LookupShapeError):
        _verify(inst, cols, m, dataclasses.replace(proof, multiplicity_values=proof.multiplicity_values[:1]))
    data = proof.to_bytes()
    with pytest.raises(MalformedProof):
        LookupProof.from_bytes(data + b"\x00")
    with pytest.raises(MalformedProof):
        LookupProof.from_bytes(data[:-1])
    with pytest.raises(MalformedProof):
        LookupProof.from_bytes(b"XXXX" + data[4:])


@pytest.mark.parametrize("leaves", [64, 1 << 14])  # serial kernels only; both parallel and serial
def test_fused_layer_prover_equals_generic_reference(leaves):
    from zkaudit.lookup import gkr
    assert leaves // 4 < kernels.SERIAL_PAIRS or leaves // 4 >= 2 * kernels.SERIAL_PAIRS
    rng = np.random.default_rng(11)
    p, q = vec.ext_random(leaves, rng), vec.ext_random(leaves, rng)
    layers = gkr.build_layers(p, q)
    outs = []
    for impl in (gkr.fused_layer_prove, gkr.reference_layer_prove):
        t = Transcript()
        t.absorb_statement("gkr", 1)
        outs.append(gkr.prove(layers, t, layer_prove=impl) + (t.state_digest(),))
    assert outs[0] == outs[1]
    assert [lp.to_bytes() for lp in outs[0][1]] == [lp.to_bytes() for lp in outs[1][1]]


def test_layout_packs_trees_without_padding():
    inst = LookupInstance((TableSpec.range(16),), (Lookup(0, 1 << 20),))
    tree_vars, segs = inst.layout()
    assert tree_vars == (20, 16) and [(s.tree, s.offset) for s in segs] == [(0, 0), (1, 0)]
    inst = LookupInstance((RANGE8, RELU), (Lookup(0, 40), Lookup(1, 20), Lookup(0, 3)))
    tree_vars, segs = inst.layout()
    assert sum(1 << v for v in tree_vars) == sum(1 << s.num_vars for s in segs)
    for s in segs:
        assert s.offset % (1 << s.num_vars) == 0 and s.offset + (1 << s.num_vars) <= 1 << tree_vars[s.tree]


def test_limbs_in_different_trees_recompose_at_a_fresh_point():
    # 2^10 rows in three 16-bit limbs plus the 2^16 range table: 2^16 + 3 * 2^10
    # leaves pack into trees of 2^16, 2^11 and 2^10, so the limb claims land
    # at different points. `recompose` says so; `recompose_at` recomposes at
    # a fresh point.
    n = 1 << 10
    rng = np.random.default_rng(21)
    values = rng.integers(0, 1 << 48, n, dtype=np.uint64)
    rc = RangeCheck(48, n)
    limbs = rc.decompose(values)
    _, claims, _ = _run(rc.instance(), limbs)
    points = {claims.columns[j][0].point for j in range(3)}
    assert len(points) > 1, "this layout is meant to split the limbs across trees"
    with pytest.raises(LookupShapeError, match="recompose_at"):
        rc.recompose(claims)
    z = [Fp2(int(a), int(b)) for a, b in vec.ext_random(10, rng)]
    limb_values = [evaluate(col[0], z) for col in limbs]  # extension point: values in GF(p^2)
    rc.recompose_at(z, limb_values).check(values, "values")
    with pytest.raises(ColumnClaimMismatch):
        rc.recompose_at(z, [limb_values[0] + 1, *limb_values[1:]]).check(values, "values")

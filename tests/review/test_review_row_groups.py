"""Review of 745a17a and b0e009d: the hiding opening's batching sum-check
grouped by row point (`hiding.row_groups` / `group_coeffs` / `combine_dots`,
regrouped by `hiding_verifier.verify_hiding`), the cached row bits, the
verifier's cheaper block test (`pcs.verifier._inner_with_row`), the lookup's
memoized segment selectors (`lookup.protocol.leaf_sums`), `hidden_sum`, and
the recurrent layers' shared weight tensors (`onnx.ops_recurrent._Cell.weight`).

Each test is an attempt to make a verifier accept something false and
expects a rejection (or checks a rewritten computation against the one it
replaced, where the rewrite itself is what a forgery would exploit)."""

from __future__ import annotations

import dataclasses
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.pcs import Claim, PcsParams, commit, hiding, open, verify  # noqa: A004
from zkaudit.pcs import prover as pcs_prover
from zkaudit.pcs.errors import EvaluationMismatch, EvaluationRowMismatch, PcsRejected
from zkaudit.pcs.hiding import LinearClaim, WeightedClaim
from zkaudit.transcript import Transcript

ZK = PcsParams.default_hiding()


def _transcript(tag="review-row-groups") -> Transcript:
    t = Transcript()
    t.absorb_statement(tag, 1, digests={"c": b"\0" * 32})
    return t


def _fp2(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


@pytest.fixture(scope="module")
def small():
    """Four 8-entry tables (all on one matrix row with their masks) plus a
    wide one: many claims share a row point."""
    rng = np.random.default_rng(745)
    tables = [vec.random(1 << 3, rng) for _ in range(4)] + [vec.random(1 << 12, rng)]
    c, data = commit(tables, ZK)
    return tables, c, data, rng


def _entry(tables, t, k, delta=0):
    return WeightedClaim(t, k, (Fp2(1),), Fp2(int(tables[t][k])) + Fp2(delta))


def _pt(rng, v):
    return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(v, rng))


def _mixed_claims(tables, data, rng):
    """Weighted, masked and linear claims, most of them on one row point."""
    claims = [_entry(tables, t, k) for t in range(4) for k in (0, 5, 7)]
    for t in range(4):
        p = _pt(rng, 3)
        claims.append(Claim(t, p, data.masked_value(t, p)))
    p = _pt(rng, 12)
    claims.append(Claim(4, p, data.masked_value(4, p)))
    claims.append(LinearClaim((), ((0, 1, Fp2(3)), (2, 6, Fp2(0, 5))),
                              Fp2(3) * Fp2(int(tables[0][1])) + Fp2(0, 5) * Fp2(int(tables[2][6]))))
    claims.append(_entry(tables, 4, 4095))
    return claims


def _groups(data, claims):
    flat = [t for ts in hiding.claim_terms(data.layout, data.num_tables, claims, ZK,
                                           (data.domain_rows - 1).bit_length()) for t in ts]
    return flat, hiding.row_groups(flat)


def test_honest_mixed_claims_are_accepted_and_do_share_rows(small):
    tables, c, data, rng = small
    claims = _mixed_claims(tables, data, rng)
    flat, groups = _groups(data, claims)
    assert any(len(g) > 3 for g in groups) and len(groups) < len(flat)
    verify(c, claims, open(data, claims, _transcript()), _transcript(), ZK)


@pytest.mark.parametrize("which", [0, 5, 11, 12, 16, 17, 18])
def test_one_false_claim_among_row_sharing_claims_is_rejected(small, which):
    """Every position of a grouped row (first member, later members, a masked
    claim, the wide table, a linear claim) and an honest open of the lie."""
    tables, c, data, rng = small
    claims = _mixed_claims(tables, data, rng)
    bad = list(claims)
    x = bad[which]
    bad[which] = dataclasses.replace(x, value=x.value + Fp2(0, 1))
    with pytest.raises(PcsRejected):
        verify(c, bad, open(data, bad, _transcript()), _transcript(), ZK)


def test_duplicated_false_claims_on_one_row_are_rejected(small):
    tables, c, data, _ = small
    bad = [_entry(tables, 1, 2, 1)] * 3 + [_entry(tables, 1, 3)]
    with pytest.raises(PcsRejected):
        verify(c, bad, open(data, bad, _transcript()), _transcript(), ZK)
    good = [_entry(tables, 1, 2)] * 3 + [_entry(tables, 1, 3)]
    verify(c, good, open(data, good, _transcript()), _transcript(), ZK)


def test_two_opposite_lies_on_one_row_are_rejected(small):
    """+d on one claim, -d on another of the same row (the batching powers are
    drawn after the claims, so they do not cancel)."""
    tables, c, data, _ = small
    bad = [_entry(tables, 0, 0, 5), _entry(tables, 1, 0, -5), _entry(tables, 2, 3)]
    with pytest.raises(PcsRejected):
        verify(c, bad, open(data, bad, _transcript()), _transcript(), ZK)


def _final_tamper(c, data, claims, edit):
    proof = open(data, claims, _transcript())
    values = list(proof.sumcheck.final_values)
    edit(values)
    sc = dataclasses.replace(proof.sumcheck, final_values=tuple(values))
    return dataclasses.replace(proof, sumcheck=sc)


def test_product_preserving_rescale_of_a_merged_pair_is_rejected(small):
    """(eq, column) of a merged group -> (k eq, column / k): the sum-check's
    end value is unchanged; the verifier's own eq(Y_G, rho) must catch it."""
    tables, c, data, rng = small
    claims = _mixed_claims(tables, data, rng)
    _, groups = _groups(data, claims)
    j = next(i for i, g in enumerate(groups) if len(g) > 1)
    k = Fp2(3, 1)

    def edit(v):
        v[2 * j], v[2 * j + 1] = v[2 * j] * k, v[2 * j + 1] * k.inverse()

    with pytest.raises(EvaluationMismatch):
        verify(c, claims, _final_tamper(c, data, claims, edit), _transcript(), ZK)


def test_swapping_two_merged_pairs_with_coefficient_one_is_rejected(small):
    """Two merged groups both have sum-check coefficient 1: swapping their
    final pairs keeps the end value; the per-pair check must notice."""
    tables, c, data, rng = small
    claims = [_entry(tables, 0, 1), _entry(tables, 1, 1), _entry(tables, 4, 0), _entry(tables, 4, 1),
              _entry(tables, 4, 4000), _entry(tables, 4, 4001)]
    _, groups = _groups(data, claims)
    merged = [i for i, g in enumerate(groups) if len(g) > 1]
    assert len(merged) >= 2
    a, b = merged[:2]

    def edit(v):
        v[2 * a], v[2 * b] = v[2 * b], v[2 * a]
        v[2 * a + 1], v[2 * b + 1] = v[2 * b + 1], v[2 * a + 1]

    with pytest.raises(EvaluationMismatch):
        verify(c, claims, _final_tamper(c, data, claims, edit), _transcript(), ZK)


def test_shifting_value_between_merged_column_sides_is_rejected(small):
    """Column side of group a + d, of group b - d eq_a / eq_b: same end value."""
    tables, c, data, rng = small
    claims = _mixed_claims(tables, data, rng) + [_entry(tables, 4, 4000), _entry(tables, 4, 4001)]
    _, groups = _groups(data, claims)
    merged = [i for i, g in enumerate(groups) if len(g) > 1]
    a, b = merged[:2]
    d = Fp2(17, 4)

    def edit(v):
        v[2 * a + 1] = v[2 * a + 1] + d
        v[2 * b + 1] = v[2 * b + 1] - d * v[2 * a] * v[2 * b].inverse()

    with pytest.raises(EvaluationMismatch):
        verify(c, claims, _final_tamper(c, data, claims, edit), _transcript(), ZK)


def _pair_sum(tables, coeffs):
    acc = Fp2(0)
    for j, cj in enumerate(coeffs):
        a, b = tables[2 * j], tables[2 * j + 1]
        a = a if a.ndim == 2 else np.stack([a, np.zeros_like(a)], axis=1)
        b = b if b.ndim == 2 else np.stack([b, np.zeros_like(b)], axis=1)
        s = Fp2(0)
        for y in range(a.shape[0]):
            s = s + Fp2(int(a[y, 0]), int(a[y, 1])) * Fp2(int(b[y, 0]), int(b[y, 1]))
        acc = acc + cj * s
    return acc


@pytest.mark.parametrize("fix_eval_row", [False, True])
def test_lie_absorbed_into_a_merged_column_side_is_rejected(small, monkeypatch, fix_eval_row):
    """A malicious prover: one false claim among claims on the same row; it
    adds the whole discrepancy to that row's entry of the merged column side
    (eq(Y_G, y) is one-hot there), so the sum-check itself is honest for its
    tables. With fix_eval_row it also edits the evaluation row so the merged
    column value at rho matches what the verifier recomputes."""
    tables, c, data, _ = small
    claims = [_entry(tables, 0, 2), _entry(tables, 1, 4, 9), _entry(tables, 3, 6)]
    lie = 1  # flat index of the lying term (one term per weighted claim)
    seen = {}
    real_prove_pairs, real_group_coeffs, real_combine_rows = hiding.prove_pairs, hiding.group_coeffs, \
        pcs_prover.combine_rows

    def group_coeffs(groups, coeffs):
        seen["groups"], seen["coeffs"] = groups, list(coeffs)
        return real_group_coeffs(groups, coeffs)

    def prove_pairs(tabs, coeffs, transcript, *, claimed_sum):
        tabs = [t.copy() for t in tabs]
        diff = claimed_sum - _pair_sum(tabs, coeffs)
        j = next(i for i, g in enumerate(seen["groups"]) if lie in g)
        eq_tab = tabs[2 * j]
        r = int(np.nonzero(eq_tab[:, 0])[0][0])  # one-hot row
        fix = diff * coeffs[j].inverse()
        cur = Fp2(int(tabs[2 * j + 1][r, 0]), int(tabs[2 * j + 1][r, 1])) + fix
        tabs[2 * j + 1][r] = (cur.c0, cur.c1)
        assert _pair_sum(tabs, coeffs) == claimed_sum
        sc, ev = real_prove_pairs(tabs, coeffs, transcript, claimed_sum=claimed_sum)
        seen["rho"], seen["fix"], seen["row"] = list(ev.point), fix, r
        return sc, ev

    def combine_rows(matrix, weights):
        u = real_combine_rows(matrix, weights)
        if fix_eval_row and "rho" in seen and weights.shape[0] == data.domain_rows:
            from zkaudit.poly.mle import eq_bits

            col = data.layout.placements[1].col + 4
            e = eq_bits(seen["row"], seen["rho"])
            du = seen["fix"] * e * seen["coeffs"][lie].inverse()
            cur = Fp2(int(u[col, 0]), int(u[col, 1])) + du
            u[col] = (cur.c0, cur.c1)
        return u

    monkeypatch.setattr(hiding, "group_coeffs", group_coeffs)
    monkeypatch.setattr(hiding, "prove_pairs", prove_pairs)
    monkeypatch.setattr(pcs_prover, "combine_rows", combine_rows)
    proof = open(data, claims, _transcript())
    monkeypatch.undo()
    with pytest.raises(PcsRejected) as e:
        verify(c, claims, proof, _transcript(), ZK)
    # without the row edit the final-value check catches it; with it, the
    # columns (the edited row is not the committed rows' combination)
    assert isinstance(e.value, EvaluationRowMismatch if fix_eval_row else EvaluationMismatch)


def test_control_the_absorbing_prover_passes_the_sum_check_on_true_claims(small, monkeypatch):
    """Control for the test above: with no lie the patched prover adds 0 and
    the proof is accepted (the attack harness itself is faithful)."""
    tables, c, data, _ = small
    claims = [_entry(tables, 0, 2), _entry(tables, 1, 4), _entry(tables, 3, 6)]
    real = hiding.prove_pairs

    def prove_pairs(tabs, coeffs, transcript, *, claimed_sum):
        assert _pair_sum(tabs, coeffs) == claimed_sum
        return real(tabs, coeffs, transcript, claimed_sum=claimed_sum)

    monkeypatch.setattr(hiding, "prove_pairs", prove_pairs)
    proof = open(data, claims, _transcript())
    monkeypatch.undo()
    verify(c, claims, proof, _transcript(), ZK)


def test_claims_at_boolean_and_near_boolean_points(small):
    """Row points made of 0/1 coordinates coincide with weighted terms' row
    bits (they group together); coordinates X, 1 + X, 2 must not be taken
    for block bits by the cheaper test (c1 == 0 and c0 < 2)."""
    tables, c, data, rng = small
    pts = [(Fp2(0), Fp2(1), Fp2(1)), (Fp2(0, 1), Fp2(1, 1), Fp2(1)), (Fp2(2), Fp2(1), Fp2(0)),
           (Fp2(1), Fp2(0), Fp2(P - 1))]
    for pt in pts:
        claims = [Claim(2, pt, data.masked_value(2, pt)), _entry(tables, 2, 1), _entry(tables, 3, 0)]
        verify(c, claims, open(data, claims, _transcript()), _transcript(), ZK)
        bad = list(claims)
        bad[0] = Claim(2, pt, claims[0].value + Fp2(1))
        with pytest.raises(PcsRejected):
            verify(c, bad, open(data, bad, _transcript()), _transcript(), ZK)
    # a wide table whose row coordinates are Boolean: its row point is a bit tuple
    p = (Fp2(1),) * 4 + _pt(rng, 8)
    claims = [Claim(4, p, data.masked_value(4, p)), _entry(tables, 4, 4095)]
    verify(c, claims, open(data, claims, _transcript()), _transcript(), ZK)
    bad = [Claim(4, p, claims[0].value + Fp2(1)), claims[1]]
    with pytest.raises(PcsRejected):
        verify(c, bad, open(data, bad, _transcript()), _transcript(), ZK)


def test_duplicated_linear_entries_count_twice_for_the_verifier(small):
    """A LinearClaim naming one entry twice: the verifier sums both weights
    (row_values), so a value that counts the entry once must be refused.
    The true value (the entry counted twice) is proven and accepted: the
    claim merges a repeated entry into one weight, the sum (the prover's
    `col_block` holds one weight per entry; it once kept only the last)."""
    tables, c, data, _ = small
    f = Fp2(int(tables[0][3]))
    once = [LinearClaim((), ((0, 3, Fp2(1)), (0, 3, Fp2(1))), f), _entry(tables, 0, 4)]
    with pytest.raises(PcsRejected):
        verify(c, once, open(data, once, _transcript()), _transcript(), ZK)
    twice = [LinearClaim((), ((0, 3, Fp2(1)), (0, 3, Fp2(1))), f + f), _entry(tables, 0, 4)]
    assert twice[0].entries == ((0, 3, Fp2(2)),)
    verify(c, twice, open(data, twice, _transcript()), _transcript(), ZK)


def test_block_test_equals_the_eq_table_reference():
    from zkaudit.pcs.verifier import _inner_with_row, _inner_with_row_reference

    rng = np.random.default_rng(5)
    row = vec.ext_random(1 << 5, rng)
    specials = [Fp2(0), Fp2(1), Fp2(0, 1), Fp2(1, 1), Fp2(2), Fp2(P - 1), Fp2(1, P - 1)]
    pts = []
    for _ in range(40):
        pts.append([random.Random(len(pts)).choice(specials + [Fp2(int(a), int(b)) for a, b in
                                                               vec.ext_random(1, rng)]) for _ in range(5)])
    pts += [[Fp2(1)] * 5, [Fp2(0)] * 5, [Fp2(0, 1)] * 5, [Fp2(1), Fp2(0, 1), Fp2(0), Fp2(1), Fp2(1)]]
    assert _inner_with_row(pts, row) == _inner_with_row_reference(pts, row)


def test_bit_tuple_cache_is_not_aliased_by_width():
    from zkaudit.pcs.layout import bit_tuple

    assert bit_tuple(1, 3) == (Fp2(0), Fp2(0), Fp2(1))
    assert bit_tuple(1, 4) == (Fp2(0), Fp2(0), Fp2(0), Fp2(1))
    assert bit_tuple(5, 2) == (Fp2(0), Fp2(1))  # high bits beyond the width are dropped, as _bits did


def test_plain_weight_pcs_rejects_false_claims_at_near_boolean_points():
    """The plain commitment (weights) shares `_inner_with_row`."""
    from zkaudit.poly.mle import evaluate

    rng = np.random.default_rng(8)
    tables = [vec.random(1 << 3, rng), vec.random(1 << 10, rng)]
    params = PcsParams.default()
    c, data = commit(tables, params)
    for pt in [(Fp2(0, 1), Fp2(1), Fp2(0)), (Fp2(1, 1), Fp2(0), Fp2(2))]:
        v = _fp2(evaluate(tables[0], list(pt)))
        ok = [Claim(0, pt, v)]
        verify(c, ok, open(data, ok, _transcript()), _transcript(), params)
        bad = [Claim(0, pt, v + Fp2(1))]
        with pytest.raises(PcsRejected):
            verify(c, bad, open(data, bad, _transcript()), _transcript(), params)


# ------------------------------------------------------------ lookup selectors


def _old_leaf_sums(instance, ends, column_values, multiplicity_values, alpha, beta):
    """leaf_sums before 745a17a / b0e009d: eq_bits per segment, left-to-right sums."""
    from zkaudit.lookup.protocol import row_combiners
    from zkaudit.poly.mle import eq_bits, prefix_indicator

    tree_vars, segments = instance.layout()
    w = instance.width
    comb = row_combiners(beta, w)
    p_leaf = [Fp2(0)] * len(tree_vars)
    q_leaf = [Fp2(0)] * len(tree_vars)
    for s in segments:
        point = ends[s.tree][0]
        cut = tree_vars[s.tree] - s.num_vars
        hi, lo = point[:cut], point[cut:]
        sel = eq_bits(s.offset >> s.num_vars, hi)
        if s.kind == "lookup":
            lk = instance.lookups[s.index]
            table, vals = lk.table, column_values[s.index]
            num = prefix_indicator(lk.num_rows, lo)
        else:
            table, vals = s.index, instance.tables[s.index].evaluate_columns(lo)
            num = -multiplicity_values[s.index]
        den = alpha - comb[w] * table
        for c_, v in enumerate(vals):
            den = -(comb[c_] * v) + den
        p_leaf[s.tree] = num * sel + p_leaf[s.tree]
        q_leaf[s.tree] = den * sel + q_leaf[s.tree]
    return p_leaf, q_leaf


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("hidden", [False, True])
def test_memoized_selectors_equal_the_per_segment_eq(hidden, shared):
    """Several trees (odd total sizes), many segments per tree sharing
    prefixes, Boolean end-point coordinates (a selector memo keyed wrongly
    would show there), Hidden column values (the zero-knowledge verifier);
    `shared`: one table object listed several times (a recurrent model's
    per-step tables), whose evaluations `leaf_sums` makes once per tree and
    size -- equal tables of other sizes and in other trees must not share."""
    from zkaudit.field.hidden import Hidden
    from zkaudit.lookup.protocol import Lookup, LookupInstance, leaf_sums, leaf_sums_reference
    from zkaudit.lookup.tables import TableSpec

    rng = random.Random(3)

    def r():
        return Fp2(rng.randrange(P), rng.randrange(P))

    relu, rng4 = TableSpec.func("relu", 4), TableSpec.range(4)
    tables = (((relu,) * 9 + (rng4, TableSpec.range(3), rng4, TableSpec.func("relu", 3))) if shared
              else (TableSpec.range(4), TableSpec.range(3), TableSpec.func("relu", 4)))
    inst = LookupInstance(tables, tuple(Lookup(rng.randrange(len(tables)), rng.choice([1, 2, 3, 5, 8, 13, 16, 31]))
                                        for _ in range(23)))
    if shared:  # the same table object in two trees: their points differ
        assert len({s.tree for s in inst.layout()[1] if s.kind == "table" and tables[s.index] is relu}) == 2
    tree_vars, segs = inst.layout()
    assert len(tree_vars) > 1 and len(segs) > len(tree_vars)
    for trial in range(4):
        ends = []
        for t, nv in enumerate(tree_vars):
            pt = [r() for _ in range(nv)]
            if trial >= 2:  # Boolean / repeated coordinates
                pt = [Fp2(rng.randrange(2)) if rng.random() < 0.5 else pt[0] for _ in range(nv)]
            ends.append((pt,))
        cols, mults = [], []
        for i, lk in enumerate(inst.lookups):
            w = inst.tables[lk.table].width
            if hidden:
                cols.append(tuple(Hidden(r(), [(("col", i * 4 + c), r())]) for c in range(w)))
            else:
                cols.append(tuple(r() for _ in range(w)))
        for j in range(len(inst.tables)):
            mults.append(Hidden(r(), [(("mult", j), r()), (("col", 0), r())]) if hidden else r())
        alpha, beta = r(), r()
        new = leaf_sums(inst, ends, cols, mults, alpha, beta)
        old = _old_leaf_sums(inst, ends, cols, mults, alpha, beta)
        ref = leaf_sums_reference(inst, ends, cols, mults, alpha, beta)
        for a, b in zip(new[0] + new[1], ref[0] + ref[1]):
            assert a == b and type(a) is type(b)
        for a, b in zip(new[0] + new[1], old[0] + old[1]):
            assert a == b and type(a) is type(b)
            if hidden:
                assert a.to_bytes() == b.to_bytes()


def test_hidden_sum_edge_cases():
    from zkaudit.field.hidden import Hidden, hidden_sum

    k1, k2 = ("advice", 1), ("advice", 2)
    h = Hidden(Fp2(3), [(k1, Fp2(2)), (k2, Fp2(5))])
    cases = [
        [h, -h],  # everything cancels: still a Hidden with no terms, as left to right
        [h * Fp2(0), Fp2(4)],  # a zeroed Hidden
        [Fp(7), h, 9, Fp2(0, 1)],  # base-field and int addends mixed in
        [h, Hidden(Fp2(0), [(k1, Fp2(P - 2))])],  # one key cancels, the other stays
        [Fp(1), Fp(2)],
    ]
    for vals in cases:
        naive = Fp2(0)
        for v in vals:
            v = _fp2(v) if isinstance(v, Fp) else (Fp2(v) if isinstance(v, int) else v)
            naive = v + naive
        got = hidden_sum(vals)
        assert got == naive and type(got) is type(naive)
        if isinstance(got, Hidden):
            assert got.terms == naive.terms and got.to_bytes() == naive.to_bytes()


# -------------------------------------------------- shared recurrent weights


def _tiny_gru(seq=4, *, zero_bias=False, tie_gates=False):
    """test_ops_recurrent's GRU over `seq` steps (each recurrent weight read
    by seq - 1 MatMuls)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "onnx"))
    import test_ops_recurrent as tor  # noqa: E402
    from oneop import circuit_ints, compiled, samples  # noqa: E402
    from onnx import numpy_helper

    m = tor._model("GRU", seq=seq)
    for init in m.graph.initializer:
        arr = numpy_helper.to_array(init).copy()
        if init.name == "B" and zero_bias:
            arr[:] = 0.0
        elif init.name == "W" and tie_gates:
            arr[0, 0:2] = arr[0, 2:4]  # the z gate's input rows = the r gate's
        else:
            continue
        init.CopyFrom(numpy_helper.from_array(arr, init.name))
    data = samples({"x": (seq, 1, 3)}, 16, lo=-2, hi=2)
    circuit, weights = compiled(m, data)
    feeds = {k: v[5] for k, v in data.items()}
    ints = {s.name: circuit_ints(s, feeds[s.name]) for s in circuit.inputs}
    return circuit, weights, ints


def _readers(circuit):
    names = [s.name for s in circuit.weights]
    return {n: sum(n in node.inputs for node in circuit.nodes) for n in names}


@pytest.mark.parametrize("target", ["/h/W", "/x/W", "/x/B"])
def test_flipped_shared_recurrent_weight_under_the_honest_commitment_is_rejected(monkeypatch, target):
    """The unrolled steps read one committed tensor: a prover that runs every
    step with W' (one entry changed) but presents the commitment and the
    prover data of W. The verifier must reject (each MatMul's claim on the
    shared tensor is opened against the committed W)."""
    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.inference import prover as iprover
    from zkaudit.statements.inference.prover import commit_weights, prove
    from zkaudit.statements.verify import verify_proof

    circuit, weights, ints = _tiny_gru()
    readers = _readers(circuit)
    shared = max((n for n in readers if target in n), key=lambda n: readers[n])
    assert readers[shared] >= 3
    com, data = commit_weights(circuit, weights)
    com_bytes = com.to_bytes()
    honest = prove(circuit, weights, ints, weight_commitment=com_bytes)
    assert verify_proof(honest, circuit_bin=encode_circuit(circuit), weight_commitment=com_bytes).valid

    flipped = dict(weights)
    w = np.array(weights[shared], copy=True)
    w.flat[-1] = -w.flat[-1] if w.flat[-1] else 1
    flipped[shared] = w
    real_commit = iprover.commit
    first = []

    def commit_honest_weights(tables, params, **kw):  # _prove commits the weights first
        if not first:
            first.append(1)
            assert len(tables) == len(circuit.weights)
            return com, data
        return real_commit(tables, params, **kw)

    monkeypatch.setattr(iprover, "commit", commit_honest_weights)
    try:
        forged = prove(circuit, flipped, ints, weight_commitment=com_bytes)
    finally:
        monkeypatch.undo()
    assert first
    verdict = verify_proof(forged, circuit_bin=encode_circuit(circuit), weight_commitment=com_bytes)
    assert not verdict.valid


def test_circuit_structure_does_not_depend_on_hidden_weight_values():
    """Two GRUs of one shape: the circuit (public, next to a hiding weight
    commitment) should read weights in the same pattern whatever their
    values. (Sharing was once keyed on the values: with zero biases or two
    equal gates the n gate read the z gate's bias tensor and the r gate the
    z gate's W. It is keyed on the weight's role now.)"""
    a, _, _ = _tiny_gru(3)
    b, _, _ = _tiny_gru(3, zero_bias=True, tie_gates=True)

    def pattern(c):
        return [len(c.weights)] + [tuple(i for i in n.inputs if i in {w.name for w in c.weights}) for n in c.nodes]

    assert pattern(a) == pattern(b)

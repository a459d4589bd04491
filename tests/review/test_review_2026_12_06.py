"""Review of the 2026-12-06 commits (npfield's branch-free arithmetic, the
int fast paths of the sum-check's end check, the verifier's kernel plan, the
codeword hashed by block): each fast path against its reference on the
values where a wrap or a dropped term would show -- field edges, a word
near 2^32 or 2^63, broadcast and aliased operands, a zero challenge, a
hidden claim with a public part -- and the streamed codeword against the
kept one on layouts the commit's own test does not cover."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import P, Fp2, vec
from zkaudit.field import npfield as nf
from zkaudit.field.constants import W
from zkaudit.field.hidden import Hidden
from zkaudit.field.randomness import random_fp2s

U64 = np.uint64

EDGE = [0, 1, 2, P - 2, P - 1, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, (1 << 63) - 1, 1 << 63, (1 << 63) + 1,
        P - (1 << 32), (1 << 64) - (1 << 33)]


def _ints(a) -> list[int]:
    return [int(x) for x in np.asarray(a).ravel()]


# ------------------------------------------------------------ npfield


def test_npfield_every_edge_pair_against_python_ints():
    """All pairs of edge words (both orders), so every carry and wrap of
    mul's middle sum, add's overflow and sub's borrow is taken."""
    e = np.array(EDGE, dtype=U64)
    a, b = np.repeat(e, len(e)), np.tile(e, len(e))
    ai, bi = _ints(a), _ints(b)
    assert _ints(nf.mul(a, b)) == [x * y % P for x, y in zip(ai, bi)]
    assert _ints(nf.add(a, b)) == [(x + y) % P for x, y in zip(ai, bi)]
    assert _ints(nf.sub(a, b)) == [(x - y) % P for x, y in zip(ai, bi)]
    for c in (0, 1, W, (1 << 31) + 3, (1 << 32) - 1):
        assert _ints(nf.mul_small(e, c)) == [x * c % P for x in EDGE]
    with pytest.raises(ValueError):
        nf.mul_small(e, 1 << 32)


def test_npfield_outputs_are_canonical_and_inputs_untouched_when_aliased():
    """The in-place steps write only fresh arrays: the same array passed as
    both operands is left as it was, and every output is below p."""
    e = np.array(EDGE, dtype=U64)
    keep = e.copy()
    for fn in (nf.mul, nf.add, nf.sub):
        out = fn(e, e)
        assert (out < U64(P)).all()
        assert np.array_equal(e, keep)
    assert _ints(nf.mul(e, e)) == [x * x % P for x in EDGE]
    assert _ints(nf.sub(e, e)) == [0] * len(EDGE)
    ext = np.stack([e, e[::-1]], axis=1).copy()
    ext_keep = ext.copy()
    sq = nf.ext_mul(ext, ext)
    assert np.array_equal(ext, ext_keep)
    want = [Fp2(int(x), int(y)) * Fp2(int(x), int(y)) for x, y in ext]
    assert [Fp2(int(x), int(y)) for x, y in sq] == want


def test_npfield_broadcasts_like_the_elementwise_reference():
    """(n, 1) against (m,), an extension row against a (2,) constant, and a
    Python int operand: the same values as element by element."""
    e = np.array(EDGE, dtype=U64)
    col, row = e[:, None], e[::-1]
    for fn, ref in ((nf.mul, lambda x, y: x * y), (nf.add, lambda x, y: x + y), (nf.sub, lambda x, y: x - y)):
        got = fn(col, row)
        assert got.shape == (len(EDGE), len(EDGE))
        assert [_ints(r) for r in got] == [[ref(x, y) % P for y in EDGE[::-1]] for x in EDGE]
        assert _ints(fn(e, P - 1)) == [ref(x, P - 1) % P for x in EDGE]
    ext = np.stack([e, e[::-1]], axis=1).copy()
    k = np.array([P - 1, (1 << 63) + 1], dtype=U64)
    got = nf.ext_mul(ext, k)
    assert [Fp2(int(x), int(y)) for x, y in got] == [Fp2(int(x), int(y)) * Fp2(P - 1, (1 << 63) + 1) for x, y in ext]


# ------------------------------------------------------------ sum-check end check


def _edge_points(n: int) -> list[Fp2]:
    edge = [Fp2(P - 1, P - 1), Fp2(1), Fp2(0, 1), Fp2(P - 1), Fp2(2, P - 1), Fp2(1 << 63, (1 << 32) + 1)]
    return (edge * n)[:n]


def test_vanishing_and_combine_on_field_edges():
    """The int paths reduce once per product: values at p - 1 in both
    coordinates (the largest intermediate products) against Fp2."""
    from zkaudit.sumcheck.claim import SumOfProducts
    from zkaudit.sumcheck.zk import vanishing, vanishing_reference

    for n in (1, 2, 6):
        assert vanishing(_edge_points(n)) == vanishing_reference(_edge_points(n))
    assert vanishing([Fp2(1), Fp2(P - 1, P - 1)]) == Fp2(0)  # 1 on the cube: Z = 0
    spec = SumOfProducts.of(3, [(Fp2(P - 1, P - 1), (0, 1, 2)), (Fp2(0, 1), (2, 2)), (P - 1, (1,))])
    for values in ([Fp2(P - 1, P - 1)] * 3, _edge_points(3), random_fp2s(3)):
        assert spec.combine(values) == spec.combine_reference(values)


@pytest.mark.parametrize("n,d", [(1, 1), (2, 3), (5, 2)])
def test_end_check_form_with_edge_points_and_three_banks(n, d):
    """The one-pass form against the expression at edge challenges (X,
    p - 1, 1) and a hidden claim over three banks, keys interleaving the
    mask's: the same constant and the same terms in the same order."""
    from zkaudit.sumcheck.zk import end_check_form, end_check_form_reference, mask_degrees

    degrees = mask_degrees(n, d)
    keys = [("advice", 10 + i) for i in range(1 + sum(degrees))]
    hidden = Hidden(Fp2(0), [(("advice", 3), Fp2(P - 1, P - 1)), (("advice", 10 + len(keys)), Fp2(0, 1)),
                             (("input", 0), Fp2(5)), (("weights", 2), Fp2(1 << 63))])
    for point in (_edge_points(n), random_fp2s(n)):
        for rho in (Fp2(P - 1, P - 1), Fp2(0, 1), random_fp2s(1)[0]):
            combined = random_fp2s(1)[0]
            fast = end_check_form(combined, rho, keys, point, degrees, hidden, n)
            ref = end_check_form_reference(combined, rho, keys, point, degrees, hidden, n)
            assert fast.const == ref.const and fast.terms == ref.terms


def test_the_end_check_callers_pass_a_claim_without_public_part():
    """`end_check_form` keeps only hidden_part's terms; both callers pass
    Hidden.of(claimed) minus its constant, so the dropped constant is 0."""
    claimed = Hidden(Fp2(7, 8), [(("advice", 1), Fp2(3))])
    hidden_part = Hidden.of(claimed) - Hidden.of(claimed).const
    assert hidden_part.const == Fp2(0)
    plain = Hidden.of(Fp2(9)) - Hidden.of(Fp2(9)).const
    assert plain.const == Fp2(0) and not plain.terms


def test_end_check_form_keeps_a_public_part_of_the_hidden_claim():
    """Review 2026-12-06 found the fast form dropping hidden_part.const
    (harmless while both callers strip the constant); fixed, kept as a test."""
    from zkaudit.sumcheck.zk import end_check_form, end_check_form_reference, mask_degrees

    n, d = 2, 1
    degrees = mask_degrees(n, d)
    keys = [("advice", 40 + i) for i in range(1 + sum(degrees))]
    point, rho, combined = [Fp2(3, 4), Fp2(5, 6)], Fp2(2, 1), Fp2(9)
    hidden = Hidden(Fp2(5), [(("advice", 1), Fp2(2))])
    fast = end_check_form(combined, rho, keys, point, degrees, hidden, n)
    ref = end_check_form_reference(combined, rho, keys, point, degrees, hidden, n)
    assert fast.const == ref.const and fast.terms == ref.terms


# ------------------------------------------------------------ verifier kernel plan


def test_verifier_kernels_numpy_and_numba_agree_at_p_minus_one():
    """The plan sends mid-sized verifications to the numpy paths (jobs past
    COLD_BELOW included) and big ones to numba: on all-(p - 1) tables, where
    sums of halves are at their largest, both give the same words."""
    from zkaudit.layers import kernels as lk
    from zkaudit.pcs import kernels as pk

    def same(numpy_fn, kernel, *args):
        a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        b = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        ra, rb = numpy_fn(*a), kernel(*b)
        if ra is not None or rb is not None:
            assert _ints(np.asarray(ra, dtype=U64)) == _ints(np.asarray(rb, dtype=U64))
        for x, y in zip(a, b):
            if isinstance(x, np.ndarray):
                assert np.array_equal(x, y)

    top = U64(P - 1)
    m, k = 64, 32
    base = np.full((m, k), top, dtype=U64)
    ext_m, ext_k = np.full((m, 2), top, dtype=U64), np.full((k, 2), top, dtype=U64)
    same(lk.vec_mat_numpy, lk._vec_mat, ext_m, base, np.empty((k, 2), U64))
    same(lk.mat_vec_numpy, lk._mat_vec, base, ext_k, np.empty((m, 2), U64))
    src_id = np.zeros(m, dtype=np.int64)
    src_idx = np.arange(m, dtype=np.int64) % 4  # every cell onto 4 sources: 16-fold collisions
    eq_s = np.full((4, 2), top, dtype=U64)
    same(lk.wiring_eval_numpy, lk._wiring_eval, ext_m, eq_s, src_id, src_idx, 0)
    same(lk.masked_eq_sum_numpy, lk._masked_eq_sum, ext_m, src_id, 0)
    same(lk.wiring_table_numpy, lk._wiring_table, ext_m, src_id, src_idx, 0, 4, np.zeros((4, 2), U64))
    same(pk.combine_rows_numpy, pk._combine_rows, base, ext_m, np.empty((k, 2), U64))
    same(pk.row_dots_numpy, pk._row_dots, base, np.full((3, k), top, dtype=U64), np.empty((3, m), U64))
    row = np.full((64, 2), top, dtype=U64)
    starts, logs = np.array([0, 32, 48, 63]), np.array([5, 4, 3, 0])
    points = np.full((4, 5, 2), top, dtype=U64)
    same(pk.eval_blocks_numpy, pk._eval_blocks, row, starts, logs, points, np.empty((4, 2), U64))


def test_a_proof_and_its_corruptions_verify_alike_on_numpy_paths_and_on_kernels(tmp_path, monkeypatch):
    """The plan's two ends on one proof: every job on the numpy paths (numba
    taken for not started, as in a fresh `zkaudit verify`) and every job
    from its threshold on the kernels. The proof is made in this process,
    which loads the kernels, and a loaded kernel is taken under any plan --
    so `warm` and `is_loaded` are masked for the numpy run, and the run is
    checked to take no kernel. The honest proof and a few corruptions get
    the same verdicts, reasons and outputs."""
    from pathlib import Path

    import zkaudit
    from zkaudit.field import jit

    src = Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
    zkaudit.compile(src / "model.onnx", tmp_path / "model", calibration=src / "calibration.npy")
    zkaudit.prove(tmp_path / "model", src / "input.json", out=tmp_path / "proof.zkp")
    data = (tmp_path / "proof.zkp").read_bytes()
    decide, taken = jit.use_kernel, []

    def recorded(n, threshold, kernel=None):
        taken.append(decide(n, threshold, kernel))
        return taken[-1]

    monkeypatch.setattr(jit, "use_kernel", recorded)

    def verdict(proof: bytes, numpy_only: bool):
        (tmp_path / "check.zkp").write_bytes(proof)
        taken.clear()
        with monkeypatch.context() as m:
            if numpy_only:
                m.setattr(jit, "warm", lambda: False)
                m.setattr(jit, "is_loaded", lambda kernel: False)
                m.setattr(jit, "PLAN_KERNELS_FROM", 1 << 62)
            else:
                m.setattr(jit, "PLAN_KERNELS_FROM", 1)
            v = zkaudit.verify(tmp_path / "check.zkp", circuit=tmp_path / "model")
        return (v.valid, v.reason, v.output), list(taken)

    honest_np, paths_np = verdict(data, True)
    honest_k, paths_k = verdict(data, False)
    assert honest_np[0] and honest_np == honest_k
    assert paths_np and not any(paths_np) and any(paths_k)  # the two runs took different paths
    rng = np.random.default_rng(12)
    for pos in rng.choice(len(data), 6, replace=False):
        bad = bytearray(data)
        bad[int(pos)] ^= 1 << int(rng.integers(0, 8))
        got_np, got_k = verdict(bytes(bad), True)[0], verdict(bytes(bad), False)[0]
        assert not got_np[0] and got_np == got_k


# ------------------------------------------------------------ codeword by block


@pytest.mark.parametrize("sizes,log_blowup", [([0], 1), ([1] * 9, 2), ([12], 3), ([5, 0, 0, 7, 3, 1], 1)])
def test_streamed_codeword_gives_the_kept_proof(sizes, log_blowup, monkeypatch):
    """Hashed a block at a time and encoded again at open: the same root and
    proof bytes as the kept codeword, for one table, many one-entry tables
    and mixed sizes, at rates 1/2, 1/4 and 1/8; and the re-encoded columns
    at positions in every block are the kept rows."""
    from zkaudit import poly
    from zkaudit.pcs import Claim, PcsParams, commit, open, prover, verify
    from zkaudit.transcript import Transcript

    params = PcsParams.for_security(80, log_blowup=log_blowup)
    rng = np.random.default_rng(len(sizes) * 10 + log_blowup)
    tables = [vec.random(1 << s, rng) for s in sizes]
    c, kept = commit(tables, params)
    claims = [Claim(i, pt, poly.evaluate(tables[i], pt))
              for i, s in enumerate(sizes)
              for pt in [tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(s, rng))]]

    def transcript():
        t = Transcript()
        t.absorb_statement("review", 1, commitments={"tables": c.to_bytes()})
        return t

    proof_kept = open(kept, claims, transcript()).to_bytes()
    monkeypatch.setattr(prover, "KEEP_CODEWORD_BYTES", 0)
    c2, streamed = commit(tables, params)
    assert streamed.codeword is None and c2 == c
    proof = open(streamed, claims, transcript())
    assert proof.to_bytes() == proof_kept
    verify(c, claims, proof, transcript(), params)
    n = kept.codeword.shape[0]
    m = n >> log_blowup  # a block (coset) is m consecutive leaves
    positions = sorted({t * m for t in range(1 << log_blowup)} | {n - 1} | {int(x) for x in rng.integers(0, n, 7)})
    cols, sib = prover.open_columns(streamed, positions)
    cols_kept, sib_kept = prover.open_columns(kept, positions)
    assert np.array_equal(cols, cols_kept) and sib == sib_kept


# ------------------------------------------------------------ factored tree selection


@pytest.mark.heavy
def test_factored_selection_non_one_hot_weights_give_the_executor_output_or_are_refused(monkeypatch):
    """A vendor's committed C and R need not be one-hot: two 1s in a
    column, -2 in C, R and the summing row (a coefficient of 8 on a feature,
    beyond the dense S's range of [-2, 1]) verify -- another committed model,
    as the dense S allowed, with the executor's output on it; a 2 (outside
    the declared weight range) and a padded node's column set in C and R
    together (a value in the padding of d) are refused."""
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1]
    monkeypatch.syspath_prepend(str(tests / "adversarial"))
    monkeypatch.syspath_prepend(str(tests / "onnx"))
    import zkaudit.onnx.ml_trees as ml_trees
    from malicious_prover import Attack
    from test_ml_trees import _export, _lowered

    from zkaudit.circuit import quantize
    from zkaudit.onnx.compile import import_model

    monkeypatch.setattr(ml_trees, "MIN_FACTORED_SAVING", 1)
    monkeypatch.setattr(ml_trees, "CONSTRUCTION", "dense")  # the factored selection is the dense construction's
    model, x = _export("decision_tree")
    circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                             "probabilities": (0.0, 1.0)}, name="m")
    attack = Attack(circuit, weights, {circuit.inputs[0].name: quantize(circuit.inputs[0], x[:1])})
    names = {s.name.rsplit("/", 1)[-1]: s.name for s in circuit.weights}
    col, row, neg = names["select_col"], names["select_row"], names["negate_sum"]
    rows, nodes = circuit.specs()[row].shape
    cols = circuit.specs()[col].shape[0]
    width = 1 << (nodes - 1).bit_length()  # padded node axis
    c_at = int(np.flatnonzero(attack.honest.table(col).reshape(cols, width)[:, 0])[0])
    r_at = int(np.flatnonzero(attack.honest.table(row).reshape(rows, width)[:, 0])[0])
    accepted = [
        [(col, c_at * width, 1), (col, ((c_at + 1) % cols) * width, 1)],
        [(col, c_at * width, -2), (row, r_at * width, -2), (neg, r_at, -2)],
        [(row, r * width, 1) for r in range(rows)],
    ]
    for changes in accepted:
        out = attack.attempt(*changes)
        assert out.accepted and not out.forged, out.stage
    refused = [
        [(col, c_at * width, 2)],
        [(col, c * width + nodes, 1) for c in range(cols)] + [(row, r * width + nodes, 1) for r in range(rows)],
    ]
    for changes in refused:
        out = attack.attempt(*changes)
        assert not out.accepted, out.stage

"""Adversarial review of GatherRows (commit 7e2ce5d): Y = T[I, :] proven by a
LogUp against a committed table (index column j, real-row tag) plus a
padding zero-check.

The prover is the adversary: it picks every advice value (Y, the
multiplicities, their padding), the numerators, the lookup's and the
table's columns, the index column, the tags, and what its zero-check runs
on. Part 1 drives one node with a hand-written malicious prover (the
honest layer prover's steps with every input replaceable) and checks the
verifier's answer plus the leftover claims against the committed tensors;
part 2 attacks whole circuits end to end (plain and zero-knowledge) through
the malicious-prover harness of tests/adversarial, with coordinated changes
(a lie in Y together with the multiplicities that would balance it, the
vendor's weight padding, the public index); part 3 checks the layout's
refusals. Every test asserts the forgery is REJECTED (or, for an honest
run with garbage in padding, that it is accepted with the executor's
output)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))

from malicious_prover import Attack, Outcome  # noqa: E402
from small_circuits import chain, gather_rows  # noqa: E402

from zkaudit.circuit import Node, TensorSpec, encode_circuit  # noqa: E402
from zkaudit.circuit.weights import Weights  # noqa: E402
from zkaudit.errors import ProofRejected, ZkauditError  # noqa: E402
from zkaudit.field import Fp, Fp2, vec  # noqa: E402
from zkaudit.field.constants import P  # noqa: E402
from zkaudit.layers.claim import TensorClaim  # noqa: E402
from zkaudit.layers.gather_rows import prover, verifier  # noqa: E402
from zkaudit.layers.gather_rows.proof import GatherRowsProof  # noqa: E402
from zkaudit.layers.gather_rows.verifier import EQ, IND, LABEL_POINT, PADDING, GatherRowsLayout  # noqa: E402
from zkaudit.layers.stream import ProofReader  # noqa: E402
from zkaudit.layers.tensor import embed, num_vars, padded_shape  # noqa: E402
from zkaudit.lookup import committed_table_prover  # noqa: E402
from zkaudit.pcs import commit  # noqa: E402
from zkaudit.poly.mle import eq_table, evaluate  # noqa: E402
from zkaudit.statements.inference.commitment import NoWeights, params  # noqa: E402
from zkaudit.statements.inference.prover import prove_witness  # noqa: E402
from zkaudit.statements.verify import verify_proof  # noqa: E402
from zkaudit.sumcheck import prover as sumcheck_prover  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

NODE = Node.make("g", "GatherRows", ["T", "I"], "Y")
MULT = "g/mult"
U64 = np.uint64


# =============================================================================
# Part 1: one node, a hand-written malicious prover
# =============================================================================
def _t() -> Transcript:
    t = Transcript()
    t.absorb_statement("gather-rows-review", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _specs(rows, cols, count, lo=-50, hi=50, ilo=0, ihi=None):
    return {"T": TensorSpec("T", (rows, cols), lo, hi),
            "I": TensorSpec("I", (count,), ilo, rows - 1 if ihi is None else ihi),
            "Y": TensorSpec("Y", (count, cols), lo, hi)}


def _committed(T, I, Y, mult) -> dict[str, np.ndarray]:
    """The padded field tables the verifier's claims are checked against:
    T and I as the walk would discharge them, Y and the multiplicities as
    the (malicious) prover committed them."""
    return {"T": embed(np.asarray(T)), "I": embed(np.asarray(I)), "Y": embed(np.asarray(Y)),
            MULT: embed(np.asarray(mult))}


def _counts(specs, idx) -> np.ndarray:
    tp = 1 << GatherRowsLayout(NODE, specs).instance.table_vars
    m = np.zeros(tp, dtype=np.int64)
    for i in np.asarray(idx, dtype=np.int64):  # an index outside the padded table counts nowhere
        if 0 <= i < tp:
            m[int(i)] += 1
    return m


def _set(table: np.ndarray, flat: int, value: int) -> np.ndarray:
    out = table.copy()
    out[flat] = vec.from_int64(np.array([value], dtype=np.int64))[0]
    return out


def _honest(rows, cols, count, seed=0, lo=-50, hi=50, table=None, idx=None):
    rng = np.random.default_rng(seed)
    T = rng.integers(lo, hi + 1, (rows, cols)) if table is None else np.asarray(table, dtype=np.int64)
    I = rng.integers(0, rows, count) if idx is None else np.asarray(idx, dtype=np.int64)
    return _specs(rows, cols, count, lo, hi), T, I, T[I].copy()


def forge(specs, tables, *, lookup=None, numerators=None, table=None, mult=None, zc_y=None, zc_ind=None) -> bytes:
    """A GatherRows proof as a cheating prover makes it: the honest steps
    (committed-table LogUp, then the padding zero-check) on whatever it
    chooses. Each keyword replaces one input (a function editing the honest
    value, or the value); the prover's own public-column checks are skipped
    (in a plain run they draw nothing from the transcript)."""
    lay = GatherRowsLayout(NODE, specs)
    lk, num, tb = prover.columns(lay, tables)
    lk, tb = [np.ascontiguousarray(c, dtype=U64) for c in lk], [np.ascontiguousarray(c, dtype=U64) for c in tb]
    num = np.ascontiguousarray(num, dtype=U64)

    def pick(given, honest):
        if given is None:
            return honest
        return given(honest) if callable(given) else given

    lk, num, tb = pick(lookup, lk), pick(numerators, num), pick(table, tb)
    m = pick(mult, np.ascontiguousarray(tables[MULT], dtype=U64))
    t = _t()
    lk_proof, _ = committed_table_prover.prove(lay.instance, lk, num, tb, m, t)
    n = num_vars(lay.out_shape)
    r = t.challenge_exts(LABEL_POINT, n)
    ind = embed(np.ones(lay.out_shape, dtype=np.int64))
    data = [eq_table(r), pick(zc_ind, ind), pick(zc_y, tables["Y"])]
    zc, _, _ = sumcheck_prover.prove(data, PADDING, t, claimed_sum=Fp2(0), public=(EQ, IND), eq_point=r)
    return GatherRowsProof(lk_proof, zc).to_bytes()


def discharge(claims, tables):
    for c in claims:
        if _ext(evaluate(tables[c.tensor], c.point)) != c.value:
            return c.tensor
    return None


def verdict(specs, proof: bytes, tables) -> str | None:
    """None when the verifier accepts and every leftover claim holds on the
    committed tables (a forgery, if the relation is false); else why not."""
    reader = ProofReader(proof)
    try:
        claims = verifier._handler(NODE, specs, None, reader, _t())
        reader.finish()
    except ProofRejected as exc:
        return type(exc).__name__
    bad = discharge(claims, tables)
    return f"opening:{bad}" if bad else None


def _lie(specs, T, I, Y):
    """The relation the verifier would be vouching for is false."""
    rows = specs["T"].shape[0]
    I = np.asarray(I)
    return bool(((I < 0) | (I >= rows)).any()) or not np.array_equal(np.asarray(Y), np.asarray(T)[np.clip(I, 0, rows - 1)])


SHAPES = [(5, 3, 7), (1, 1, 1), (1, 3, 2), (4, 1, 1), (1, 1, 3), (7, 1, 5), (2, 2, 2), (16, 4, 8), (3, 5, 1)]


@pytest.mark.parametrize("rows,cols,count", SHAPES)
def test_harness_honest_run_is_accepted(rows, cols, count):
    """The malicious prover with nothing replaced is the honest one: accepted.
    (So the rejections below are the verifier's, not the harness's.)"""
    specs, T, I, Y = _honest(rows, cols, count, seed=rows * 7 + cols * 3 + count)
    tables = _committed(T, I, Y, _counts(specs, I))
    assert verdict(specs, forge(specs, tables), tables) is None


@pytest.mark.parametrize("rows,cols,count", SHAPES)
def test_a_changed_value_is_rejected_at_every_edge_shape(rows, cols, count):
    specs, T, I, Y = _honest(rows, cols, count, seed=rows + cols + count)
    for k, c in {(0, 0), (count - 1, cols - 1)}:
        y = Y.copy()
        y[k, c] += 1
        tables = _committed(T, I, y, _counts(specs, I))
        assert _lie(specs, T, I, y)
        assert verdict(specs, forge(specs, tables), tables) is not None


def test_two_outputs_swapped_between_indices_are_rejected():
    """Y_a = T[I_b], Y_b = T[I_a]: the multiset of looked-up rows (and so every
    multiplicity) is unchanged; only the index column can catch it."""
    specs, T, I, _ = _honest(6, 3, 4, seed=11, idx=[1, 4, 2, 2])
    y = T[[4, 1, 2, 2]]
    tables = _committed(T, I, y, _counts(specs, I))
    assert _lie(specs, T, I, y)
    assert verdict(specs, forge(specs, tables), tables) is not None


def test_a_repeated_table_row_counts_only_at_its_own_index():
    """Rows 1 and 4 of T are equal: Y is the same whichever is meant, but the
    multiplicity must sit on the index looked up (the index column keeps the
    table's rows distinct, so the count is unique)."""
    T = np.array([[1, 2], [7, -3], [0, 0], [5, 5], [7, -3], [9, 9]])
    specs, T, I, Y = _honest(6, 2, 3, table=T, idx=[1, 1, 2])
    honest = _committed(T, I, Y, _counts(specs, I))
    assert verdict(specs, forge(specs, honest), honest) is None
    m = _counts(specs, I)
    m[1], m[4] = 0, 2
    moved = _committed(T, I, Y, m)
    assert verdict(specs, forge(specs, moved), moved) is not None


def test_another_index_with_the_same_row_values_is_rejected():
    """I_k = 4 claimed as index 1 (rows equal): the lookup row (I_k, Y_k)
    is (1, T_1) but the index committed is 4 -- the lookup column for I is
    the walk's tensor, so serving index 1 there fails I's opening."""
    T = np.array([[1, 2], [7, -3], [0, 0], [5, 5], [7, -3], [9, 9]])
    specs, T, I, Y = _honest(6, 2, 3, table=T, idx=[4, 0, 2])
    tables = _committed(T, I, Y, _counts(specs, I))

    def relabel(lk):
        lk = [c.copy() for c in lk]
        lk[0][0] = U64(1)
        return lk

    m = _counts(specs, [1, 0, 2])
    assert verdict(specs, forge(specs, tables, lookup=relabel, mult=embed(m)), tables) == "opening:I"


@pytest.mark.parametrize("rows", [5, 8, 1])
def test_a_negative_index_is_rejected(rows):
    """numpy would serve T[-1] (the last row); the executor refuses; the field
    index p - 1 is no row number."""
    specs, T, _, _ = _honest(rows, 2, 3, seed=rows)
    specs["I"] = TensorSpec("I", (3,), -1, rows - 1)
    I = np.array([0, -1, rows - 1])
    y = T[I]  # numpy semantics: -1 is the last row
    m = _counts(specs, [0, rows - 1, rows - 1])
    tables = _committed(T, I, y, m)
    assert _lie(specs, T, I, y)
    assert verdict(specs, forge(specs, tables), tables) is not None


@pytest.mark.parametrize("alias", ["padded", "p"])
def test_an_index_that_aliases_a_row_modulo_something_is_rejected(alias):
    """I_k = j + 2^n_t (the index column is not taken modulo the padded size),
    or I_k = j + p as a non-canonical word of the committed index."""
    specs, T, _, _ = _honest(5, 3, 4, seed=21)
    tp = 8
    I = np.array([1, 2, 3, 4])
    y = T[I]
    m = _counts(specs, I)
    if alias == "padded":
        bad = I.copy()
        bad[2] = 3 + tp
        tables = _committed(T, bad, y, m)
        assert _lie(specs, T, bad, y)
        assert verdict(specs, forge(specs, tables), tables) is not None
    else:
        tables = _committed(T, I, y, m)
        lay = GatherRowsLayout(NODE, specs)
        lk, num, tb = prover.columns(lay, tables)
        col = np.ascontiguousarray(lk[0], dtype=U64).copy()
        col[2] = U64(3 + P)  # the same field element, written another way
        with pytest.raises(ValueError, match="non-canonical"):
            forge(specs, tables, lookup=lambda lk: [col] + list(lk[1:]))


def test_a_padding_row_with_garbage_in_an_activation_table_is_rejected():
    """T an activation whose padding the prover controls: row R holds G, the
    index points at it, Y's row is G, its multiplicity counted. The claims
    on T discharge against that same garbage table, so only the tag can
    refuse it."""
    specs, T, _, _ = _honest(5, 3, 4, seed=22)
    I = np.array([0, 5, 1, 6])
    G5, G6 = [11, -12, 13], [0, 0, 0]
    y = np.array([T[0], G5, T[1], G6])
    m = _counts(specs, I)
    m[5], m[6] = 1, 1
    tables = _committed(T, I, y, m)
    for c, v in enumerate(G5):
        tables["T"] = _set(tables["T"], 5 * 4 + c, v)
    assert _lie(specs, T, I, y)
    assert verdict(specs, forge(specs, tables), tables) is not None
    m2 = m.copy()
    m2[5] = m2[6] = 0  # not counted at all: the poles cannot cancel
    t2 = dict(tables, **{MULT: embed(m2)})
    assert verdict(specs, forge(specs, t2), t2) is not None


def test_tagging_every_table_row_real_is_rejected(monkeypatch):
    """The prover builds its table leaves with the real-row tag on the padding
    rows too (so a padding row with garbage would match); the verifier's own
    ind~ gives the leaves away."""
    specs, T, _, _ = _honest(5, 3, 4, seed=23)
    I = np.array([0, 5, 1, 2])
    G = [11, -12, 13]
    y = np.array([T[0], G, T[1], T[2]])
    m = _counts(specs, I)
    m[5] = 1
    tables = _committed(T, I, y, m)
    for c, v in enumerate(G):
        tables["T"] = _set(tables["T"], 5 * 4 + c, v)
    monkeypatch.setattr(committed_table_prover, "_pad", lambda a, size: np.ones(size, dtype=U64))
    assert verdict(specs, forge(specs, tables), tables) == "LeafMismatch"


def test_a_padding_row_relabelled_as_a_real_index_is_rejected(monkeypatch):
    """Index column at padding row 5 renamed 2 and tagged real, holding a
    forged row: (2, G) would then be a 'table row' for I_k = 2."""
    specs, T, _, _ = _honest(5, 3, 4, seed=24)
    I = np.array([0, 2, 1, 3])
    G = [11, -12, 13]
    y = np.array([T[0], G, T[1], T[3]])
    m = _counts(specs, [0, 1, 3])
    m[5] = 1
    tables = _committed(T, I, y, m)
    for c, v in enumerate(G):
        tables["T"] = _set(tables["T"], 5 * 4 + c, v)

    def relabel(tb):
        tb = [c.copy() for c in tb]
        tb[0][5] = U64(2)
        return tb

    monkeypatch.setattr(committed_table_prover, "_pad", lambda a, size: np.ones(size, dtype=U64))
    assert verdict(specs, forge(specs, tables, table=relabel), tables) is not None
    monkeypatch.undo()
    assert verdict(specs, forge(specs, tables, table=relabel), tables) is not None


def test_an_index_column_shifted_by_a_permutation_of_rows_is_rejected():
    """The table side permuted consistently (index j with row T_pi(j)): every
    looked-up (I_k, T[pi(I_k)]) then matches; the index column is public."""
    specs, T, I, _ = _honest(6, 3, 5, seed=25)
    perm = np.array([1, 0, 3, 2, 5, 4])
    y = T[perm[I]]
    tables = _committed(T, I, y, _counts(specs, I))

    def permute(tb):
        tb = [c.copy() for c in tb]
        tb[0][:6] = perm.astype(U64)  # row j is now labelled pi(j), so (pi(j), T_j) ... = (I, T[pi(I)]) for j = pi(I)
        return tb

    assert _lie(specs, T, I, y)
    assert verdict(specs, forge(specs, tables, table=permute, mult=embed(_counts(specs, perm[I]))), tables) \
        == "PublicColumnMismatch"


def test_numerators_two_and_zero_on_a_repeated_index_are_rejected():
    """I_a = I_b: e_a = 2, e_b = 0 keeps the sum the same while Y_b is free."""
    specs, T, _, _ = _honest(6, 3, 4, seed=26)
    I = np.array([2, 2, 0, 5])
    y = T[I].copy()
    y[1] = [99, -99, 42]
    tables = _committed(T, I, y, _counts(specs, I))

    def nums(num):
        num = num.copy()
        num[0], num[1] = U64(2), U64(0)
        return num

    assert verdict(specs, forge(specs, tables, numerators=nums), tables) == "PublicColumnMismatch"


def test_numerators_plus_and_minus_one_cancel_a_forged_row_but_are_rejected():
    """Y_a = Y_b = G with I_a = I_b, e_a = 1, e_b = -1: the two poles at G cancel
    and no multiplicity is needed; the numerators are public."""
    specs, T, _, _ = _honest(6, 3, 4, seed=27)
    I = np.array([3, 3, 1, 4])
    y = T[I].copy()
    y[0] = y[1] = [40, 41, 42]
    m = _counts(specs, [1, 4])
    tables = _committed(T, I, y, m)

    def nums(num):
        num = num.copy()
        num[1] = U64(P - 1)
        return num

    assert verdict(specs, forge(specs, tables, numerators=nums), tables) == "PublicColumnMismatch"


def test_numerators_on_padding_rows_are_rejected():
    T = np.random.default_rng(28).integers(-50, 51, (6, 3))
    T[0] = 0  # padding rows of I and Y are 0: with e = 1 there they are honest lookups of row 0
    specs, T, I, Y = _honest(6, 3, 5, table=T, idx=[1, 2, 3, 4, 5])
    tables = _committed(T, I, Y, _counts(specs, I))
    m = _counts(specs, list(I) + [0, 0, 0])

    def nums(num):
        return np.ones_like(num)

    assert verdict(specs, forge(specs, tables, numerators=nums, mult=embed(m)), tables) == "PublicColumnMismatch"


def test_a_lookup_column_other_than_the_committed_output_is_rejected():
    """The lookup runs on the honest rows T[I] while Y (committed) is forged."""
    specs, T, I, Y = _honest(6, 3, 5, seed=29)
    y = Y.copy()
    y[2] += 3
    tables = _committed(T, I, y, _counts(specs, I))
    honest = _committed(T, I, Y, _counts(specs, I))
    lay = GatherRowsLayout(NODE, specs)
    lk, _, _ = prover.columns(lay, honest)
    lk = [np.ascontiguousarray(c, dtype=U64) for c in lk]
    assert verdict(specs, forge(specs, tables, lookup=lk), tables) == "opening:Y"


def test_a_table_other_than_the_committed_one_is_rejected():
    """The lookup's table holds the forged row at the index; T's opening refuses."""
    specs, T, I, Y = _honest(6, 3, 5, seed=30)
    y = Y.copy()
    y[0] = [1, 2, 3]
    tables = _committed(T, I, y, _counts(specs, I))
    T2 = T.copy()
    T2[I[0]] = [1, 2, 3]
    y[I == I[0]] = [1, 2, 3]  # every output at that index: the fake table is consistent
    tables = _committed(T, I, y, _counts(specs, I))
    fake = _committed(T2, I, y, _counts(specs, I))
    lay = GatherRowsLayout(NODE, specs)
    _, _, tb = prover.columns(lay, fake)
    tb = [np.ascontiguousarray(c, dtype=U64) for c in tb]
    assert _lie(specs, T, I, y)
    assert verdict(specs, forge(specs, tables, table=tb), tables) == "opening:T"


def test_multiplicities_in_the_proof_other_than_the_committed_ones_are_rejected():
    specs, T, I, Y = _honest(6, 3, 5, seed=31)
    m = _counts(specs, I)
    wrong = m.copy()
    wrong[0] += 1
    tables = _committed(T, I, Y, wrong)
    assert verdict(specs, forge(specs, tables, mult=embed(m)), tables) == "opening:g/mult"


@pytest.mark.parametrize("where", ["row", "column", "corner"])
def test_a_zero_check_on_another_vector_than_the_committed_output_is_rejected(where):
    """Y committed with garbage in its padding; the zero-check runs on the
    clean Y: Y~(s) fails the opening."""
    specs, T, I, Y = _honest(5, 3, 6, seed=32)  # Y (6, 3) padded (8, 4)
    tables = _committed(T, I, Y, _counts(specs, I))
    clean = tables["Y"].copy()
    flat = {"row": 7 * 4 + 0, "column": 1 * 4 + 3, "corner": 7 * 4 + 3}[where]
    tables["Y"] = _set(tables["Y"], flat, 9)
    assert verdict(specs, forge(specs, tables), tables) is not None
    assert verdict(specs, forge(specs, tables, zc_y=clean), tables) == "opening:Y"


def test_a_zero_check_with_an_all_ones_indicator_is_rejected():
    """The prover says nothing is padding; the verifier computes ind itself."""
    specs, T, I, Y = _honest(5, 3, 6, seed=33)
    tables = _committed(T, I, Y, _counts(specs, I))
    tables["Y"] = _set(tables["Y"], 7 * 4 + 1, -5)
    ones = np.ones(tables["Y"].shape[0], dtype=U64)
    assert verdict(specs, forge(specs, tables, zc_ind=ones), tables) == "FinalEvaluationMismatch"


def test_garbage_index_padding_is_harmless_and_accepted():
    """An activation index tensor with garbage on its padding (numerator 0
    there): the honest relation still holds, and the proof is accepted."""
    specs, T, I, Y = _honest(6, 3, 5, seed=34)
    tables = _committed(T, I, Y, _counts(specs, I))
    tables["I"] = _set(tables["I"], 6, 1000)
    tables["I"] = _set(tables["I"], 7, -3)
    assert verdict(specs, forge(specs, tables), tables) is None


@pytest.mark.parametrize("big", [2**40, -(2**40), 2**62, -(2**62)])
def test_extreme_table_values_do_not_wrap(big):
    """Table values far from 0 (negative ones near p): honest accepted, a value
    off by one or sign-flipped rejected."""
    T = np.array([[big, -big], [big - 1, 3], [0, big]])
    specs, T, I, Y = _honest(3, 2, 4, table=T, idx=[0, 2, 1, 0])
    tables = _committed(T, I, Y, _counts(specs, I))
    assert verdict(specs, forge(specs, tables), tables) is None
    for y in (Y + np.array([[1, 0], [0, 0], [0, 0], [0, 0]]), Y * np.array([[-1, 1], [1, 1], [1, 1], [1, 1]])):
        t2 = _committed(T, I, y, _counts(specs, I))
        assert verdict(specs, forge(specs, t2), t2) is not None


def test_the_multiplicity_may_be_any_field_element_but_the_rows_may_not():
    """Multiplicities of p - 1 and (p + 1) / 2 on real rows nobody looks up:
    nothing balances them, rejected; it is the rows, not the counts, that
    the argument pins."""
    specs, T, I, Y = _honest(6, 3, 3, seed=35, idx=[0, 1, 2])
    for extra in (P - 1, (P + 1) // 2):
        m = vec.from_int64(_counts(specs, I))
        m[5] = U64(extra)
        tables = _committed(T, I, Y, _counts(specs, I))
        tables[MULT] = m
        assert verdict(specs, forge(specs, tables), tables) is not None


def test_a_claim_on_the_output_is_refused():
    specs, T, I, Y = _honest(6, 3, 5, seed=36)
    tables = _committed(T, I, Y, _counts(specs, I))
    proof = forge(specs, tables)
    with pytest.raises(verifier.UnexpectedClaim):
        verifier._handler(NODE, specs, TensorClaim("Y", (Fp2(0),) * 5, Fp2(0)), ProofReader(proof), _t())


def test_truncated_and_padded_proofs_are_rejected():
    specs, T, I, Y = _honest(6, 3, 5, seed=37)
    tables = _committed(T, I, Y, _counts(specs, I))
    proof = forge(specs, tables)
    assert verdict(specs, proof[:-1], tables) is not None
    assert verdict(specs, proof + b"\x00", tables) is not None


# =============================================================================
# Part 2: whole circuits, end to end (plain and zero-knowledge)
# =============================================================================
def run(attack: Attack, w, zero_knowledge: bool, cheat=None) -> Outcome:
    """`Attack.run` with the proof mode chosen: the unmodified prover proves
    the (changed) witness, the unmodified verifier checks it against the
    commitment the vendor would publish for the committed tables. `cheat`: a
    context manager the proving runs inside (a prover that deviates from the
    honest code), left before verifying."""
    import contextlib

    reference = attack.reference(w)
    try:
        with cheat() if cheat is not None else contextlib.nullcontext():
            proof = prove_witness(w, zero_knowledge=zero_knowledge)
    except (ZkauditError, ValueError, KeyError, IndexError, OverflowError) as exc:
        return Outcome(False, None, reference, f"prover refused: {type(exc).__name__}: {exc}")
    tables = [vec.from_int64(w.table(s.name)) for s in w.circuit.weights]
    commitment = (commit(tables, params())[0] if tables else NoWeights()).to_bytes()
    got = verify_proof(proof, circuit_bin=attack.circuit_bin, weight_commitment=commitment)
    if not got.valid:
        return Outcome(False, None, reference, f"rejected: {got.reason}")
    return Outcome(True, {k: np.asarray(v).tolist() for k, v in got.output.items()}, reference, "verified")


STAGES: dict[str, str] = {}  # test id -> why it was rejected (REVIEW_VERBOSE=1 and -s print them)


def _rejected(out: Outcome) -> None:
    import os

    STAGES[os.environ.get("PYTEST_CURRENT_TEST", "?")] = out.stage
    if os.environ.get("REVIEW_VERBOSE"):
        print("\n", os.environ.get("PYTEST_CURRENT_TEST"), "->", out.stage[:160])
    assert not out.forged, f"FORGERY: accepted {out.outputs}, executor gives {out.reference}"
    assert not out.accepted or out.outputs == out.reference, out.stage
    assert out.stage.startswith("rejected"), out.stage  # the verifier's no, not the prover's refusal


def _flat(shape, *index) -> int:
    return int(np.ravel_multi_index(index, padded_shape(shape)))


def wide_index_circuit():
    """small_circuits.gather_rows with the public index declared over [0, 7]:
    a 7-row weight table padded to 8, so index 7 is a legal input value
    naming the vendor's padding row (the executor refuses it)."""
    circuit, _, _ = gather_rows(index_hi=7)
    rng = np.random.default_rng(5)
    weights = Weights({"table": rng.integers(-128, 128, (7, 3)), "w": rng.integers(-127, 128, (3, 2))})
    inputs = {"idx": np.array([0, 3, 6, 3, 1]), "x": rng.integers(-128, 128, (1, 6))}
    return circuit, weights, inputs


@pytest.fixture(scope="module")
def wide():
    return Attack(*wide_index_circuit())


MODES = [False, True]
MODE_IDS = ["plain", "zk"]


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_honest_witness_verifies(wide, zk):
    out = run(wide, wide.honest, zk)
    assert out.accepted and not out.forged, out.stage


def _mult_moved(attack, name, src, dst):
    m = attack.honest.table(name)
    return [(name, src, int(m[src]) - 1), (name, dst, int(m[dst]) + 1)]


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("padding_row", [[0, 0, 0], [17, -40, 3]], ids=["zero", "garbage"])
def test_e2e_public_index_at_the_weight_tables_padding_row_is_rejected(wide, zk, padding_row):
    """idx[1] = 7 (a legal input value, the executor refuses it); the vendor's
    padding row 7 of the table holds `padding_row`; r's row 1 is that row,
    its multiplicity counted at 7. Downstream recomputed from the lie."""
    tshape, rshape = (7, 3), (5, 3)
    changes = [("idx", 1, 7)]
    changes += [("table", _flat(tshape, 7, c), v) for c, v in enumerate(padding_row)]
    changes += [("r", _flat(rshape, 1, c), v) for c, v in enumerate(padding_row)]
    changes += _mult_moved(wide, "rows/mult", 3, 7)
    w = wide.mutate(changes)
    out = run(wide, w, zk)
    assert out.reference is None  # no honest execution: any acceptance is a forgery
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_public_index_at_the_padding_row_uncounted_is_rejected(wide, zk):
    changes = [("idx", 1, 7)] + [("r", _flat((5, 3), 1, c), 0) for c in range(3)]
    changes += [("rows/mult", 3, int(wide.honest.table("rows/mult")[3]) - 1)]
    out = run(wide, wide.mutate(changes), zk)
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_a_gathered_row_from_another_index_is_rejected(wide, zk):
    """r row 2 (index 6) replaced by table row 4, the multiplicity moved 6 -> 4:
    every looked-up row is a real row and the counts balance."""
    table = wide.honest.real("table")
    changes = [("r", _flat((5, 3), 2, c), int(v)) for c, v in enumerate(table[4])]
    changes += _mult_moved(wide, "rows/mult", 6, 4)
    out = run(wide, wide.mutate(changes), zk)
    assert out.reference is not None
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_two_gathered_rows_swapped_are_rejected(wide, zk):
    """r rows 0 and 2 (indices 0 and 6) swapped: multiset and counts unchanged."""
    table = wide.honest.real("table")
    changes = [("r", _flat((5, 3), 0, c), int(v)) for c, v in enumerate(table[6])]
    changes += [("r", _flat((5, 3), 2, c), int(v)) for c, v in enumerate(table[0])]
    out = run(wide, wide.mutate(changes), zk)
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("g", [1, 50])
def test_e2e_matmul_reading_the_gathered_rows_padding_column_is_rejected(wide, zk, g):
    """r's padding column 3 set to g on every real row, the vendor's padding row
    3 of w set to 1: MatMul's padded sum would add g to every output."""
    changes = [("r", _flat((5, 3), k, 3), g) for k in range(5)]
    changes += [("w", _flat((3, 2), 3, n), 1) for n in range(2)]
    out = run(wide, wide.mutate(changes), zk)
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_garbage_in_the_gathered_rows_padding_rows_is_rejected(wide, zk):
    changes = [("r", _flat((5, 3), k, c), 7) for k in (5, 7) for c in (0, 2)]
    out = run(wide, wide.mutate(changes), zk)
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_a_feature_gathered_from_another_index_is_rejected(wide, zk):
    """The activation-table gather: xv row 0 (index j_0) replaced by the feature
    at another index, its multiplicity moved."""
    j = wide.honest.real("j")
    x = wide.honest.real("x").ravel()
    other = (int(j[0]) + 1) % 6
    assert x[other] != x[int(j[0])]
    changes = [("xv", _flat((5, 1), 0, 0), int(x[other]))]
    changes += _mult_moved(wide, "feat/mult", int(j[0]), other)
    out = run(wide, wide.mutate(changes), zk)
    assert out.reference is not None
    _rejected(out)


# --- an activation table whose padding the prover controls ------------------
def activation_table_circuit():
    """T = A B (a MatMul: its padding rows and columns are A's and B's padding,
    which the vendor commits), gathered at a public index declared over
    [0, 7] (T has 5 rows, padded to 8), then Y D (a MatMul reading Y's padding
    column against D's padding row)."""
    idx = TensorSpec("idx", (4,), 0, 7)
    a, b = TensorSpec("A", (5, 3), -3, 3), TensorSpec("B", (3, 3), -3, 3)
    d = TensorSpec("D", (3, 2), -3, 3)
    nodes = [Node.make("tm", "MatMul", ["A", "B"], "T", a_zero_point=0, b_zero_point=0),
             Node.make("g", "GatherRows", ["T", "idx"], "Y"),
             Node.make("om", "MatMul", ["Y", "D"], "out", a_zero_point=0, b_zero_point=0)]
    circuit = chain("gather_activation", [idx], [a, b, d], nodes, ["out"])
    rng = np.random.default_rng(6)
    weights = Weights({"A": rng.integers(-3, 4, (5, 3)), "B": rng.integers(-3, 4, (3, 3)),
                       "D": rng.integers(-3, 4, (3, 2))})
    return circuit, weights, {"idx": np.array([4, 0, 2, 4])}


@pytest.fixture(scope="module")
def act():
    return Attack(*activation_table_circuit())


def _garbage_padding():
    """A's padding row 6 and B's padding column 3: T's padding row 6 and
    padding column 3 hold garbage."""
    return ([("A", _flat((5, 3), 6, c), v) for c, v in enumerate((2, -1, 3))]
            + [("B", _flat((3, 3), r, 3), v) for r, v in enumerate((1, 2, -2))])


def _padded_T(w) -> np.ndarray:
    A = w.table("A").reshape(8, 4).astype(object)
    B = w.table("B").reshape(4, 4).astype(object)
    return A.dot(B)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_weight_padding_garbage_is_refused_even_for_an_honest_gather(act, zk):
    """The committed weights' range check pins their padding to 0, so a MatMul
    activation table cannot carry garbage padding end to end (found while
    reviewing: an honest gather over such a table is rejected by the range
    lookup, not by GatherRows). The per-node tests above cover a table whose
    padding the prover fully controls."""
    w = act.mutate(_garbage_padding())
    T = _padded_T(w)
    assert T[6].any() and T[:5, 3].any()  # the garbage is there
    out = run(act, w, zk)
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_index_at_an_activation_tables_garbage_padding_row_is_rejected(act, zk):
    w = act.mutate(_garbage_padding())
    T = _padded_T(w)
    changes = _garbage_padding() + [("idx", 1, 6)]
    changes += [("Y", _flat((4, 3), 1, c), int(T[6, c])) for c in range(3)]
    changes += _mult_moved(act, "g/mult", 0, 6)
    w = act.mutate(changes)
    out = run(act, w, zk)
    assert out.reference is None
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_the_tables_garbage_padding_column_copied_into_the_output_is_rejected(act, zk):
    """Y's padding column 3 = T's garbage column 3 at each index, D's padding
    row 3 = 1: the last MatMul would add it."""
    w = act.mutate(_garbage_padding())
    T = _padded_T(w)
    idx = act.honest.real("idx")
    changes = _garbage_padding() + [("D", _flat((3, 2), 3, n), 1) for n in range(2)]
    changes += [("Y", _flat((4, 3), k, 3), int(T[int(i), 3])) for k, i in enumerate(idx)]
    out = run(act, act.mutate(changes), zk)
    _rejected(out)


# --- a prover that deviates from the layer code, end to end ------------------
def _columns_cheat(node_name: str, edit):
    """While inside: the GatherRows prover's columns for `node_name` edited by
    `edit(lookup, numerators, table)`, and the prover skips its own public-column
    checks (plain: they would raise; zero knowledge: the deferred checks are
    still recorded the same way by the verifier)."""
    import contextlib

    @contextlib.contextmanager
    def cm():
        real_columns, real_check = prover.columns, verifier.check_equal

        def columns(lay, tables):
            lk, num, tb = real_columns(lay, tables)
            if lay.name == node_name:
                lk = [np.ascontiguousarray(c, dtype=U64).copy() for c in lk]
                tb = [np.ascontiguousarray(c, dtype=U64).copy() for c in tb]
                lk, num, tb = edit(lk, np.ascontiguousarray(num, dtype=U64).copy(), tb)
            return lk, num, tb

        def check_equal(transcript, got, expected, **kw):
            if getattr(transcript, "zk", None) is not None:
                real_check(transcript, got, expected, **kw)  # records the deferred check, raises nothing

        prover.columns, verifier.check_equal = columns, check_equal
        try:
            yield
        finally:
            prover.columns, verifier.check_equal = real_columns, real_check

    return cm


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_numerators_that_skip_a_forged_row_are_rejected(wide, zk):
    """r row 2 set to a row in no table and left out of the lookup (numerator
    0), its multiplicity removed: the numerator check is the only guard
    (deferred to the bank opening in zero knowledge)."""
    changes = [("r", _flat((5, 3), 2, c), v) for c, v in enumerate((101, -102, 103))]
    changes += [("rows/mult", 6, int(wide.honest.table("rows/mult")[6]) - 1)]

    def edit(lk, num, tb):
        num[2] = U64(0)
        return lk, num, tb

    out = run(wide, wide.mutate(changes), zk, cheat=_columns_cheat("rows", edit))
    assert out.reference is not None
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_a_relabelled_index_column_is_rejected(wide, zk):
    """The table's index column permuted (0 <-> 6) so that index 6 serves row 0
    and index 0 serves row 6; r rows follow the relabelled table, counts moved."""
    table = wide.honest.real("table")
    idx = wide.honest.real("idx")
    perm = np.arange(8)
    perm[0], perm[6] = 6, 0
    changes = [("r", _flat((5, 3), k, c), int(table[perm[i], c])) for k, i in enumerate(idx) for c in range(3)]
    m = wide.honest.table("rows/mult")
    changes += [("rows/mult", 0, int(m[6])), ("rows/mult", 6, int(m[0]))]

    def edit(lk, num, tb):
        tb[0][0], tb[0][6] = U64(6), U64(0)
        return lk, num, tb

    out = run(wide, wide.mutate(changes), zk, cheat=_columns_cheat("rows", edit))
    assert out.reference is not None
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_the_cheating_harness_with_no_edit_is_accepted(wide, zk):
    """The deviating prover with nothing edited proves the honest witness: the
    rejections above are the verifier's checks, not the harness."""
    out = run(wide, wide.honest, zk, cheat=_columns_cheat("rows", lambda lk, num, tb: (lk, num, tb)))
    assert out.accepted and not out.forged, out.stage


# --- the two-tree walk of tests/layers/test_gather_rows.py ---------------------
def _walk_module():
    spec = importlib.util.spec_from_file_location(
        "_gather_rows_tests", Path(__file__).resolve().parents[1] / "layers" / "test_gather_rows.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def walk():
    mod = _walk_module()
    circuit, weights, table = mod._tree_walk()
    attack = Attack(circuit, weights, {"x": np.array([[4, 0, -5]])})
    return attack, table, mod


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_walk_honest_verifies_with_the_reference(walk, zk):
    attack, table, mod = walk
    out = run(attack, attack.honest, zk)
    assert out.accepted and out.outputs == {"score": [[mod._walk_reference(table, np.array([[4, 0, -5]]))]]}, out.stage


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_walk_another_leaf_is_rejected(walk, zk):
    """Tree 0 ends at leaf n; the prover serves another leaf's row (a real row of
    W, value differs), multiplicity moved: the score would change."""
    attack, table, _ = walk
    n = attack.honest.real("l1/n")
    k0 = int(n[0])
    other = next(j for j in (2, 3, 4) if j != k0 and table[j][4] != table[k0][4])
    changes = [("leaf", _flat((2, 5), 0, c), int(v)) for c, v in enumerate(table[other])]
    changes += _mult_moved(attack, "leaf/mult", k0, other)
    out = run(attack, attack.mutate(changes), zk)
    assert out.reference is not None
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_walk_another_root_row_is_rejected(walk, zk):
    """Level 0 of tree 0 reads node 1's row instead of the root's: the walk goes
    elsewhere and everything downstream follows the lie consistently."""
    attack, table, _ = walk
    changes = [("l0/row", _flat((2, 5), 0, c), int(v)) for c, v in enumerate(table[1])]
    changes += _mult_moved(attack, "l0/row/mult", 0, 1)
    out = run(attack, attack.mutate(changes), zk)
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_walk_a_leaf_value_changed_in_place_is_rejected(walk, zk):
    attack, _, _ = walk
    changes = [("leaf", _flat((2, 5), 1, 4), int(attack.honest.real("leaf")[1, 4]) + 1)]
    out = run(attack, attack.mutate(changes), zk)
    _rejected(out)


# =============================================================================
# Part 3: layouts the verifier must refuse cleanly
# =============================================================================
def _one_gather(cols, rows=4, count=2):
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs

    i = TensorSpec("I", (count,), 0, rows - 1)
    y = TensorSpec("Y", (count, cols), 0, 0)
    return with_inferred_specs(Circuit("g", (i,), (y,), (TensorSpec("T", (rows, cols), -9, 9),),
                                       (Node.make("g", "GatherRows", ["T", "I"], "Y"),), (y,)))


def _proof_claiming(circuit, donor):
    """A proof made for `donor` (a provable circuit), re-addressed to `circuit`:
    its digest and its outputs' shapes."""
    import dataclasses

    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
    from zkaudit.statements.inference.prover import commit_weights, prove

    weights = Weights({"T": np.zeros(donor.weights[0].shape, dtype=np.int64)})
    proof = prove(donor, weights, {"I": np.zeros(donor.inputs[0].shape, dtype=np.int64)})
    body = InferenceBody.from_bytes(parse_envelope(proof).body, donor)
    outputs = {s.name: np.zeros(s.shape, dtype=np.int64) for s in circuit.outputs}
    forged = dataclasses.replace(body, circuit_digest=bytes.fromhex(circuit.digest()), outputs=outputs)
    return encode_envelope(STATEMENT, forged.to_bytes(circuit)), commit_weights(donor, weights)[0].to_bytes()


def _wide_circuit(cols=64):
    """A GatherRows node over a table of `cols` columns, its specs declared by
    hand (inference refuses more than 63 columns)."""
    from zkaudit.circuit import Circuit

    i = TensorSpec("I", (2,), 0, 3)
    y = TensorSpec("Y", (2, cols), -9, 9)
    return Circuit("g", (i,), (y,), (TensorSpec("T", (4, cols), -9, 9),),
                   (Node.make("g", "GatherRows", ["T", "I"], "Y"),), (y,))


def test_a_table_too_wide_for_the_lookup_gets_a_verdict_not_an_exception():
    """Review finding, fixed: a registered circuit whose GatherRows table has 64
    columns (the lookup takes 63 and the index) is an invalid circuit: a
    verdict, not a ValueError out of verify_proof."""
    wide = _wide_circuit(64)
    blob, com = _proof_claiming(wide, _one_gather(3))
    got = verify_proof(blob, circuit_bin=encode_circuit(wide), weight_commitment=com)
    assert not got.valid and "63 columns" in got.reason, got.reason


def test_a_table_too_wide_is_refused_at_compile_time_naming_the_node():
    """Review finding, fixed: inference refuses the node (InvalidCircuit naming
    it), and the layer's layout refuses it too (UnsupportedLayer)."""
    from zkaudit.circuit.errors import InvalidCircuit
    from zkaudit.circuit.validate import validate
    from zkaudit.layers.dispatch_verifier import check_provable
    from zkaudit.layers.shapes import UnsupportedLayer

    wide = _wide_circuit(64)
    with pytest.raises(InvalidCircuit, match="63 columns"):
        validate(wide)
    with pytest.raises(UnsupportedLayer, match="'g' \\(GatherRows\\)"):
        check_provable(wide.nodes, wide.specs())


def test_sixty_three_columns_still_prove_and_verify():
    """The widest table the lookup takes (63 columns + index) is complete."""
    from zkaudit.statements.inference.prover import commit_weights, prove

    c = _one_gather(63, rows=3, count=2)
    weights = Weights({"T": np.arange(3 * 63).reshape(3, 63) % 19 - 9})
    proof = prove(c, weights, {"I": np.array([2, 0])}, zero_knowledge=False)
    got = verify_proof(proof, circuit_bin=encode_circuit(c), weight_commitment=commit_weights(c, weights)[0].to_bytes())
    assert got.valid and got.output == {"Y": weights["T"][[2, 0]].tolist()}, got.reason


# --- edge shapes end to end (a zero-variable padding zero-check in zero knowledge) ---
def _edge_attack(rows, cols, count, ihi=None):
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs

    i = TensorSpec("I", (count,), 0, rows - 1 if ihi is None else ihi)
    y = TensorSpec("Y", (count, cols), 0, 0)
    c = with_inferred_specs(Circuit("edge", (i,), (y,), (TensorSpec("T", (rows, cols), -9, 9),),
                                    (Node.make("g", "GatherRows", ["T", "I"], "Y"),), (y,)))
    rng = np.random.default_rng(rows * 100 + cols * 10 + count)
    weights = Weights({"T": rng.integers(-9, 10, (rows, cols))})
    return Attack(c, weights, {"I": rng.integers(0, rows, count)})


EDGES = [(3, 1, 1), (1, 2, 1), (1, 1, 1), (1, 1, 3), (2, 1, 2)]


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("rows,cols,count", EDGES)
def test_e2e_edge_shapes_honest_verify_and_a_changed_output_is_rejected(rows, cols, count, zk):
    attack = _edge_attack(rows, cols, count)
    honest = run(attack, attack.honest, zk)
    assert honest.accepted and not honest.forged, honest.stage
    y = attack.honest.real("Y")
    out = run(attack, attack.mutate([("Y", _flat((count, cols), count - 1, cols - 1), int(y[-1, -1]) + 1)]), zk)
    _rejected(out)


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_e2e_one_row_table_an_index_past_it_is_rejected(zk):
    """R = 1 (no padding rows at all): index 1 names nothing; Y's row 0 claimed
    as row 0's values, or as zeros, with the count left on row 0 or dropped."""
    attack = _edge_attack(1, 2, 2, ihi=1)
    t = attack.honest.real("T")
    for row, mult in ((t[0], 2), (np.zeros(2, dtype=np.int64), 1)):
        changes = [("I", 1, 1)] + [("Y", _flat((2, 2), 1, c), int(v)) for c, v in enumerate(row)]
        changes += [("g/mult", 0, mult)]
        out = run(attack, attack.mutate(changes), zk)
        assert out.reference is None
        _rejected(out)


# --- two GatherRows nodes of one name share the advice name "<name>/mult" -----
def _same_name_circuit(j):
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs

    i, jj = TensorSpec("I", (3,), 0, 3), TensorSpec("J", (3,), 0, 3)
    nodes = (Node.make("g", "GatherRows", ["T", "I"], "Y"), Node.make("g", "GatherRows", ["U", "J"], "Z"),
             Node.make("s", "Add", ["Y", "Z"], "S", a_zero_point=0, b_zero_point=0))
    c = with_inferred_specs(Circuit("dup", (i, jj), (TensorSpec("S", (3, 2), 0, 0),),
                                    (TensorSpec("T", (4, 2), -9, 9), TensorSpec("U", (4, 2), -9, 9)), nodes,
                                    tuple(TensorSpec(n.output, (1,), 0, 0) for n in nodes)))
    weights = Weights({"T": np.arange(8).reshape(4, 2) - 4, "U": np.arange(8).reshape(4, 2)})
    return Attack(c, weights, {"I": np.array([0, 3, 1]), "J": np.asarray(j)})


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_same_named_gathers_are_refused(zk):
    """Review finding, fixed: two GatherRows nodes of one name would share the
    advice tensor "g/mult" (honest proofs then failed when their counts
    differed). Advice names now belong to one node: the prover refuses such a
    circuit and the verifier rejects any proof about it, naming the tensor."""
    from zkaudit.layers.dispatch_verifier import AmbiguousAdvice, advice_shapes

    for j in ([3, 1, 0], [2, 2, 2]):
        attack = _same_name_circuit(j)
        out = run(attack, attack.honest, zk)
        assert not out.accepted and "'g/mult' belongs to node 'g' and to node 'g'" in out.stage, out.stage
        with pytest.raises(AmbiguousAdvice, match="'g/mult' belongs to node 'g' and to node 'g'"):
            advice_shapes(attack.honest.circuit.nodes, attack.honest.circuit.specs())


def test_an_activation_named_like_another_nodes_advice_is_refused():
    """A MatMul output named "g/mult" beside a GatherRows node "g": claims on
    it would go to the advice opening and the MatMul would never be checked."""
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs
    from zkaudit.layers.dispatch_verifier import AmbiguousAdvice, advice_shapes

    i, x = TensorSpec("I", (3,), 0, 3), TensorSpec("x", (1, 2), -9, 9)
    nodes = (Node.make("g", "GatherRows", ["T", "I"], "Y"),
             Node.make("mm", "MatMul", ["x", "W"], "g/mult", a_zero_point=0, b_zero_point=0))
    c = with_inferred_specs(Circuit("clash", (i, x), (TensorSpec("g/mult", (1, 4), 0, 0),),
                                    (TensorSpec("T", (4, 2), -9, 9), TensorSpec("W", (2, 4), -9, 9)), nodes,
                                    tuple(TensorSpec(n.output, (1,), 0, 0) for n in nodes)))
    with pytest.raises(AmbiguousAdvice, match="has the name of node 'mm'"):
        advice_shapes(c.nodes, c.specs())


@pytest.mark.parametrize("zk", MODES, ids=MODE_IDS)
def test_a_proof_claiming_a_batch_for_a_gather_is_a_rejection_not_an_exception(zk):
    """Every tensor has a leading axis of 1 (so only GatherRows stops widening);
    the body's batch size rewritten to 2: a typed rejection (MalformedProof),
    never a BatchUnsupported escaping the verifier."""
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.inference.proof import STATEMENT
    from zkaudit.statements.inference.prover import commit_weights, prove

    i, y = TensorSpec("I", (1,), 0, 3), TensorSpec("Y", (1, 2), 0, 0)
    c = with_inferred_specs(Circuit("g1", (i,), (y,), (TensorSpec("T", (4, 2), -9, 9),),
                                    (Node.make("g", "GatherRows", ["T", "I"], "Y"),), (y,)))
    weights = Weights({"T": np.arange(8).reshape(4, 2) - 4})
    proof = prove(c, weights, {"I": np.array([2])}, zero_knowledge=zk)
    body = bytearray(parse_envelope(proof).body)
    assert body[2:6] == (1).to_bytes(4, "little")  # after the u16 protocol version
    body[2:6] = (2).to_bytes(4, "little")
    got = verify_proof(encode_envelope(STATEMENT, bytes(body)), circuit_bin=encode_circuit(c),
                       weight_commitment=commit_weights(c, weights)[0].to_bytes())
    assert not got.valid and "batch" in got.reason, got.reason

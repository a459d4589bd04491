"""Adversarial review of the IR's Gather index map (commit 029166f): the
identity shortcut, claims on a Y with garbage padding, malformed attrs, a
malicious prover varying Gather inputs/outputs (values and padding), and the
batch axis. Every test asserts that the forgery is REJECTED."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))

import small_circuits  # noqa: E402
from malicious_prover import Attack  # noqa: E402
from small_circuits import INT8, _rq, chain  # noqa: E402

from zkaudit.circuit import Circuit, Node, TensorSpec, validate, encode_circuit  # noqa: E402
from zkaudit.circuit import kernels as ir  # noqa: E402
from zkaudit.errors import ZkauditError  # noqa: E402
from zkaudit.field import Fp, Fp2, vec  # noqa: E402
from zkaudit.layers.claim import TensorClaim  # noqa: E402
from zkaudit.layers.index_map import prover, verifier  # noqa: E402
from zkaudit.layers.index_map.wiring import wiring  # noqa: E402
from zkaudit.layers.tensor import embed, padded_shape  # noqa: E402
from zkaudit.poly.mle import evaluate  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402


def _t():
    t = Transcript()
    t.absorb_statement("index-map-test", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


# (input shape, axis, indices)
GATHERS = [
    ((8, 3), 0, tuple(range(7))),  # crop at the end of axis 0, cells in place
    ((2, 4), 1, (0, 1, 2)),  # crop along the last axis
    ((5, 3), 0, (0, 1, 2, 3)),  # a crop: 5 rows pad to 8, 4 rows to 4
    ((5, 3), 0, (0, 1, 2, 3, 4, 4, 4)),  # repeats to 7 rows: same padded size (8, 4) as the input
    ((3,), 0, (0, 1, 2, 2)),  # every cell read, one twice: (4,) = the input's padded size
    ((3,), 0, (0, 1, 2, 0)),
    ((4, 3), 0, (1, 0, 2, 3)),  # every cell, permuted
    ((4, 4), 1, (0, 1, 3, 2)),
    ((4, 4), 1, (0, 1, 2, 3)),  # every cell in order: a true identity
    ((5, 3), 0, (0, 1, 2, 3, 4)),
    ((1, 5, 3), 2, (0, 1, 2)),
    ((6,), 0, (0, 1, 2, 3, 4, 5, 5, 5)),  # out (8,) = in padded (8,)
]


@pytest.mark.parametrize("shape,axis,idx", GATHERS)
def test_identity_shortcut_only_when_tables_agree(shape, axis, idx):
    """is_identity must imply Y's padded table equals X's (for every X, with
    X's padding zero) and the same padded size."""
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, size=shape)
    y = ir.gather(x, axis=axis, indices=idx)
    w = wiring("Gather", {"axis": axis, "indices": idx}, [shape], y.shape)
    ey, ex = embed(y), embed(x)
    tables_agree = len(ey) == len(ex) and all(a == b for a, b in zip(ey, ex))
    ident = w.is_identity(shape)
    if ident:
        assert tables_agree, (shape, axis, idx)
        assert tuple(idx) == tuple(range(shape[axis]))
    if tuple(idx) != tuple(range(shape[axis])):
        assert not ident


def _claim_on(y_table, rng):
    nv = int(np.log2(len(y_table)))
    point = tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(nv, rng))
    return TensorClaim("y", point, _ext(evaluate(y_table, point)))


@pytest.mark.parametrize("shape,axis,idx", GATHERS)
def test_claim_on_wrong_or_garbage_padded_output_rejected(shape, axis, idx):
    """A claim on a Y whose real cell or padding cell differs from the
    gather of X (X committed honestly) must not reduce to a true X claim."""
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, size=shape)
    y = ir.gather(x, axis=axis, indices=idx)
    w = wiring("Gather", {"axis": axis, "indices": idx}, [shape], y.shape)
    x_table = embed(x)
    yp = np.zeros(padded_shape(y.shape), dtype=np.int64)
    yp[tuple(slice(0, d) for d in y.shape)] = y
    honest = yp.ravel()
    real = np.zeros(yp.shape, dtype=bool)
    real[tuple(slice(0, d) for d in y.shape)] = True
    pad_cells = [int(i) for i in np.flatnonzero(~real.ravel())]
    trials = [0, honest.size // 3] + pad_cells[:2] + pad_cells[-1:]
    shapes, names = [shape], ["x0"]
    for cell in trials:
        y_int = honest.copy()
        y_int[cell] += 5
        claim = _claim_on(vec.from_int64(y_int), rng)
        true = TensorClaim("y", claim.point, _ext(evaluate(vec.from_int64(honest), claim.point)))
        assert claim.value != true.value
        proofs = [prover.prove(w, shapes, names, true, [x_table], _t())[0]]
        try:
            proofs.append(prover.prove(w, shapes, names, claim, [x_table], _t())[0])
        except ZkauditError:
            pass  # the honest prover refuses the false claim
        for proof in proofs:
            try:
                out = verifier.verify(w, shapes, names, claim, proof, _t())
            except ZkauditError:
                continue
            # accepted (the identity pass-through): a reduced claim must be false on X
            assert w.is_identity(shape)
            assert any(_ext(evaluate(x_table, c.point)) != c.value for c in out), (shape, axis, idx, cell)


def _gather_circuit(axis, idx, x_shape=(5, 3)):
    x = TensorSpec("x", x_shape, *INT8, 0.1, 0)
    out_shape = x_shape[:axis] + (len(idx),) + x_shape[axis + 1:] if 0 <= axis < len(x_shape) else x_shape
    node = Node.make("g", "Gather", ["x"], "y", axis=axis, indices=tuple(idx))
    spec = TensorSpec("y", out_shape, *INT8)
    return Circuit("bad_gather", (x,), (spec,), (), (node,), (spec,))


@pytest.mark.parametrize("axis,idx", [(0, ()), (0, (5,)), (0, (-1,)), (0, (0, -5)), (2, (0,)), (-1, (0,)),
                                      (-2, (0,)), (1, (3,)), (1, (0, 1, 2, 3))])
def test_malformed_gather_attrs_refused_at_validation(axis, idx):
    c = _gather_circuit(axis, idx)
    with pytest.raises(ZkauditError):
        validate(c)


def test_verifier_validates_registered_circuit_with_negative_index():
    """A registered circuit with a negative index (numpy's take would wrap)
    is refused by the verifier before use, whatever the proof."""
    from zkaudit.statements.verify import verify_proof

    good, _, _ = _select_circuit()
    attack = Attack(*small_circuits.instance(lambda: (good, list(good.inputs), list(good.weights)), seed=3))
    from zkaudit.statements.inference.prover import prove_witness
    proof = prove_witness(attack.honest)
    bad_nodes = tuple(Node.make(n.name, n.op, n.inputs, n.output, **dict(n.attrs, indices=(-1, 0, 0, 2)))
                      if n.name == "g1" else n for n in good.nodes)
    bad = Circuit(good.name, good.inputs, good.outputs, good.weights, bad_nodes, good.tensors)
    with pytest.raises(ZkauditError):
        validate(bad)
    from zkaudit.pcs import commit
    from zkaudit.statements.inference.commitment import params
    tables = [vec.from_int64(attack.honest.table(s.name)) for s in good.weights]
    commitment = commit(tables, params())[0].to_bytes()
    try:
        verdict = verify_proof(proof, circuit_bin=encode_circuit(bad), weight_commitment=commitment)
    except ZkauditError:
        return
    assert not verdict.valid


def _select_circuit():
    """x (1,5,3) -> Gather rows (4,0,0,2) -> Reshape -> MatMul -> Requantize h (4,3)
    -> identity gathers (every column in order; every row in order) -> MatMul;
    a crop along the last axis (columns 0,1) -> MatMul with a (2,3) weight;
    a permutation of rows -> output."""
    x = TensorSpec("x", (1, 5, 3), *INT8, 0.1, 0)
    w = TensorSpec("w", (3, 3), -127, 127)
    w2 = TensorSpec("w2", (2, 3), -127, 127)
    nodes = [
        Node.make("g1", "Gather", ["x"], "xg", axis=1, indices=(4, 0, 0, 2)),
        Node.make("rs", "Reshape", ["xg"], "x2", shape=(4, 3)),
        Node.make("mm", "MatMul", ["x2", "w"], "acc", a_zero_point=0, b_zero_point=0),
        _rq("rq", "acc", "h"),
        Node.make("gi", "Gather", ["h"], "hi", axis=1, indices=(0, 1, 2)),  # a true identity
        Node.make("gj", "Gather", ["hi"], "hj", axis=0, indices=(0, 1, 2, 3)),  # a true identity
        Node.make("mm2", "MatMul", ["hj", "w"], "acc2", a_zero_point=0, b_zero_point=0),
        Node.make("gc", "Gather", ["h"], "hc", axis=1, indices=(0, 1)),  # crop along the last axis
        Node.make("mm3", "MatMul", ["hc", "w2"], "acc3", a_zero_point=0, b_zero_point=0),
        Node.make("gp", "Gather", ["h"], "hp", axis=0, indices=(3, 1, 2, 0, 0)),  # permuted + repeat
    ]
    return chain("gather_review", [x], [w, w2], nodes, ["acc2", "acc3", "hp"]), None, None


@pytest.fixture(scope="module")
def select_attack():
    c, _, _ = _select_circuit()
    return Attack(*small_circuits.instance(lambda: (c, list(c.inputs), list(c.weights)), seed=3))


def test_honest_select_circuit_verifies(select_attack):
    out = select_attack.run(select_attack.honest)
    assert out.accepted and not out.forged, out.stage


def _padding(attack, name):
    return [int(i) for i in attack.cells(name)[0]]


@pytest.mark.parametrize("name", ["h", "hi", "hj", "hc", "hp", "xg"])
def test_gather_input_or_output_padding_never_forges(select_attack, name):
    pads = _padding(select_attack, name)
    for cell in (pads[:1] + pads[-1:]):
        for value in (1, 100):
            out = select_attack.attempt((name, cell, value))
            assert not out.forged, (name, cell, value, out.stage)


@pytest.mark.parametrize("name", ["hi", "hj", "hc", "hp"])
def test_gather_output_real_cell_changed_never_forges(select_attack, name):
    real = [int(i) for i in select_attack.cells(name)[1]]
    honest = select_attack.honest.table(name)
    cell = real[len(real) // 2]
    out = select_attack.attempt((name, cell, int(honest[cell]) + 1 if int(honest[cell]) < 100 else 3))
    assert not out.forged and not out.accepted, out.stage


def test_gather_select_crop_padding_with_weight_padding(select_attack):
    """Coordinated: garbage in h's column 3 (dropped by nothing; padding of
    h (4,3)->(4,4)) with the identity gathers passing h's table to mm2 and
    1 in w's padding row 3."""
    a = select_attack
    # w (3,3) pads to (4,4): row 3 = cells 12..15
    change = [("h", r * 4 + 3, 50) for r in range(4)] + [("w", 12 + n, 1) for n in range(3)]
    out = a.attempt(*change)
    assert not out.forged, out.stage


def test_gather_along_batch_axis_refused_for_batch_proofs():
    from zkaudit.statements.inference.batch import BatchUnsupported, widen

    x = TensorSpec("x", (1, 4, 3), *INT8, 0.1, 0)
    nodes = [Node.make("g", "Gather", ["x"], "y", axis=0, indices=(0,))]
    c = chain("batch_gather", [x], [], nodes, ["y"])
    with pytest.raises(BatchUnsupported):
        widen(c, 2)
    nodes = [Node.make("g", "Gather", ["x"], "y", axis=0, indices=(0, 0))]
    c = chain("batch_gather2", [x], [], nodes, ["y"])
    with pytest.raises(ZkauditError):
        widen(c, 2)
    # along another axis: allowed and still valid
    nodes = [Node.make("g", "Gather", ["x"], "y", axis=1, indices=(3, 0))]
    wide = widen(chain("batch_gather3", [x], [], nodes, ["y"]), 3)
    validate(wide)
    assert wide.outputs[0].shape == (3, 2, 3)


@pytest.mark.parametrize("g", [1, 50])
def test_identity_gather_chain_carrying_padding_never_forges(select_attack, g):
    """The identity gathers pass h's table on to mm2: garbage in h's padding
    column 3, carried through hi and hj (and with 1 in w's padding row 3,
    which mm2 would multiply it by), must be refused."""
    a = select_attack
    w_row3 = [("w", 12 + n, 1) for n in range(3)]
    for tensors in (("h", "hi", "hj"), ("hi", "hj"), ("hj",)):
        ch = [(t, r * 4 + 3, g) for t in tensors for r in range(4)]
        for extra in ([], w_row3):
            out = a.attempt(*(ch + extra))
            assert not out.accepted, (tensors, bool(extra), out.stage)


@pytest.mark.parametrize("shape,idx,axis", [((8, 3), tuple(range(7)), 0), ((2, 4), (0, 1, 2), 1),
                                            ((4, 4), (0, 1, 2), 0)])
def test_crop_in_place_claim_on_inputs_table_rejected(shape, idx, axis):
    """What the old identity shortcut would accept: a claim on Y equal to
    X's own table at the point (the dropped cells left in Y's padding)."""
    rng = np.random.default_rng(4)
    x = rng.integers(1, 128, size=shape)
    y = ir.gather(x, axis=axis, indices=idx)
    w = wiring("Gather", {"axis": axis, "indices": idx}, [shape], y.shape)
    assert not w.is_identity(shape)
    x_table = embed(x)
    assert len(x_table) == len(embed(y))
    claim = _claim_on(x_table, rng)
    assert claim.value != _ext(evaluate(embed(y), claim.point))
    with pytest.raises(ZkauditError):  # the honest prover refuses the false claim
        prover.prove(w, [shape], ["x0"], claim, [x_table], _t())
    # the proof of the true claim at that point, presented for the false one
    true = TensorClaim("y", claim.point, _ext(evaluate(embed(y), claim.point)))
    proof, _ = prover.prove(w, [shape], ["x0"], true, [x_table], _t())
    verifier.verify(w, [shape], ["x0"], true, proof, _t())
    with pytest.raises(ZkauditError):
        verifier.verify(w, [shape], ["x0"], claim, proof, _t())
    # a pass-through (no partial sums) is refused for a non-identity map
    empty = type(proof)((), ())
    with pytest.raises(ZkauditError):
        verifier.verify(w, [shape], ["x0"], claim, empty, _t())


def test_gather_select_crop_row_left_in_padding_refused():
    """gather_select's g3 keeps rows 0-2 of h (4, 3) in place: a prover that
    leaves h's row 3 in top's padding (what a pass-through would give) must
    be refused."""
    a = Attack(*small_circuits.instance(small_circuits.gather_select))
    assert a.run(a.honest).accepted
    h = a.honest.table("h")
    ch = [("top", 12 + j, int(h[12 + j]) or 1) for j in range(3)]
    out = a.attempt(*ch)
    assert not out.accepted, out.stage

"""An embedding lookup -- Gather from a weight table by indices that are a
model input (int64, as PyTorch exports nn.Embedding) -- compared with
onnxruntime, proven (zero knowledge) and verified; a prover that takes
another row than the index says is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from oneop import compiled, max_error, prove_and_verify
from zkaudit.onnx.errors import OnnxImportError

VOCAB, WIDTH = 12, 8


def _embedding_model(*, then_relu: bool = False, index_shape=(1, 6)):
    rng = np.random.default_rng(3)
    table = rng.normal(0, 1, (VOCAB, WIDTH)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "ids"], ["e" if then_relu else "y"])]
    if then_relu:
        nodes.append(helper.make_node("Relu", ["e"], ["y"]))
    g = helper.make_graph(nodes, "embed", [helper.make_tensor_value_info("ids", TensorProto.INT64, list(index_shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*index_shape, WIDTH])],
                          initializer=[numpy_helper.from_array(table, "table")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


def _ids(n, shape=(1, 6), seed=0):
    rng = np.random.default_rng(seed)
    return {"ids": rng.integers(-VOCAB, VOCAB, size=(n, *shape)).astype(np.int64)}  # negatives count from the end


@pytest.mark.parametrize("then_relu, shape", [(False, (1, 6)), (True, (6,))])
def test_embedding_matches_onnxruntime_and_proves(then_relu, shape):
    m = _embedding_model(then_relu=then_relu, index_shape=shape)
    data = _ids(16, shape)
    circuit, weights = compiled(m, data)
    spec = circuit.inputs[0]
    assert (spec.lo, spec.hi, spec.scale) == (-VOCAB, VOCAB - 1, None)
    assert circuit.weights  # the table is a committed weight, not a public constant
    err, allowed = max_error(m, circuit, weights, {"ids": data["ids"][:8]})
    assert err <= allowed, (err, allowed)
    v = prove_and_verify(circuit, weights, {"ids": data["ids"][9]})
    assert v.valid, v.reason


def test_the_lookup_is_a_gather_of_rows_not_a_one_hot():
    """Cost N + V cells: one GatherRows of the committed table (after a mod-V
    Table, the indices holding negatives), no (N, V) one-hot."""
    circuit, _ = compiled(_embedding_model(), _ids(16))
    ops = [n.op for n in circuit.nodes]
    assert ops.count("GatherRows") == 1 and "MatMul" not in ops
    table = next(n for n in circuit.nodes if n.op == "Table")
    assert len(table.a["values"]) == 2 * VOCAB  # the indices' range [-V, V-1], not V * N cells


def test_a_prover_taking_another_row_is_refused():
    """The first index's gathered row replaced by another row of the table
    (the output recomputed from it; multiplicities as the honest prover
    counts them, or moved to the row taken): the lookup refuses it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    from malicious_prover import Attack

    m = _embedding_model()
    data = _ids(16)
    circuit, weights = compiled(m, data)
    ids = data["ids"][0]
    attack = Attack(circuit, weights, {"ids": ids})
    assert attack.run(attack.honest).accepted
    node = next(n for n in circuit.nodes if n.op == "GatherRows")
    rows, table = node.output, attack.honest.real(node.inputs[0])
    taken = int(np.asarray(attack.honest.real(node.inputs[1])).ravel()[0])
    other = (taken + 1) % VOCAB
    change = [(rows, c, int(table[other, c])) for c in range(WIDTH)]
    out = attack.attempt(*change)
    assert out.stage.startswith("rejected"), out.stage
    mult = f"{node.name}/mult"
    m_honest = attack.honest.table(mult)
    moved = [(mult, taken, int(m_honest[taken]) - 1), (mult, other, int(m_honest[other]) + 1)]
    out = attack.attempt(*change, *moved)
    assert out.stage.startswith("rejected"), out.stage


def test_index_input_of_another_use_is_refused():
    """A wide integer input used other than as embedding indices has no range to declare."""
    m = _embedding_model()
    m.graph.node.append(helper.make_node("Cast", ["ids"], ["f"], to=TensorProto.FLOAT))
    with pytest.raises(OnnxImportError, match="wider than 16 bits"):
        compiled(m, _ids(4))


def test_compile_prove_verify_from_files(tmp_path):
    """The command-line route: token ids in a calibration .npy (read as
    floats, fed to onnxruntime as the model's int64), the proof's input
    given as integers ('inputs_int')."""
    from zkaudit import api

    onnx.save(_embedding_model(), tmp_path / "m.onnx")
    ids = _ids(16)["ids"]
    np.save(tmp_path / "calibration.npy", ids)
    s = api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration=tmp_path / "calibration.npy")
    assert s.summary["fidelity"]["float_max_abs_error"] < 0.05
    proof = api.prove(tmp_path / "out", {"inputs_int": {"ids": ids[3].tolist()}})
    v = api.verify(proof.proof, circuit=tmp_path / "out")
    assert v.valid


def test_a_table_wider_than_a_lookup_is_gathered_in_blocks():
    """64 columns (a GatherRows table takes at most 63): two blocks of 32,
    joined by Concat; outputs as onnxruntime's, proven and verified."""
    global WIDTH
    saved, WIDTH = WIDTH, 64
    try:
        m = _embedding_model()
        data = _ids(16)
        circuit, weights = compiled(m, data)
        gathers = [n for n in circuit.nodes if n.op == "GatherRows"]
        assert [circuit.specs()[n.inputs[0]].shape for n in gathers] == [(VOCAB, 32), (VOCAB, 32)]
        err, allowed = max_error(m, circuit, weights, {"ids": data["ids"][:8]})
        assert err <= allowed, (err, allowed)
        v = prove_and_verify(circuit, weights, {"ids": data["ids"][9]})
        assert v.valid, v.reason
    finally:
        WIDTH = saved

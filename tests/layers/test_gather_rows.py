"""GatherRows: Y = T[I, :] at run-time indices. Honest runs discharge
against the real tensors (several shapes, a one-row lookup, one column);
every lie a prover can tell is rejected, by the verifier or by the claims it
leaves on the committed tensors: a changed value, another row's values, an
index outside the table, multiplicities that do not count, garbage in the
output's padding, numerators that skip a row, an index column that is not
the row number. End to end, a circuit that walks a small tree by gathers
proves and verifies, plain and zero-knowledge, and a wrong output is
rejected."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.circuit.errors import CircuitError
from zkaudit.errors import ProofRejected
from zkaudit.layers.gather_rows import prover, verifier
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import embed

_spec = importlib.util.spec_from_file_location("_advice_harness",
                                               pathlib.Path(__file__).with_name("advice_layer_harness.py"))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)
_t, discharge = _harness._t, _harness.discharge

NODE = Node.make("g", "GatherRows", ["T", "I"], "Y")


def _case(rows, cols, count, seed=0, lo=-50, hi=50):
    rng = np.random.default_rng(seed)
    table = rng.integers(lo, hi + 1, (rows, cols))
    idx = rng.integers(0, rows, count)
    specs = {"T": TensorSpec("T", (rows, cols), lo, hi), "I": TensorSpec("I", (count,), 0, rows - 1),
             "Y": TensorSpec("Y", (count, cols), lo, hi)}
    env = {"T": table, "I": idx, "Y": kernels.gather_rows(table, idx)}
    return specs, env


def _run(specs, env, advice=None, tamper=None):
    return _harness.run(prover, verifier, NODE, specs, env, advice, tamper)


def _rejected(specs, env, advice=None, tamper=None):
    return _harness.rejected(prover, verifier, NODE, specs, env, advice, tamper)


@pytest.mark.parametrize("rows,cols,count", [(5, 3, 7), (16, 4, 8), (1, 1, 1), (37, 6, 3), (9, 1, 12), (3, 5, 1)])
def test_honest_gather_discharges(rows, cols, count):
    specs, env = _case(rows, cols, count, seed=rows * 31 + cols)
    claims, tables = _run(specs, env)
    assert not isinstance(claims, str), claims
    assert discharge(claims, tables) is None
    names = {c.tensor for c in claims}
    assert names == {"T", "I", "Y", "g/mult"}


def _advice(specs, env, y):
    adv = prover._advice(NODE, specs, env)
    adv["Y"] = np.asarray(y, dtype=np.int64)
    return adv


def test_a_changed_value_is_rejected():
    specs, env = _case(6, 3, 5, seed=1)
    y = env["Y"].copy()
    y[2, 1] += 1
    assert _rejected(specs, env, _advice(specs, env, y))


def test_another_rows_values_are_rejected():
    """Y_k is a real row of T, but not row I_k: the index column pins it."""
    specs, env = _case(6, 3, 5, seed=2)
    idx = env["I"]
    y = env["Y"].copy()
    other = (int(idx[0]) + 1) % 6
    y[0] = env["T"][other]
    adv = _advice(specs, env, y)
    adv["g/mult"] = np.bincount(np.r_[other, idx[1:]], minlength=8)  # multiplicities that match the lie
    assert _rejected(specs, env, adv)


def test_an_index_outside_the_table_is_rejected():
    specs, env = _case(5, 2, 4, seed=3)
    with pytest.raises(ValueError, match="outside the table's 5 rows"):
        kernels.gather_rows(env["T"], np.array([0, 5, 1, 2]))
    env = dict(env, I=np.array([0, 6, 1, 2]))  # row 6: a padding row of the 8-row table, all zero
    y = env["T"][[0, 0, 1, 2]].copy()
    y[1] = 0
    adv = _advice(specs, env, y)
    adv["g/mult"] = np.bincount([0, 1, 2], minlength=8)
    assert _rejected(specs, env, adv)
    adv["g/mult"][6] = 1  # counting the padding row does not help: its tag says not a row
    assert _rejected(specs, env, adv)


def test_multiplicities_that_do_not_count_are_rejected():
    specs, env = _case(6, 3, 5, seed=4)
    adv = prover._advice(NODE, specs, env)
    m = adv["g/mult"].copy()
    j = int(np.flatnonzero(m)[0])
    m[j] -= 1
    m[(j + 1) % 6] += 1
    adv["g/mult"] = m
    assert _rejected(specs, env, adv)


@pytest.mark.parametrize("where", ["row", "column"])
def test_garbage_in_the_output_padding_is_rejected(where):
    specs, env = _case(6, 3, 5, seed=5)  # Y (5, 3) padded to (8, 4)

    def tamper(tables):
        flat = tables["Y"].copy()
        flat[6 * 4 + 1 if where == "row" else 2 * 4 + 3] = np.uint64(9)
        tables["Y"] = flat

    assert _rejected(specs, env, tamper=tamper)


def test_numerators_that_skip_a_row_are_rejected(monkeypatch):
    specs, env = _case(6, 3, 5, seed=6)
    y = env["Y"].copy()
    y[3] = 77  # a row in no table, then left out of the lookup
    adv = _advice(specs, env, y)
    adv["g/mult"] = np.bincount(np.delete(env["I"], 3), minlength=8)
    real = prover.columns

    def skip(lay, tables):
        lookup, numerators, table = real(lay, tables)
        numerators = numerators.copy()
        numerators[3] = 0
        return lookup, numerators, table

    monkeypatch.setattr(prover, "columns", skip)
    assert _rejected(specs, env, adv) == "PublicColumnMismatch"


def test_an_index_column_that_is_not_the_row_number_is_rejected(monkeypatch):
    """The prover relabels the table (row j called j+1) to serve shifted rows."""
    specs, env = _case(6, 3, 5, seed=7)
    real = prover.columns

    def relabel(lay, tables):
        lookup, numerators, table = real(lay, tables)
        table = [table[0].copy()] + table[1:]
        table[0][:6] = (np.arange(6) + 1) % 6
        return lookup, numerators, table

    monkeypatch.setattr(prover, "columns", relabel)
    idx = env["I"]
    y = env["T"][(idx - 1) % 6]  # what the relabelled table serves at index I
    adv = _advice(specs, env, y)
    adv["g/mult"] = np.bincount((idx - 1) % 6, minlength=8)
    assert _rejected(specs, env, adv) == "PublicColumnMismatch"


def test_a_tampered_proof_is_rejected():
    specs, env = _case(6, 3, 5, seed=8)
    adv = prover._advice(NODE, specs, env)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **adv}.items()}
    out: list[bytes] = []
    prover._handler(NODE, specs, None, tables, _t(), out)
    data = bytearray(b"".join(out))
    for pos in (20, len(data) // 2, len(data) - 9):
        bad = bytearray(data)
        bad[pos] ^= 1
        with pytest.raises(ProofRejected):
            reader = ProofReader(bytes(bad))
            claims = verifier._handler(NODE, specs, None, reader, _t())
            reader.finish()
            if discharge(claims, tables) is None:
                pytest.fail(f"a flipped bit at {pos} went unnoticed")
            raise ProofRejected("the claims fail against the committed tensors")


def test_the_executor_names_the_node_for_an_index_outside_the_table():
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs
    from zkaudit.circuit.weights import Weights

    t, i = TensorSpec("T", (4, 2), -9, 9), TensorSpec("I", (3,), 0, 7)
    circuit = with_inferred_specs(Circuit("g", (i,), (TensorSpec("Y", (3, 2), -9, 9),), (t,),
                                          (Node.make("walk", "GatherRows", ["T", "I"], "Y"),),
                                          (TensorSpec("Y", (3, 2), -9, 9),)))
    weights = Weights({"T": np.arange(8).reshape(4, 2) - 4})
    assert circuit.execute(weights, {"I": np.array([0, 3, 1])})["Y"].tolist() == [[-4, -3], [2, 3], [-2, -1]]
    with pytest.raises(CircuitError, match=r"node 'walk' \(GatherRows\): index 6 at position 1"):
        circuit.execute(weights, {"I": np.array([0, 6, 1])})


# --- end to end: a circuit that walks two small trees by gathers ------------------
def _tree_walk():
    """Two trees over 3 features, depth 2 (tree 1 a stump on one side). Node
    table rows [feature, threshold Q, next if x <= Q, next if x > Q, value];
    a leaf loops to itself. Each level: row = W[n], b = Clip(x[f] - Q, 0, 1),
    n' = t + b (e - t); then the leaves' values summed by a MatMul."""
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs
    from zkaudit.circuit.weights import Weights

    table = np.array([
        [0, 3, 1, 2, 0], [2, -4, 3, 4, 0], [0, 0, 2, 2, 11],          # tree 0: root 0, node 1, leaf 2
        [0, 0, 3, 3, -7], [0, 0, 4, 4, 5],                            # leaves 3, 4
        [1, 0, 6, 7, 0], [0, 0, 6, 6, 2], [2, 9, 8, 9, 0],           # tree 1: root 5, leaf 6, node 7
        [0, 0, 8, 8, -3], [0, 0, 9, 9, 13]])                          # leaves 8, 9
    weights = Weights({"W": table, "roots": np.array([0, 5]), "ones": np.ones((1, 2), dtype=np.int64)})
    wspecs = (TensorSpec("W", table.shape, -20, 20), TensorSpec("roots", (2,), 0, 9), TensorSpec("ones", (1, 2), 0, 1))
    x = TensorSpec("x", (1, 3), -16, 15, 0.5, 0)
    nodes = [Node.make("xT", "Reshape", ["x"], "xT", shape=(3, 1))]
    n = "roots"
    for d in range(2):
        p = f"l{d}/"
        nodes.append(Node.make(p + "row", "GatherRows", ["W", n], p + "row"))
        for c, col in enumerate(("f", "Q", "t", "e")):
            nodes.append(Node.make(p + col + "1", "Gather", [p + "row"], p + col + "1", axis=1, indices=(c,)))
            nodes.append(Node.make(p + col, "Reshape", [p + col + "1"], p + col, shape=(2,)))
        nodes += [Node.make(p + "xv1", "GatherRows", ["xT", p + "f"], p + "xv1"),
                  Node.make(p + "xv", "Reshape", [p + "xv1"], p + "xv", shape=(2,)),
                  Node.make(p + "c", "Sub", [p + "xv", p + "Q"], p + "c", a_zero_point=0, b_zero_point=0),
                  Node.make(p + "b", "Clip", [p + "c"], p + "b", lo=0, hi=1),
                  Node.make(p + "diff", "Sub", [p + "e", p + "t"], p + "diff", a_zero_point=0, b_zero_point=0),
                  Node.make(p + "m", "Mul", [p + "b", p + "diff"], p + "m", a_zero_point=0, b_zero_point=0),
                  Node.make(p + "n", "Add", [p + "t", p + "m"], p + "n", a_zero_point=0, b_zero_point=0)]
        n = p + "n"
    nodes += [Node.make("leaf", "GatherRows", ["W", n], "leaf"),
              Node.make("v", "Gather", ["leaf"], "v", axis=1, indices=(4,)),
              Node.make("score", "MatMul", ["ones", "v"], "score", a_zero_point=0, b_zero_point=0)]
    placeholder = [TensorSpec(nd.output, (1,), 0, 0) for nd in nodes]
    out = TensorSpec("score", (1, 1), 0, 0)
    circuit = with_inferred_specs(Circuit("tree-walk", (x,), (out,), wspecs, tuple(nodes), tuple(placeholder)))
    return circuit, weights, table


def _walk_reference(table, x):
    total = 0
    for root in (0, 5):
        n = root
        for _ in range(2):
            f, q, t, e, _v = table[n]
            n = e if x[0, f] > q else t
        total += table[n][4]
    return total


@pytest.fixture(scope="module")
def walk():
    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.inference.prover import commit_weights

    circuit, weights, table = _tree_walk()
    return circuit, weights, table, encode_circuit(circuit), commit_weights(circuit, weights)[0].to_bytes()


@pytest.mark.parametrize("zero_knowledge", [True, False])
def test_a_tree_walk_proves_and_verifies(walk, zero_knowledge):
    from zkaudit.statements.inference.prover import prove
    from zkaudit.statements.verify import verify_proof

    circuit, weights, table, circuit_bin, commitment = walk
    rng = np.random.default_rng(9)
    for x in (np.array([[4, 0, -5]]), np.array([[3, 1, 10]]), rng.integers(-16, 16, (1, 3))):
        assert circuit.execute(weights, {"x": x})["score"].tolist() == [[_walk_reference(table, x)]]
        proof = prove(circuit, weights, {"x": x}, zero_knowledge=zero_knowledge)
        verdict = verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment)
        assert verdict.valid, verdict.reason
        assert verdict.output == {"score": [[_walk_reference(table, x)]]}


def test_a_tree_walk_with_a_wrong_output_is_rejected(walk):
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
    from zkaudit.statements.inference.prover import prove
    from zkaudit.statements.verify import verify_proof

    circuit, weights, _, circuit_bin, commitment = walk
    proof = prove(circuit, weights, {"x": np.array([[4, 0, -5]])})
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    outputs = {k: v.copy() for k, v in body.outputs.items()}
    outputs["score"].flat[0] += 1
    forged = dataclasses_replace(body, outputs=outputs)
    verdict = verify_proof(encode_envelope(STATEMENT, forged.to_bytes(circuit)), circuit_bin=circuit_bin,
                           weight_commitment=commitment)
    assert not verdict.valid


def dataclasses_replace(obj, **kw):
    import dataclasses

    return dataclasses.replace(obj, **kw)


def test_a_batch_of_gathers_is_refused():
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs
    from zkaudit.statements.inference.batch import BatchUnsupported, widen

    i, t = TensorSpec("I", (1,), 0, 3), TensorSpec("T", (4, 2), -9, 9)
    circuit = with_inferred_specs(Circuit("g", (i,), (TensorSpec("Y", (1, 2), 0, 0),), (t,),
                                          (Node.make("g", "GatherRows", ["T", "I"], "Y"),),
                                          (TensorSpec("Y", (1, 2), 0, 0),)))
    with pytest.raises(BatchUnsupported, match="GatherRows"):
        widen(circuit, 2)

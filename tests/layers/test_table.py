"""Table: honest lookups discharge against the real tensors; a wrong table
output, an input outside the domain and tampered bytes are rejected."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.errors import ProofRejected
from zkaudit.layers.shapes import UnsupportedLayer
from zkaudit.layers.table import prover, verifier
from zkaudit.layers.table.values import ValueTable

_spec = importlib.util.spec_from_file_location("_clamp_helpers", pathlib.Path(__file__).with_name("test_clamp.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
discharge, run_layer = _helpers.discharge, _helpers.run_layer


def _case(n_values=256, in_min=-128, shape=(3, 7), seed=0, first=None):
    rng = np.random.default_rng(seed)
    values = rng.integers(-128, 128, size=n_values)
    if first is not None:
        values[0] = first
    node = Node.make("tab", "Table", ["x"], "y", function="sigmoid", in_min=in_min, values=values)
    x = rng.integers(in_min, in_min + n_values, size=shape)
    x.flat[0], x.flat[-1] = in_min, in_min + n_values - 1
    y = kernels.table(x, **node.a)
    specs = {"x": TensorSpec("x", shape, in_min, in_min + n_values - 1), "y": TensorSpec("y", shape, -128, 127)}
    return node, specs, {"x": x, "y": y}


@pytest.mark.parametrize("n_values,in_min,shape,first", [(256, -128, (3, 7), 5), (200, 10, (16,), None),
                                                          (2, 0, (2, 2), -3), (1 << 16, -(1 << 15), (4, 4), 0)])
def test_honest_table_discharges(n_values, in_min, shape, first):
    node, specs, env = _case(n_values, in_min, shape, first=first)
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None
    assert {c.tensor for c in claims} == {"x", "y", "tab/mult"}


def _prove_with(node, specs, env, y_bad, mult=None):
    advice = prover._advice(node, specs, env)
    advice["y"] = y_bad
    if mult is not None:
        advice["tab/mult"] = mult
    return advice


def test_table_output_wrong_is_rejected():
    node, specs, env = _case(first=5)
    y = env["y"].copy()
    y.flat[4] += 1
    with pytest.raises(ProofRejected) as exc:
        run_layer(prover, verifier, node, specs, env, _prove_with(node, specs, env, y))
    assert type(exc.value).__name__ == "LookupSumNonZero"
    # the output of another row of the table, multiplicities moved to match it
    i = 4
    j = int(env["x"].flat[i]) - node.a["in_min"]
    k = (j + 1) % 256
    while node.a["values"][k] == node.a["values"][j]:
        k = (k + 1) % 256
    y = env["y"].copy()
    y.flat[i] = node.a["values"][k]
    mult = prover._advice(node, specs, env)["tab/mult"].copy()
    mult[j] -= 1
    mult[k] += 1
    with pytest.raises(ProofRejected):
        run_layer(prover, verifier, node, specs, env, _prove_with(node, specs, env, y, mult))


def test_input_range_outside_domain_is_refused():
    node, specs, env = _case()
    specs["x"] = TensorSpec("x", (3, 7), -129, 127)
    with pytest.raises(UnsupportedLayer):
        verifier.table_layout(node, specs)


def test_value_table_digest_binds_values():
    assert ValueTable((1, 2, 3)).digest() != ValueTable((1, 2, 4)).digest()
    assert ValueTable((1, 2, 3)).digest() != ValueTable((1, 2, 3, 0)).digest()


def test_tampered_table_proof_is_rejected():
    from zkaudit.layers.stream import ProofReader
    from zkaudit.layers.tensor import embed
    from zkaudit.transcript import Transcript

    def t():
        tr = Transcript()
        tr.absorb_statement("clamp-test", 1)
        return tr

    node, specs, env = _case()
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **prover._advice(node, specs, env)}.items()}
    out: list[bytes] = []
    prover._handler(node, specs, None, tables, t(), out)
    blob = b"".join(out)
    for pos in np.random.default_rng(5).integers(0, len(blob), 12):
        bad = bytearray(blob)
        bad[pos] ^= 0x21
        reader = ProofReader(bytes(bad))
        with pytest.raises(ProofRejected):
            verifier._handler(node, specs, None, reader, t())
            reader.finish()


def test_logistic_risk_zoo_model_proves_end_to_end(tmp_path):
    """circuits/logistic_risk (MatMul -> Requantize -> sigmoid Table, 1x1
    tensors: zero-variable MLEs) compiles, proves and verifies, and the proven
    output equals the reference executor."""
    import json

    from zkaudit.circuit import encode_circuit, load_circuit, load_weights
    from zkaudit.onnx import compile_model
    from zkaudit.statements.inference.prover import commit_weights, prove
    from zkaudit.statements.verify import verify_proof

    zoo = pathlib.Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
    compile_model(zoo / "model.onnx", tmp_path / "lr", calibration=zoo / "calibration.npy")
    circuit, weights = load_circuit(tmp_path / "lr"), load_weights(tmp_path / "lr")
    xs = np.asarray(json.loads((zoo / "input.json").read_text())["inputs"]["x"], dtype=np.float64)
    spec = circuit.inputs[0]
    x = np.clip(np.rint(xs[:1] / spec.scale) + spec.zero_point, spec.lo, spec.hi).astype(np.int64)
    proof = prove(circuit, weights, {spec.name: x})
    verdict = verify_proof(proof, circuit_bin=encode_circuit(circuit),
                           weight_commitment=commit_weights(circuit, weights)[0].to_bytes())
    assert verdict.valid, verdict.reason
    assert verdict.output == {k: v.tolist() for k, v in circuit.execute(weights, {spec.name: x}).items()}

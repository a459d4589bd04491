"""One-node float ONNX models built with onnx.helper, compiled with
calibration, compared with onnxruntime on random inputs, and proven.

Tolerance (the README's, as in `conformance.py`): max absolute error <=
5 % of the reference output's spread plus 2 output LSBs."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from zkaudit.circuit import dequantize, encode_circuit, quantize
from zkaudit.onnx import import_model
from zkaudit.onnx.calibrate import collect_ranges

FLOAT_TOLERANCE = 0.05


def model(op: str, in_shapes: dict, out_shape, inits: dict | None = None, opset: int = 18, **attrs):
    """A one-node graph: inputs named as in `in_shapes` (then `inits`, as
    initializers, in order), one output `y`."""
    inits = inits or {}
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in in_shapes.items()]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))
    node = helper.make_node(op, [*in_shapes, *inits], ["y"], **attrs)
    graph = helper.make_graph([node], op.lower(), ins, [out],
                              initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in inits.items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


def samples(in_shapes: dict, n: int, seed: int = 0, lo: float = -3.0, hi: float = 3.0) -> dict:
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, size=(n, *s)).astype(np.float32) for k, s in in_shapes.items()}


def onnxruntime_outputs(m, feeds: dict, output: str = "y") -> np.ndarray:
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run([output], feeds)[0]


def compiled(m, calib: dict):
    """(circuit, weights) of `m` calibrated on `calib` (name -> (N, *shape))."""
    return import_model(m, ranges=collect_ranges(m, calib), name=m.graph.name)


def circuit_ints(spec, value) -> np.ndarray:
    """What the circuit takes for an input: a float quantized, an ONNX integer as is."""
    return np.asarray(value, dtype=np.int64) if spec.scale is None else quantize(spec, value)


def max_error(m, circuit, weights, data: dict, *, snap: bool = False, output: str = "y") -> tuple[float, float]:
    """(max |ours - onnxruntime| over the samples, the allowed tolerance).
    With `snap`, onnxruntime sees the input the circuit sees (quantized and
    dequantized): for a function with a jump (Sign at 0), where an input
    quantization step moves the output by the whole jump."""
    n = next(iter(data.values())).shape[0]
    worst, allowed = 0.0, np.inf
    spec = next(s for s in circuit.outputs if s.name == output) if len(circuit.outputs) > 1 else circuit.outputs[0]
    for i in range(n):
        feeds = {k: v[i] for k, v in data.items()}
        if snap:
            feeds = {s.name: dequantize(s, quantize(s, feeds[s.name])).astype(np.float32) if s.scale else
                     feeds[s.name] for s in circuit.inputs}
        want = onnxruntime_outputs(m, feeds, output).astype(np.float64)
        ints = {s.name: circuit_ints(s, feeds[s.name]) for s in circuit.inputs}
        got = dequantize(spec, circuit.execute(weights, ints)[spec.name])
        spread = float(want.max() - want.min()) or float(np.abs(want).max(initial=0.0))
        worst = max(worst, float(np.max(np.abs(got - want))))
        allowed = min(allowed, FLOAT_TOLERANCE * spread + 2 * (spec.scale or 0.0) + 1e-6)
    return worst, allowed


def prove_and_verify(circuit, weights, feeds: dict):
    """An inference proof for one sample, checked by the verifier; returns the verdict."""
    from zkaudit.statements.inference.prover import commit_weights, prove
    from zkaudit.statements.verify import verify_proof

    commitment = commit_weights(circuit, weights)[0].to_bytes()
    ints = {s.name: circuit_ints(s, feeds[s.name]) for s in circuit.inputs}
    proof = prove(circuit, weights, ints, weight_commitment=commitment)
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=commitment)

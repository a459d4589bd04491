"""How every command reports a model output: `output` dequantized in the
output's shape, `output_int` the integers (as `zkaudit run --json`)."""

from __future__ import annotations


def output_doc(circuit, ints_by_name) -> dict:
    from zkaudit.circuit import dequantize

    per = {}
    for spec in circuit.outputs:
        q = ints_by_name[spec.name]
        per[spec.name] = {"output": dequantize(spec, q).tolist(), "output_int": _list(q)}
    first = per[circuit.outputs[0].name]
    return {"digest": circuit.digest(), "output": first["output"], "output_int": first["output_int"], "outputs": per}


def _list(q):
    import numpy as np

    return np.asarray(q).tolist()

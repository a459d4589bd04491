"""ArgMax prover (protocol in `verifier.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.layers.argmax.verifier import setup
from zkaudit.layers.pool.prover import max_advice, prove_max
from zkaudit.field import vec
from zkaudit.layers.tensor import embed, padded_shape


def keyed_max(windows, keying, x_table) -> np.ndarray:
    """m'[y] per padded output cell (0 on the padding), as int64."""
    x = vec.to_signed(x_table)
    keys = np.where(windows.mask, keying.scale * windows.gather(x) + keying.key, np.iinfo(np.int64).min)
    m = keys.reshape(-1, 1 << windows.slot_vars).max(axis=1)
    return np.where(windows.mask.reshape(-1, 1 << windows.slot_vars).any(axis=1), m, 0)


def argmax_advice(node, specs, env) -> dict:
    windows, bits, names, keying = setup(node, specs)
    x_t = embed(env[node.inputs[0]])
    m = keyed_max(windows, keying, x_t)
    m_real = m.reshape(padded_shape(windows.out_shape))[tuple(slice(0, d) for d in windows.out_shape)]
    return {node.output: np.asarray(env[node.output], dtype=np.int64), names.y: m_real,
            **max_advice(windows, bits, names, x_t, embed(m_real), keying=keying)}


def _argmax(node, specs, claim, tables, transcript, out):
    windows, bits, names, keying = setup(node, specs)
    proof, claims = prove_max(windows, bits, names, tables, transcript, keying=keying)
    out.append(proof.to_bytes())
    return claims if claim is None else claims + [claim]


def register(handlers, advice) -> None:
    handlers["ArgMax"] = _argmax
    advice["ArgMax"] = argmax_advice

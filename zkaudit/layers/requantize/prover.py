"""Requantize prover (protocol in `verifier.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.layers.clamp.prover import prove_system
from zkaudit.layers.clamp.system import Channel, broadcast
from zkaudit.layers.requantize.verifier import channels, requantize_system


def requantize_values(node, shape, x: np.ndarray) -> dict[str, np.ndarray]:
    """The honest quantities (Python-int object arrays: t may exceed int64 headroom)."""
    if len(shape) == 0:  # 0-d: object arithmetic would decay to Python scalars; one cell (callers reshape)
        return requantize_values(node, (1,), np.reshape(x, (1,)))
    a = node.a
    zi, zo, lo, hi = int(a["in_zero_point"]), int(a["out_zero_point"]), int(a["out_min"]), int(a["out_max"])
    axis, ms, ss = channels(node, len(shape))
    m = broadcast(Channel(axis, tuple(ms)), shape).astype(object)
    s = broadcast(Channel(axis, tuple(ss)), shape).astype(object)
    t = (np.asarray(x, dtype=np.int64).astype(object) - zi) * m
    one = np.ones(shape, dtype=object)
    half = one << (s - 1)
    q = (t + half) >> s
    tie = (t & ((one << s) - 1)) == half
    q = q - (tie & ((q & 1) == 1)).astype(object)
    u = zo + q
    y = np.minimum(np.maximum(u, lo), hi)
    pi = q & 1
    g1 = t - (q << s) + half - pi
    pre = node.name
    out = {f"{pre}/y_minus_lo": y - lo, f"{pre}/hi_minus_y": hi - y,
            f"{pre}/above": np.maximum(u - hi, 0), f"{pre}/below": np.maximum(lo - u, 0),
            f"{pre}/half_q": q >> 1, f"{pre}/parity": pi,
            f"{pre}/rem_lo": g1, f"{pre}/rem_hi": (one << s) - 2 * pi - g1}
    return out


def companions(system, values: dict, pre: str) -> dict:
    """The scaled copies of a and b when the layout asks for them (see verifier)."""
    if "SA" not in system.public:
        return {}
    scale = {k: broadcast(system.public[k], system.shape).astype(object) for k in ("SA", "SB")}
    return {f"{pre}/above_scaled": scale["SA"] * values[f"{pre}/above"],
            f"{pre}/below_scaled": scale["SB"] * values[f"{pre}/below"]}


def _advice(node, specs, env):
    system = requantize_system(node, specs)
    values = requantize_values(node, system.shape, env[node.inputs[0]])
    values.update(companions(system, values, node.name))
    return {node.output: np.asarray(env[node.output], dtype=np.int64), **system.advice_values(values)}


def _handler(node, specs, claim, tables, transcript, out):
    if claim is not None:
        raise ValueError(f"node {node.name}: a claim on the output reached the layer; it must be advice")
    proof, claims = prove_system(requantize_system(node, specs), tables, transcript)
    out.append(proof.to_bytes())
    return claims


def register(handlers, advice) -> None:
    handlers["Requantize"] = _handler
    advice["Requantize"] = _advice

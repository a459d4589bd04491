"""Clip / Relu: honest reductions discharge against the real tensors; lying
advice (sign flipped, saturation swapped, off-by-one output) is rejected."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.errors import ProofRejected
from zkaudit.field import Fp, Fp2
from zkaudit.layers.clamp import prover, verifier
from zkaudit.layers.clamp.proof import SystemProof
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import embed
from zkaudit.poly.mle import evaluate
from zkaudit.transcript import Transcript


def _t():
    t = Transcript()
    t.absorb_statement("clamp-test", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def run_layer(prover_mod, verifier_mod, node, specs, env, advice=None):
    """Prove and verify one advice-output node; returns the verifier's claims
    after checking every one against the real embedded tensors."""
    advice = prover_mod._advice(node, specs, env) if advice is None else advice
    shapes = verifier_mod._advice_shapes(node, specs)
    assert sorted(shapes) == sorted(advice) and all(tuple(np.shape(advice[k])) == tuple(shapes[k]) for k in shapes)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    out: list[bytes] = []
    pclaims = prover_mod._handler(node, specs, None, tables, _t(), out)
    reader = ProofReader(b"".join(out))
    vclaims = verifier_mod._handler(node, specs, None, reader, _t())
    reader.finish()
    assert pclaims == vclaims
    return vclaims, tables


def discharge(claims, tables):
    for c in claims:
        actual = _ext(evaluate(tables[c.tensor], c.point))
        if actual != c.value:
            return c.tensor
    return None


def _specs(shape, lo, hi, out_lo, out_hi):
    return {"x": TensorSpec("x", shape, lo, hi), "y": TensorSpec("y", shape, out_lo, out_hi)}


CASES = [
    (Node.make("clip", "Clip", ["x"], "y", lo=-20, hi=30), (3, 5), -100, 100),
    (Node.make("relu", "Relu", ["x"], "y", zero_point=-7), (2, 3, 4), -128, 127),
    (Node.make("clip2", "Clip", ["x"], "y", lo=0, hi=0), (6,), -5, 5),
    (Node.make("clipw", "Clip", ["x"], "y", lo=-128, hi=127), (4, 4), -(2**31), 2**31 - 1),
]


def _env(node, shape, lo, hi, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(lo, hi + 1, size=shape)
    x.flat[0], x.flat[-1] = lo, hi
    y = kernels.KERNELS[node.op](x, **node.a) if hasattr(kernels, "KERNELS") else None
    if y is None:
        y = kernels.relu(x, **node.a) if node.op == "Relu" else kernels.clip(x, **node.a)
    return {"x": x, "y": y}


@pytest.mark.parametrize("node,shape,lo,hi", CASES)
def test_honest_clamp_discharges(node, shape, lo, hi):
    env = _env(node, shape, lo, hi)
    specs = _specs(shape, lo, hi, int(env["y"].min()), int(env["y"].max()))
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None
    assert {c.tensor for c in claims} >= {"x", "y"}

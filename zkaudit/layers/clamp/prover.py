"""Clip / Relu prover and the prover of the shared constraint system
(protocol in `verifier.py` and `system.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.clamp.proof import SystemProof
from zkaudit.layers.clamp.system import EQ, IND, LABEL_GAMMA, LABEL_POINT, System
from zkaudit.layers.clamp.verifier import clamp_bounds, clamp_system
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.tensor import num_vars
from zkaudit.lookup import prover as lookup_prover
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.transcript import Transcript


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def prove_system(system: System, tables, transcript: Transcript) -> tuple[SystemProof, list[TensorClaim]]:
    """`tables[name]` gives the embedded tensors, advice limbs and multiplicities."""
    out: list[TensorClaim] = []
    limbs = system.limb_list()
    lk_proof = None
    if transcript.lookups is not None:  # one argument for the whole proof (`layers.lookup_batch`)
        transcript.lookups.add(system.mult_prefix, system.instance(), [[name] for name, _ in limbs],
                               system.mult_names())
    else:
        columns = [[tables[name]] for name, _ in limbs]
        mults = [tables[m] for m in system.mult_names()]
        lk_proof, claims = lookup_prover.prove(system.instance(), columns, mults, transcript)
        for (name, _), cl in zip(limbs, claims.columns):
            out.append(TensorClaim(name, tuple(cl[0].point), cl[0].value))
        for name, cl in zip(system.mult_names(), claims.multiplicities):
            out.append(TensorClaim(name, tuple(cl.point), cl.value))

    n = num_vars(system.shape)
    r = transcript.challenge_exts(LABEL_POINT, n)
    gamma = transcript.challenge_ext(LABEL_GAMMA)
    cols = system.columns()
    named = {**system.tensors, **system.advice, **system.bits}
    data = []
    for key in cols:
        if key == EQ:
            data.append(eq_table(r))
        elif key == IND or key in system.public:
            data.append(system.public_table(key))
        elif key in named:
            data.append(tables[named[key]])
        else:
            data.append(tables[key])
    zc, reduced, _ = sumcheck_prover.prove(data, system.spec(gamma), transcript, claimed_sum=Fp2(0),
                                           public=system.public_indices(), eq_point=r)
    s = tuple(reduced.point)
    values = dict(zip(cols, (_ext(v) for v in reduced.values)))
    for key, name in named.items():
        out.append(TensorClaim(name, s, values[key]))
    for name, _ in limbs:
        out.append(TensorClaim(name, s, values[name]))
    return SystemProof(lk_proof, zc), out


def clamp_values(node, specs, x: np.ndarray) -> dict[str, np.ndarray]:
    """The honest quantities of a Clip/Relu (before limb decomposition)."""
    lo, hi = clamp_bounds(node, specs)
    x = np.asarray(x, dtype=np.int64)
    y = np.clip(x, lo, hi)
    pre = node.name
    return {f"{pre}/y_minus_lo": y - lo, f"{pre}/hi_minus_y": hi - y,
            f"{pre}/above": np.maximum(x - hi, 0), f"{pre}/below": np.maximum(lo - x, 0)}


def _advice(node, specs, env):
    system = clamp_system(node, specs)
    return {node.output: np.asarray(env[node.output], dtype=np.int64),
            **system.advice_values(clamp_values(node, specs, env[node.inputs[0]]))}


def _handler(node, specs, claim, tables, transcript, out):
    if claim is not None:
        raise ValueError(f"node {node.name}: a claim on the output reached the layer; it must be advice")
    proof, claims = prove_system(clamp_system(node, specs), tables, transcript)
    out.append(proof.to_bytes())
    return claims


def register(handlers, advice) -> None:
    for op in ("Clip", "Relu"):
        handlers[op] = _handler
        advice[op] = _advice

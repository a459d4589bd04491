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


P = 2**64 - 2**32 + 1


def forge(system, values, output=None, output_value=None):
    """Advice as a cheating prover would commit it: limbs of any integer
    (out-of-range values wrap mod p and leave the top limb outside its table),
    multiplicities counting only what is in the tables."""
    out = {name: np.asarray(values[name], dtype=np.int64).reshape(system.shape) for name in system.bits.values()}
    for q in system.quantities:
        v = np.asarray(values[q.name], dtype=object).reshape(system.shape)
        u = (v + (1 << (q.bits - 1))) % P if q.signed else v % P
        shift = 0
        for j, (name, w) in enumerate(zip(q.limb_names, q.widths)):
            limb = u >> shift if j == len(q.widths) - 1 else (u >> shift) & ((1 << w) - 1)
            out[name] = np.array([int(l) - P if int(l) >= 2**63 else int(l) for l in limb.ravel()],
                                 dtype=np.int64).reshape(system.shape)
            shift += w
    pad = int(np.prod([1 << (d - 1).bit_length() for d in system.shape])) - int(np.prod(system.shape))
    for mname, w in zip(system.mult_names(), system.widths()):
        counts = np.zeros(1 << w, dtype=np.int64)
        for name, lw in system.limb_list():
            if lw == w:
                vals = out[name].ravel()
                vals = vals[(vals >= 0) & (vals < 1 << w)]
                counts += np.bincount(vals, minlength=1 << w)
                counts[0] += pad
        out[mname] = counts
    if output is not None:
        out[output] = np.asarray(output_value, dtype=np.int64)
    return out


def rejected(prover_mod, verifier_mod, node, specs, env, advice):
    """True iff the verifier rejects the proof built on `advice` (or the claims
    it returns fail against the committed tables, which the opening would catch)."""
    try:
        claims, tables = run_layer(prover_mod, verifier_mod, node, specs, env, advice)
    except ProofRejected as exc:
        return type(exc).__name__
    bad = discharge(claims, tables)
    return f"opening:{bad}" if bad else None


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


def _attack_setup(node):
    shape, lo, hi = (4, 4), -100, 100
    env = _env(node, shape, lo, hi, seed=3)
    specs = _specs(shape, lo, hi, int(env["y"].min()), int(env["y"].max()))
    system = verifier.clamp_system(node, specs)
    values = {k: np.asarray(v, dtype=object) for k, v in prover.clamp_values(node, specs, env["x"]).items()}
    return env, specs, system, values


def _mutate(node, env, specs, system, values, idx, y_new, **changes):
    """Change element `idx`: output y_new, quantities recomputed from it unless given."""
    lo, hi = verifier.clamp_bounds(node, specs)
    pre = node.name
    y = env["y"].copy()
    y.flat[idx] = y_new
    vals = {k: v.copy() for k, v in values.items()}
    vals[f"{pre}/y_minus_lo"].flat[idx] = y_new - lo
    vals[f"{pre}/hi_minus_y"].flat[idx] = hi - y_new
    for k, v in changes.items():
        vals[f"{pre}/{k}"].flat[idx] = v
    return forge(system, vals, node.output, y)


CLIP = Node.make("clip", "Clip", ["x"], "y", lo=-20, hi=30)
RELU = Node.make("relu", "Relu", ["x"], "y", zero_point=0)


def test_forge_of_honest_values_is_accepted():
    env, specs, system, values = _attack_setup(CLIP)
    assert rejected(prover, verifier, CLIP, specs, env, forge(system, values, "y", env["y"])) is None


def test_relu_sign_flipped_is_rejected():
    env, specs, system, values = _attack_setup(RELU)
    i = int(np.flatnonzero((env["x"].ravel() < -3) & (env["x"].ravel() > -60))[0])
    x = int(env["x"].flat[i])
    # Y = -x (the sign flipped); b chosen so X - a + b - Y = 0 still holds: Z2 fails
    assert rejected(prover, verifier, RELU, specs, env,
                    _mutate(RELU, env, specs, system, values, i, -x, below=-2 * x)) == "RoundSumMismatch"
    # Y = x (negative passed through): y - lo out of range, caught by the lookup
    assert rejected(prover, verifier, RELU, specs, env,
                    _mutate(RELU, env, specs, system, values, i, x, below=0)) == "LookupSumNonZero"


def test_clip_saturation_swapped_is_rejected():
    env, specs, system, values = _attack_setup(CLIP)
    i = int(np.flatnonzero(env["x"].ravel() > 30)[0])
    x = int(env["x"].flat[i])
    assert rejected(prover, verifier, CLIP, specs, env,
                    _mutate(CLIP, env, specs, system, values, i, 30, above=0, below=x - 30)) == "RoundSumMismatch"


def test_clip_output_off_by_one_is_rejected():
    env, specs, system, values = _attack_setup(CLIP)
    i = int(np.flatnonzero(env["x"].ravel() < -20)[0])
    x = int(env["x"].flat[i])
    # Y = lo + 1 with b = Y - X so the linear relation holds: b (Y - lo) != 0
    assert rejected(prover, verifier, CLIP, specs, env,
                    _mutate(CLIP, env, specs, system, values, i, -19, below=-19 - x)) == "RoundSumMismatch"
    # inside the range: Y = X + 1 with a = 1 (above): a (hi - Y) != 0
    j = int(np.flatnonzero((env["x"].ravel() > -20) & (env["x"].ravel() < 29))[0])
    xj = int(env["x"].flat[j])
    assert rejected(prover, verifier, CLIP, specs, env,
                    _mutate(CLIP, env, specs, system, values, j, xj - 1, above=1)) == "RoundSumMismatch"


def test_tampered_proof_bytes_are_rejected():
    env, specs, system, values = _attack_setup(CLIP)
    advice = prover._advice(CLIP, specs, env)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    out: list[bytes] = []
    prover._handler(CLIP, specs, None, tables, _t(), out)
    blob = b"".join(out)
    rng = np.random.default_rng(1)
    for pos in rng.integers(0, len(blob), 12):
        bad = bytearray(blob)
        bad[pos] ^= 0x5A
        reader = ProofReader(bytes(bad))
        with pytest.raises(ProofRejected):
            verifier._handler(CLIP, specs, None, reader, _t())
            reader.finish()


def test_limb_width_follows_the_tensor_size():
    """A 16-entry tensor does not pay for a 2^16 range table; a 2^20-entry
    one uses 16-bit limbs (fewest limb columns). Both sides derive it from
    public shapes, so it is part of the circuit, not a prover choice."""
    from zkaudit.lookup.limbs import LIMB_BITS, choose_limb_bits

    def pick(rows, bits):
        return choose_limb_bits([(rows, b) for b in bits])

    assert pick(16, [8, 8, 24, 24]) < 12
    assert pick(1 << 20, [16, 32]) == LIMB_BITS
    assert pick(1 << 20, [8, 8, 24, 24]) == 12  # as few limbs as 16 bits, smaller tables
    assert all(4 <= pick(n, [20, 3, 31]) <= LIMB_BITS for n in (1, 7, 300, 5000))

"""Clip / Relu verifier, and the verifier of the shared constraint system.

Clip, Y = min(max(X, lo), hi) (Relu: lo = zero_point, hi = max(lo, X's
declared upper bound), so the clip is the identity above lo). Advice: Y
(the output), and as 16-bit limbs
    y1 = Y - lo,  y2 = hi - Y   in [0, 2^k_y),  k_y = bits(hi - lo)
    a  = max(X - hi, 0)         in [0, 2^k_a),  k_a = bits(max(X_hi - hi, 0))
    b  = max(lo - X, 0)         in [0, 2^k_b),  k_b = bits(max(lo - X_lo, 0))
Relations (each on every entry, with I the real-entry indicator):
    R1: Y - lo I - y1 = 0          R2: hi I - Y - y2 = 0  (dropped, with y2,
                                       when [lo, hi] has exactly 2^k_y values)
    R3: X - a + b - Y = 0
    Z1: a (hi I - Y) = 0           Z2: b (Y - lo I) = 0
    P:  (1 - I) Y = 0              (Y's padding; added by the System for
                                    every advice tensor, so dropping R2
                                    cannot leave it free in [0, 2^k_y))
Over the integers (no term can wrap mod p: `check_no_wrap` bounds each
relation, and k_a + k_y, k_b + k_y < 64): R1+R2 give Y in [lo, hi]; Z1 says
a > 0 only when Y = hi, so X = hi + a > hi; Z2 says b > 0 only when Y = lo,
so X = lo - b < lo; a = b = 0 gives Y = X in [lo, hi]. If a, b > 0 then
lo = hi = Y. In every case Y = clip(X, lo, hi): exactly the executor's output.

The system (`system.py`): every limb is looked up in its range table by one
LogUp argument (claims on limbs and multiplicities go to the advice
opening); the relations by one zero-check sum-check at random r with
random gamma, whose final values at s are checked (eq, I, public
per-channel tables: the verifier's own O(n + channels) evaluations) or
returned as claims (X down the walk, Y and limbs to the advice opening).
"""

from __future__ import annotations

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import Fp2
from zkaudit.layers.clamp.errors import PublicTableMismatch, UnexpectedClaim
from zkaudit.layers.clamp.proof import SystemProof
from zkaudit.layers.clamp.system import EQ, IND, LABEL_GAMMA, LABEL_POINT, Quantity, System, bits_for, check_no_wrap
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.tensor import num_vars
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.poly.mle import eq_eval
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.transcript import Transcript


def verify_system(system: System, proof: SystemProof, transcript: Transcript, *, where: str) -> list[TensorClaim]:
    out: list[TensorClaim] = []
    batch = transcript.lookups
    if (batch is None) != (proof.lookup is not None):
        raise MalformedProof("a system's lookup sent inline where the statement batches lookups, or the reverse "
                             "(proofs made before inference protocol 5 send them inline: prove again)",
                             where=where, expected=batch is None, got=proof.lookup is not None)
    if batch is not None:  # proven with every other system's after the walk (`layers.lookup_batch`)
        batch.add(system.mult_prefix, system.instance(), [[name] for name, _ in system.limb_list()],
                  system.mult_names())
    else:
        claims = lookup_verifier.verify(system.instance(), proof.lookup, transcript)
        for (name, _), cl in zip(system.limb_list(), claims.columns):
            out.append(TensorClaim(name, tuple(cl[0].point), cl[0].value))
        for name, cl in zip(system.mult_names(), claims.multiplicities):
            out.append(TensorClaim(name, tuple(cl.point), cl.value))

    n = num_vars(system.shape)
    r = transcript.challenge_exts(LABEL_POINT, n)  # zero-check point: n/p^2
    gamma = transcript.challenge_ext(LABEL_GAMMA)  # batches the relations: #relations/p^2
    reduced = sumcheck_verifier.verify(proof.zero_check, Fp2(0), n, system.spec(gamma), transcript, where=where,
                                       public=system.public_indices())
    s = tuple(reduced.point)
    values = dict(zip(system.columns(), reduced.values))
    expected = eq_eval(r, s)
    if values[EQ] != expected:
        raise PublicTableMismatch("eq value is not eq(r, s)", where=where, expected=expected, got=values[EQ])
    keys = [IND, *system.public]
    for key, expected in zip(keys, system.public_evals(keys, s)):
        if values[key] != expected:
            raise PublicTableMismatch(f"public table {key} has the wrong value", where=where, expected=expected,
                                      got=values[key])
    for key, name in {**system.tensors, **system.advice, **system.bits}.items():
        out.append(TensorClaim(name, s, values[key]))
    for name, _ in system.limb_list():
        out.append(TensorClaim(name, s, values[name]))
    return out


def clamp_bounds(node, specs) -> tuple[int, int]:
    x = specs[node.inputs[0]]
    if node.op == "Relu":
        lo = int(node.a["zero_point"])
        return lo, max(lo, int(x.hi))
    return int(node.a["lo"]), int(node.a["hi"])


def clamp_system(node, specs) -> System:
    """The public layout of a Clip/Relu proof (both sides build it)."""
    from zkaudit.layers.shapes import UnsupportedLayer

    x = specs[node.inputs[0]]
    shape = tuple(specs[node.output].shape)
    lo, hi = clamp_bounds(node, specs)
    if hi < lo:
        raise UnsupportedLayer(f"node {node.name!r}: empty clip range [{lo}, {hi}]")
    ky = bits_for(hi - lo)
    ka = bits_for(max(int(x.hi) - hi, 0))
    kb = bits_for(max(lo - int(x.lo), 0))
    xmax = max(abs(int(x.lo)), abs(int(x.hi)))
    ymax = max(abs(lo), abs(hi))
    where = f"node {node.name} ({node.op})"
    check_no_wrap([ymax, abs(lo), 1 << ky], where)
    check_no_wrap([xmax, 1 << ka, 1 << kb, ymax + (1 << ky)], where)
    if max(ka, kb) + ky > 63:
        raise UnsupportedLayer(f"{where}: saturation ranges too wide for the zero-checks")
    exact = hi - lo + 1 == 1 << ky  # then y2 is implied by y1's range
    pre = f"{node.name}"
    qs = [Quantity(f"{pre}/y_minus_lo", ky), Quantity(f"{pre}/hi_minus_y", ky),
          Quantity(f"{pre}/above", ka), Quantity(f"{pre}/below", kb)]
    y1, y2, a, b = (f"q:{q.name}" for q in qs)
    rel = [
        [(1, ("Y",)), (-lo, (IND,)), (-1, (y1,))],
        [(hi, (IND,)), (-1, ("Y",)), (-1, (y2,))],
        [(1, ("X",)), (-1, (a,)), (1, (b,)), (-1, ("Y",))],
        [(hi, (a, IND)), (-1, (a, "Y"))],
        [(1, (b, "Y")), (-lo, (b, IND))],
    ]
    if exact:
        del qs[1], rel[1]
    return System(shape, {}, {"X": node.inputs[0]}, {"Y": node.output}, qs, rel, mult_prefix=pre)


def _handler(node, specs, claim, reader, transcript):
    where = f"node {node.name} ({node.op})"
    if claim is not None:
        raise UnexpectedClaim("a claim on the output reached the layer; it must be advice", where=where)
    return verify_system(clamp_system(node, specs), reader.read(SystemProof), transcript, where=where)


def _advice_shapes(node, specs):
    system = clamp_system(node, specs)
    return {node.output: system.shape, **system.advice_shapes()}


def register(handlers, advice_shapes) -> None:
    for op in ("Clip", "Relu"):
        handlers[op] = _handler
        advice_shapes[op] = _advice_shapes

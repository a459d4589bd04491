"""Range checks of the committed tensors, in every inference proof.

The vendor supplies the weights, and in committed-input mode the input is
bound only by a commitment, so both are advice like any other: each
committed tensor w with declared range [lo, hi] (lo <= 0 <= hi) is shown to
lie in it. With u = embed(w) - lo over the whole padded table (padding entries
are 0, so u = -lo there, also in range) and b = bits(hi - lo):
    u in [0, 2^b)   by LogUp in range tables,
directly when b <= w, else through w-bit limbs l_j committed as advice and
recomposed at a fresh point z:  u~(z) = sum_j 2^(w j) l_j~(z), which cannot
wrap since 2^b < p. Claims out: on w (to the weight opening: u~ = w~ - lo,
as the MLE of a constant is that constant), on limbs and multiplicities (to
the advice opening). The accumulator bounds every layer's wrap-free argument
relies on follow from these ranges. All committed tensors share one lookup
instance (one GKR), so committing the input adds columns, not a proof; the
limb width w <= 16 is chosen from the tensors' sizes and ranges
(`lookup.limbs.choose_limb_bits`), so a short bias vector does not pay for a
2^16 table.

This module is the public plan both sides share.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.circuit.graph import Circuit
from zkaudit.errors import ZkauditError
from zkaudit.layers.tensor import num_vars
from zkaudit.lookup import Lookup, LookupInstance, TableSpec
from zkaudit.lookup.limbs import choose_limb_bits

LABEL_LIMB_POINT = b"inference/range/limb-point"
LABEL_LIMB_VALUES = b"inference/range/limb-values"
WEIGHTS, INPUTS = "weights", "inputs"


@dataclass(frozen=True)
class TensorRange:
    name: str
    kind: str  # WEIGHTS or INPUTS: which commitment the claims on it go to
    lo: int
    num_vars: int
    widths: tuple[int, ...]  # one entry: the shifted weight is looked up directly

    @property
    def limb_names(self) -> list[str]:
        return [] if len(self.widths) == 1 else [f"{self.kind}/{self.name}/limb{j}" for j in range(len(self.widths))]


@dataclass(frozen=True)
class RangePlan:
    tensors: tuple[TensorRange, ...]
    instance: LookupInstance | None

    @property
    def mult_names(self) -> list[str]:
        return [] if self.instance is None else [f"range/multiplicity{j}" for j in
                                                 range(len(self.instance.tables))]

    def advice_shapes(self) -> dict[str, tuple[int, ...]]:
        out = {}
        for t in self.tensors:
            out.update({n: (1 << t.num_vars,) for n in t.limb_names})
        for name, table in zip(self.mult_names, self.instance.tables if self.instance else ()):
            out[name] = (1 << table.bits,)
        return out


def plan(circuit: Circuit, *, committed_inputs: bool = False) -> RangePlan:
    """The weights always; the inputs too when they are committed rather
    than published (public inputs are range-checked by the proof parser)."""
    tensors = []
    committed = [(s, WEIGHTS) for s in circuit.weights]
    committed += [(s, INPUTS) for s in circuit.inputs] if committed_inputs else []
    for spec, kind in committed:
        what = "weight" if kind == WEIGHTS else "input"
        if not spec.lo <= 0 <= spec.hi:
            raise ZkauditError(f"{what} {spec.name!r} has range [{spec.lo}, {spec.hi}] without 0; "
                               "its padding could not be range-checked")
        bits = max(1, (spec.hi - spec.lo).bit_length())
        if bits > 62:
            raise ZkauditError(f"{what} {spec.name!r} spans {bits} bits; at most 62 can be range-checked")
        tensors.append((spec.name, kind, spec.lo, num_vars(spec.shape), bits))
    if not tensors:
        return RangePlan((), None)
    limb = choose_limb_bits([(1 << nv, bits) for *_, nv, bits in tensors])
    ranges = []
    for name, kind, lo, nv, bits in tensors:
        full, rest = divmod(bits, limb)
        ranges.append(TensorRange(name, kind, lo, nv, (limb,) * full + ((rest,) if rest else ())))
    tensors = ranges
    table_bits = sorted({w for t in tensors for w in t.widths}, reverse=True)
    lookups = tuple(Lookup(table_bits.index(w), 1 << t.num_vars) for t in tensors for w in t.widths)
    return RangePlan(tuple(tensors), LookupInstance(tuple(TableSpec.range(b) for b in table_bits), lookups))


def claims_out(plan: RangePlan, lookup_claims, transcript, limb_values_at) -> list:
    """The claims both sides derive from the lookup's claims. For each limbed
    tensor a fresh point z is drawn (t.num_vars / p^2), `limb_values_at(t, z)`
    gives the limbs' values there (the prover evaluates them, the verifier
    reads them from the proof), they are absorbed, and the tensor's value at
    z is their recomposition (`lookup.limbs.recompose_value`) plus lo."""
    from zkaudit.layers.claim import TensorClaim
    from zkaudit.lookup.limbs import recompose_value

    out = [TensorClaim(n, c.point, c.value) for n, c in zip(plan.mult_names, lookup_claims.multiplicities)]
    col = 0
    for t in plan.tensors:
        if not t.limb_names:
            c = lookup_claims.columns[col][0]
            out.append(TensorClaim(t.name, tuple(c.point), c.value + t.lo))
            col += 1
            continue
        for j, name in enumerate(t.limb_names):
            c = lookup_claims.columns[col + j][0]
            out.append(TensorClaim(name, tuple(c.point), c.value))
        col += len(t.limb_names)
        z = tuple(transcript.challenge_exts(LABEL_LIMB_POINT, t.num_vars))
        values = limb_values_at(t, z)
        transcript.absorb_exts(LABEL_LIMB_VALUES, values)
        out += [TensorClaim(name, z, v) for name, v in zip(t.limb_names, values)]
        out.append(TensorClaim(t.name, z, recompose_value(values, t.widths) + t.lo))
    return out

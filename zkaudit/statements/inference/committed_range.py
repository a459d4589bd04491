"""Range checks of the committed tensors, in every inference proof.

The vendor supplies the weights, and in committed-input mode the input is
bound only by a commitment, so both are advice like any other. For each
committed tensor w with declared range [lo, hi] (lo <= 0 <= hi),
b = bits(hi - lo) and I the public indicator of its real entries, two
columns over the whole padded table
    c_lo = w - lo I,   c_hi = hi I - w     in [0, 2^b)   by LogUp
show, on real entries, lo <= w <= hi (both sides: one side alone admits
values up to lo + 2^b - 1 > hi when hi - lo + 1 is not a power of two), and
on the padding w in [0, 2^b) and -w in [0, 2^b), i.e. w = 0 (2^(b+1) < p).
Padding that is merely in range would be a backdoor: layers sum over padded
dimensions (`layers` docstring), so the padding of every tensor must be
zero, and for committed tensors this is where it is proven.

A column is looked up directly when b <= the limb width, else through limbs
l_j committed as advice and recomposed at a fresh point z:
c~(z) = sum_j 2^(w j) l_j~(z), which cannot wrap since 2^b < p. Claims out:
on w (to the weight or input opening: w~ = c_lo~ + lo I~ = hi I~ - c_hi~,
I~ evaluated by the verifier), on limbs and multiplicities (to the advice
opening). The accumulator bounds every layer's wrap-free argument rely on
these ranges. All committed tensors share one lookup instance, so
committing the input adds columns, not a proof; the limb width w <= 16 is
chosen from the tensors' sizes and ranges (`lookup.limbs.choose_limb_bits`),
so a short bias vector does not pay for a 2^16 table.

That instance is not an argument of its own: it is registered last in the
proof's lookup batch (`layers.lookup_batch`, `register`), so the weights'
range tables and the layers' limbs share one LogUp argument and one set of
GKR trees run in lock step; the batch hands back this instance's claims
(`claims_out`), and the limb values at the fresh points follow the batch's
section in the layer stream. The columns are exactly those of a separate
argument and carry their own tables' tags, so each table's multiplicities
stay this instance's (the batch's soundness is one LogUp over the union).

This module is the public plan both sides share.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.circuit.graph import Circuit
from zkaudit.errors import ZkauditError
from zkaudit.field.scalar import Fp2
from zkaudit.layers.tensor import num_vars, real_indicator
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
    hi: int
    shape: tuple[int, ...]
    widths: tuple[int, ...]  # one entry: each column is looked up directly

    @property
    def num_vars(self) -> int:
        return num_vars(self.shape)

    def limb_names(self, side: str) -> list[str]:
        """Advice names of one column's limbs (side: LO or HI); none when direct."""
        if len(self.widths) == 1:
            return []
        return [f"{self.kind}/{self.name}/{side}/limb{j}" for j in range(len(self.widths))]

    @property
    def all_limb_names(self) -> list[str]:
        return self.limb_names(LO) + self.limb_names(HI)


LO, HI = "lo", "hi"
SIDES = (LO, HI)


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
            out.update({n: (1 << t.num_vars,) for n in t.all_limb_names})
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
                               "its padding could not be proven zero")
        bits = max(1, (spec.hi - spec.lo).bit_length())
        if bits > 62:
            raise ZkauditError(f"{what} {spec.name!r} spans {bits} bits; at most 62 can be range-checked")
        tensors.append((spec, kind, bits))
    if not tensors:
        return RangePlan((), None)
    # two columns per tensor (c_lo, c_hi), each of the tensor's padded size
    limb = choose_limb_bits([(2 << num_vars(spec.shape), bits) for spec, _, bits in tensors])
    ranges = []
    for spec, kind, bits in tensors:
        full, rest = divmod(bits, limb)
        ranges.append(TensorRange(spec.name, kind, int(spec.lo), int(spec.hi), tuple(spec.shape),
                                  (limb,) * full + ((rest,) if rest else ())))
    table_bits = sorted({w for t in ranges for w in t.widths}, reverse=True)
    lookups = tuple(Lookup(table_bits.index(w), 1 << t.num_vars) for t in ranges for _ in SIDES for w in t.widths)
    return RangePlan(tuple(ranges), LookupInstance(tuple(TableSpec.range(b) for b in table_bits), lookups))


def weight_value(t: TensorRange, side: str, column_value, point) -> Fp2:
    """w~(point) from a column's value there: c_lo + lo I or hi I - c_hi."""
    ind = real_indicator(t.shape, point)
    return column_value + ind * t.lo if side == LO else ind * t.hi - column_value


def claims_out(plan: RangePlan, lookup_claims, transcript, limb_values_at) -> list:
    """The claims both sides derive from the lookup's claims. For each limbed
    tensor a fresh point z is drawn (t.num_vars / p^2), `limb_values_at(t, z)`
    gives both columns' limb values there (the prover evaluates them, the
    verifier reads them from the proof), they are absorbed, and each column's
    value at z is their recomposition (`lookup.limbs.recompose_value`), which
    gives two claims on w at z."""
    from zkaudit.layers.claim import TensorClaim
    from zkaudit.lookup.limbs import recompose_value

    out = [TensorClaim(n, c.point, c.value) for n, c in zip(plan.mult_names, lookup_claims.multiplicities)]
    col = 0
    for t in plan.tensors:
        if len(t.widths) == 1:
            for side in SIDES:
                c = lookup_claims.columns[col][0]
                point = tuple(c.point)
                out.append(TensorClaim(t.name, point, weight_value(t, side, c.value, point)))
                col += 1
            continue
        names = t.all_limb_names
        for j, name in enumerate(names):
            c = lookup_claims.columns[col + j][0]
            out.append(TensorClaim(name, tuple(c.point), c.value))
        col += len(names)
        z = tuple(transcript.challenge_exts(LABEL_LIMB_POINT, t.num_vars))
        sent, values = limb_values_at(t, z)  # in a zero-knowledge run: padded, and Hidden
        transcript.absorb_exts(LABEL_LIMB_VALUES, sent)
        out += [TensorClaim(name, z, v) for name, v in zip(names, values)]
        per_side = len(t.widths)
        for i, side in enumerate(SIDES):
            column = recompose_value(values[i * per_side:(i + 1) * per_side], t.widths)
            out.append(TensorClaim(t.name, z, weight_value(t, side, column, z)))
    return out


WHERE = "inference.range"


def register(plan: RangePlan, batch, transcript, limb_values_at, arrays=None) -> None:
    """Register the instance in the proof's lookup batch (after the walk,
    so last on both sides); `claims_out` runs when the batch hands back the
    claims. `arrays(tables)`: the columns (prover side)."""
    if plan.instance is None:
        return
    batch.add_mapped(WHERE, plan.instance, plan.mult_names,
                     lambda claims: claims_out(plan, claims, transcript, limb_values_at), arrays)

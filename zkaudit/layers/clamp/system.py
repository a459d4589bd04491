"""A small constraint system over one tensor shape, shared by the non-linear
element-wise layers (Clip/Relu here, Requantize in `layers.requantize`).

The system names columns, all MLEs over the shape's padded hypercube:

* public tables the verifier evaluates itself: "I" (indicator of the real
  entries) and per-channel broadcast tables (a vector along one axis, zero on
  the padding), whose MLE is sum_c v_c eq(c, r_axis) * prod_{d != axis} ind_d;
* GKR tensors (the node's input X): claims on them flow down the walk;
* committed advice tensors (the node's output Y);
* committed bit columns, each with the relation b (b - 1) = 0 added (a
  zero-check row instead of a lookup column);
* range-checked quantities: each is committed as w-bit (or narrower) limbs
  l_j, one advice tensor per limb, looked up in range tables, and stands for
  sum_j 2^(w j) l_j  (minus 2^(k-1) I when signed, k its bit width). The
  limb width w <= 16 is public, chosen from the shape and the quantities'
  widths (`choose_limb_bits`): a small tensor does not pay for a 2^16 table.

Relations are polynomials of degree <= 2 in the columns with integer
coefficients; each must vanish at every point of the hypercube. Besides the
layer's own, every advice tensor gets (1 - I) v = 0: its padding is zero. They are
proven together by one zero-check: for random gamma and r (drawn after every
commitment),
    sum_x eq(r, x) sum_i gamma^i R_i(x) = 0,
a degree-3 sum-check to a point s whose final values the verifier checks
(public ones) or returns as claims (tensors and limbs). Soundness of the
zero-check: (#relations)/p^2 for gamma, n/p^2 for r, 3n/p^2 for the
sum-check. The lookup of all limbs is one LogUp argument; its claims on limbs
and multiplicities are advice claims.

A layer turns "these relations hold over the integers" into its op's
semantics; it must show no relation can hold modulo p without holding over
the integers (`check_no_wrap` bounds the terms of a linear relation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from zkaudit.field.constants import P, W
from zkaudit.field.scalar import Fp, Fp2, _fp2
from zkaudit.layers.tensor import embed, padded_shape, real_indicator, split_point
from zkaudit.lookup.limbs import LIMB_BITS, choose_limb_bits
from zkaudit.lookup.protocol import Lookup, LookupInstance
from zkaudit.lookup.tables import TableSpec
from zkaudit.poly.mle import evaluate, prefix_indicator
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck.claim import Term as ProductTerm

LABEL_GAMMA = b"layers/system/gamma"
LABEL_POINT = b"layers/system/zero-check-point"
EQ = "eq"
IND = "I"


@dataclass(frozen=True)
class Quantity:
    """A committed integer column in [0, 2^bits) (or [-2^(bits-1), 2^(bits-1)) if signed)."""

    name: str  # advice name prefix (unique per node)
    bits: int
    signed: bool = False
    limb_bits: int = LIMB_BITS  # set by the System (`choose_limb_bits`)

    # Cached per (immutable) quantity: a GRU's verifier asks each system's
    # quantities for them some forty times (columns, limbs, tables).
    @cached_property
    def widths(self) -> tuple[int, ...]:
        full, rest = divmod(self.bits, self.limb_bits)
        return (self.limb_bits,) * full + ((rest,) if rest else ())

    @cached_property
    def _limb_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}/limb{j}" for j in range(len(self.widths)))

    @property
    def limb_names(self) -> list[str]:
        return list(self._limb_names)

    def limbs(self, values: np.ndarray) -> list[np.ndarray]:
        """Integer limbs of `values` (Python ints or int64); ValueError if out of range."""
        v = np.asarray(values, dtype=object)
        u = v + (1 << (self.bits - 1)) if self.signed else v
        if v.size and (u.min() < 0 or u.max() >= 1 << self.bits):
            raise ValueError(f"{self.name}: a value is outside its {self.bits}-bit range")
        out, shift = [], 0
        for w in self.widths:
            out.append(((u >> shift) & ((1 << w) - 1)).astype(np.int64))
            shift += w
        return out


@dataclass(frozen=True)
class Channel:
    """A public table: `values` broadcast along `axis` (one value: constant) on real entries."""

    axis: int
    values: tuple[int, ...]


# System structure (`System._structure`) -> its relations' expansion (`System._expansion`).
_EXPANSIONS: dict[tuple, tuple] = {}

# (padded rows, limb widths) -> the limbs' LookupInstance (`System.instance`).
_INSTANCES: dict[tuple, LookupInstance] = {}

# A term: (integer coefficient, column keys); a key is a public/tensor/advice name or "q:<quantity name>".
Term = tuple[int, tuple[str, ...]]


@dataclass
class System:
    shape: tuple[int, ...]
    public: dict[str, Channel]  # key -> broadcast table (besides "I")
    tensors: dict[str, str]  # key -> GKR tensor name (claims flow down)
    advice: dict[str, str]  # key -> advice tensor name
    quantities: list[Quantity]
    relations: list[list[Term]] = field(default_factory=list)
    mult_prefix: str = ""
    bits: dict[str, str] = field(default_factory=dict)  # key -> advice name of a 0/1 column

    def __post_init__(self):
        rows = 1 << sum((d - 1).bit_length() for d in self.shape)
        w = choose_limb_bits([(rows, q.bits) for q in self.quantities])
        self.quantities = [dataclasses.replace(q, limb_bits=w) for q in self.quantities]

    def all_relations(self) -> list[list[Term]]:
        # Every advice tensor is zero on the padding, (1 - I) v = 0, whatever
        # its range: an output's padding is read by the next layer's sums
        # (`layers` docstring), and a relation like Y - lo I - y1 = 0 alone
        # leaves it free inside [0, 2^k_y).
        padding = [[(1, (k,)), (-1, (k, IND))] for k in self.advice]
        return self.relations + padding + [[(1, (k, k)), (-1, (k,))] for k in self.bits]

    # ------------------------------------------------------------------ layout
    def columns(self) -> list[str]:
        """Sum-check table order: eq, I, public, tensors, advice, limbs."""
        cols = [EQ, IND, *self.public, *self.tensors, *self.advice, *self.bits]
        for q in self.quantities:
            cols += q.limb_names
        return cols

    def public_indices(self) -> tuple[int, ...]:
        """Columns the verifier computes itself (eq, I, public tables): their
        sum-check values are not padded in a zero-knowledge run."""
        return tuple(range(2 + len(self.public)))

    def _expand(self, key: str) -> list[tuple[int, tuple[str, ...]]]:
        """A key as a sum of (coeff, columns)."""
        if key.startswith("q:"):
            q = next(q for q in self.quantities if q.name == key[2:])
            out, shift = [], 0
            for name, w in zip(q.limb_names, q.widths):
                out.append((1 << shift, (name,)))
                shift += w
            if q.signed:
                out.append((-(1 << (q.bits - 1)), (IND,)))
            return out
        return [(1, (key,))]

    def spec(self, gamma: Fp2) -> SumOfProducts:
        """The zero-check's polynomial eq(r, x) sum_i gamma^i R_i(x). Its
        expansion into (relation, integer coefficient, column indices) terms
        depends only on the system's structure -- the relations over column
        positions and the quantities' limb widths, not the node's names --
        and is built once per structure (`_EXPANSIONS`): an unrolled GRU's
        192 Requantize systems have a handful. `spec_reference` builds it
        per call, term for term the same."""
        num_cols, expansion, num_relations = self._expansion()
        # gamma^i and gamma^i c (c a base-field integer) on plain ints: the
        # same canonical Fp2 values as `powers[i] * Fp2(c)`, without an
        # element per intermediate product (~50 terms per system)
        g0, g1 = gamma.c0, gamma.c1
        powers = [(1, 0)]
        for _ in range(num_relations - 1):
            a0, a1 = powers[-1]
            powers.append(((a0 * g0 + W * a1 * g1) % P, (a0 * g1 + a1 * g0) % P))
        term = ProductTerm.trusted
        return SumOfProducts(num_cols, tuple([term(_fp2(powers[i][0] * c % P, powers[i][1] * c % P), idx)
                                              for i, c, idx in expansion]))

    def _structure(self) -> tuple:
        """The system with its names replaced by column positions (quantity
        keys "q:<name>" by their position among the quantities): equal for
        two systems exactly when their expansions are."""
        cols = self.columns()
        # one lookup table for every key: columns by position, quantity keys
        # "q:<name>" by -1 - index (never a column's, as `_expand` reads them)
        pos = {c: i for i, c in enumerate(cols) if not c.startswith("q:")}
        for j in range(len(self.quantities) - 1, -1, -1):  # the first of a name wins, as `_expand` finds it
            pos[f"q:{self.quantities[j].name}"] = -1 - j
        at = pos.__getitem__
        rels = tuple(tuple((coeff, tuple(map(at, keys))) for coeff, keys in rel) for rel in self.all_relations())
        quantities = tuple((q.bits, q.signed, q.limb_bits) for q in self.quantities)
        return len(cols), len(self.public), len(self.tensors), len(self.advice), len(self.bits), quantities, rels

    def _expansion(self) -> tuple[int, tuple[tuple[int, int, tuple[int, ...]], ...], int]:
        """(number of columns, (relation, coefficient in 0..p-1, column
        indices) per term, number of relations), validated as
        `SumOfProducts.of` would."""
        key = self._structure()
        cached = _EXPANSIONS.get(key)
        if cached is not None:
            return cached
        cols = self.columns()
        index = {c: i for i, c in enumerate(cols)}
        relations = self.all_relations()
        out = []
        for i, rel in enumerate(relations):
            for coeff, keys in rel:
                parts = [(coeff, ())]
                for k in keys:
                    parts = [(c1 * c2, t1 + t2) for c1, t1 in parts for c2, t2 in self._expand(k)]
                for c, tabs in parts:
                    out.append((i, c % P, (index[EQ],) + tuple(index[t] for t in tabs)))
        SumOfProducts.of(len(cols), [(Fp2(c), idx) for _, c, idx in out])  # raises on a bad term or degree
        if len(_EXPANSIONS) >= 1024:
            _EXPANSIONS.clear()
        cached = _EXPANSIONS[key] = (len(cols), tuple(out), len(relations))
        return cached

    def spec_reference(self, gamma: Fp2) -> SumOfProducts:
        cols = self.columns()
        index = {c: i for i, c in enumerate(cols)}
        terms = []
        weight = Fp2(1)
        for rel in self.all_relations():
            for coeff, keys in rel:
                parts = [(coeff, ())]
                for k in keys:
                    parts = [(c1 * c2, t1 + t2) for c1, t1 in parts for c2, t2 in self._expand(k)]
                for c, tabs in parts:
                    terms.append((weight * Fp2(c % P), (index[EQ],) + tuple(index[t] for t in tabs)))
            weight = weight * gamma
        return SumOfProducts.of(len(cols), terms)

    # ------------------------------------------------------------------ lookups
    def widths(self) -> list[int]:
        return sorted({w for q in self.quantities for w in q.widths}, reverse=True)

    def mult_names(self) -> list[str]:
        return [f"{self.mult_prefix}/mult{w}" for w in self.widths()]

    def limb_list(self) -> list[tuple[str, int]]:
        return [(n, w) for q in self.quantities for n, w in zip(q.limb_names, q.widths)]

    def instance(self) -> LookupInstance:
        """The limbs' lookup, shared by every system of one padded size and
        limb widths (all of it is immutable values)."""
        rows = 1 << sum((d - 1).bit_length() for d in self.shape)
        key = (rows, tuple(w for _, w in self.limb_list()))
        cached = _INSTANCES.get(key)
        if cached is None:
            if len(_INSTANCES) >= 1024:
                _INSTANCES.clear()
            cached = _INSTANCES[key] = self.instance_reference()
        return cached

    def instance_reference(self) -> LookupInstance:
        ws = self.widths()
        rows = 1 << sum((d - 1).bit_length() for d in self.shape)
        tables = tuple(TableSpec.range(w) for w in ws)
        return LookupInstance(tables, tuple(Lookup(ws.index(w), rows) for _, w in self.limb_list()))

    def advice_shapes(self) -> dict[str, tuple[int, ...]]:
        out = {n: self.shape for n, _ in self.limb_list()}
        out.update({n: self.shape for n in self.bits.values()})
        out.update({m: (1 << w,) for m, w in zip(self.mult_names(), self.widths())})
        return out

    def advice_values(self, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Bit columns (`values[name]`), limbs of every quantity (`values[q.name]`)
        and the lookup multiplicities,
        counting the zero padding of every limb column."""
        out: dict[str, np.ndarray] = {}
        for name in self.bits.values():
            out[name] = np.asarray(values[name], dtype=np.int64).reshape(self.shape)
        for q in self.quantities:
            for name, limb in zip(q.limb_names, q.limbs(values[q.name])):
                out[name] = limb.reshape(self.shape)
        pad = int(np.prod(padded_shape(self.shape))) - int(np.prod(self.shape))
        for mname, w in zip(self.mult_names(), self.widths()):
            counts = np.zeros(1 << w, dtype=np.int64)
            for name, lw in self.limb_list():
                if lw == w:
                    counts += np.bincount(out[name].ravel(), minlength=1 << w)
                    counts[0] += pad
            out[mname] = counts
        return out

    # ------------------------------------------------------------------ public tables
    def public_table(self, key: str) -> np.ndarray:
        if key == IND:
            return embed(np.ones(self.shape, dtype=np.int64))
        return embed(broadcast(self.public[key], self.shape))

    def public_evals(self, keys, point) -> list[Fp2]:
        """[public_eval(key, point) for key in keys], with the real-entry
        indicator (I, and the factor of every one-value table) evaluated
        once, not per key."""
        out, ind = [], None
        for key in keys:
            if key == IND or len(self.public[key].values) == 1:
                if ind is None:
                    ind = real_indicator(self.shape, point)
                out.append(ind if key == IND else Fp2(self.public[key].values[0] % P) * ind)
            else:
                out.append(self.public_eval(key, point))
        return out

    def public_eval(self, key: str, point) -> Fp2:
        if key == IND:
            return real_indicator(self.shape, point)
        ch = self.public[key]
        if len(ch.values) == 1:
            return Fp2(ch.values[0] % P) * real_indicator(self.shape, point)
        subs = split_point(point, self.shape)
        acc = Fp2(1)
        for d, (size, sub) in enumerate(zip(self.shape, subs)):
            if d == ch.axis:  # the channel vector's own MLE at sub: O(channels) in a kernel
                s = evaluate(embed(np.asarray(ch.values, dtype=np.int64)), sub)
                acc = acc * (Fp2.from_base(s) if isinstance(s, Fp) else s)
            else:
                acc = acc * prefix_indicator(size, sub)
        return acc


def broadcast(ch: Channel, shape: tuple[int, ...]) -> np.ndarray:
    vals = np.asarray(ch.values, dtype=np.int64)
    if vals.size == 1:
        return np.full(shape, int(vals[0]), dtype=np.int64)
    view = [1] * len(shape)
    view[ch.axis] = vals.size
    return np.broadcast_to(vals.reshape(view), shape).copy()


def bits_for(n: int) -> int:
    """Bits to hold 0..n (at least 1)."""
    return max(1, int(n).bit_length())


def check_no_wrap(bounds: list[int], what: str) -> None:
    """A linear relation whose terms are integers of magnitudes <= bounds holds
    mod p only over the integers if sum(bounds) < p; refuse otherwise."""
    from zkaudit.layers.shapes import UnsupportedLayer

    if sum(bounds) >= P:
        raise UnsupportedLayer(f"{what}: the integer ranges are too wide for a wrap-free relation "
                               f"(sum of bounds 2^{sum(bounds).bit_length()} >= p)")

"""Values a zero-knowledge proof never reveals: affine forms over the
prover's committed randomness.

A `Hidden` h stands for

    h = const + sum_k coeff_k * bank[k]

where bank[k] is an element of GF(p^2) in a per-proof random table (a
"bank") that the prover committed to with the hiding commitment before any
challenge, and const, coeff_k are public. A masked sum-check ends with
f^ = f~(r) + Z(r) m revealed (m a fresh bank element); the claim it leaves
on f is the `Hidden` f~(r) = f^ - Z(r) m. Layers then compute with claims
linearly (sums, public multiples), which maps Hidden to Hidden; an equality
between Hidden values is not decided by the verifier on the spot but
deferred to a linear claim on the bank, which the proof's one batched
opening discharges (`zkaudit.sumcheck.zk`).

Equality (`==`) is *structural*: two Hidden values are equal only when
they are the same form. A verifier comparison that was not converted to a
deferred check therefore fails closed (an honest proof is rejected, never a
false one accepted). Keys name a bank and an index: ("advice", 17).
"""

from __future__ import annotations

import struct

from zkaudit.field.constants import P, W
from zkaudit.field.scalar import Fp, Fp2, _fp2

_ZERO = Fp2(0)


def _as_ext(v) -> Fp2:
    if type(v) is Fp2:
        return v
    if isinstance(v, Fp):
        return Fp2.from_base(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return Fp2(v)
    raise TypeError(f"cannot combine a Hidden value with {type(v).__name__}")


class Hidden:
    __slots__ = ("const", "terms")
    __hidden__ = True  # Fp2 arithmetic defers to us on seeing this marker

    def __init__(self, const: Fp2, terms=()):
        object.__setattr__(self, "const", _as_ext(const))
        merged: dict = {}
        for key, c in (terms.items() if isinstance(terms, dict) else terms):
            c = c if type(c) is Fp2 else _as_ext(c)
            merged[key] = merged[key] + c if key in merged else c
        object.__setattr__(self, "terms", tuple(sorted((k, c) for k, c in merged.items() if c.c0 or c.c1)))

    @classmethod
    def _raw(cls, const: Fp2, terms: tuple) -> Hidden:
        """From canonical parts (sorted, merged, nonzero): no re-merging."""
        out = object.__new__(cls)
        object.__setattr__(out, "const", const)
        object.__setattr__(out, "terms", terms)
        return out

    def __setattr__(self, name, value):
        raise AttributeError("Hidden is immutable")

    def __reduce__(self):  # immutable slots: pickled by its canonical parts
        return (Hidden._raw, (self.const, self.terms))

    @classmethod
    def of(cls, v) -> Hidden:
        return v if isinstance(v, Hidden) else cls(_as_ext(v))

    @property
    def is_public(self) -> bool:
        return not self.terms

    def _combine(self, o, sign: int) -> Hidden:
        if not isinstance(o, Hidden):
            o = o if type(o) is Fp2 else _as_ext(o)
            return Hidden._raw(self.const + o if sign > 0 else self.const - o, self.terms)
        if not o.terms:
            return Hidden._raw(self.const + o.const if sign > 0 else self.const - o.const, self.terms)
        terms = dict(self.terms)
        for k, c in o.terms:
            c = c if sign > 0 else -c
            if k in terms:
                s = terms[k] + c
                if s.c0 or s.c1:
                    terms[k] = s
                else:
                    del terms[k]
            else:
                terms[k] = c
        const = self.const + o.const if sign > 0 else self.const - o.const
        return Hidden._raw(const, tuple(sorted(terms.items())))

    def __add__(self, o):
        return self._combine(o, 1)

    __radd__ = __add__

    def __sub__(self, o):
        return self._combine(o, -1)

    def __rsub__(self, o):
        return Hidden.of(o)._combine(self, -1)

    def __neg__(self):
        return Hidden._raw(-self.const, tuple((k, -c) for k, c in self.terms))

    def __mul__(self, o):
        if isinstance(o, Hidden):
            if o.terms and self.terms:
                raise TypeError("the product of two Hidden values is not linear: it belongs in a sum-check")
            scalar, form = (o.const, self) if not o.terms else (self.const, o)
        else:
            scalar, form = (o if type(o) is Fp2 else _as_ext(o)), self
        s0, s1 = scalar.c0, scalar.c1
        if not (s0 or s1):
            return Hidden._raw(_ZERO, ())
        # Fp2 products on plain ints (Fp2.__mul__'s formula, one call less
        # per term: the masked sum-check verifier scales forms of ~20 terms
        # thousands of times). Nonzero times nonzero is nonzero: no term drops.
        s7 = W * s1
        return Hidden._raw(form.const * scalar,
                           tuple((k, _fp2((c.c0 * s0 + c.c1 * s7) % P, (c.c0 * s1 + c.c1 * s0) % P))
                                 for k, c in form.terms))

    __rmul__ = __mul__

    def __truediv__(self, o):
        return self * _as_ext(o).inverse()

    def __eq__(self, o):
        if isinstance(o, Hidden):
            return self.const == o.const and self.terms == o.terms
        if isinstance(o, (Fp2, Fp, int)) and not isinstance(o, bool):
            return not self.terms and self.const == _as_ext(o)
        return NotImplemented

    def __hash__(self):
        return hash(("Hidden", self.const, self.terms))

    def __bool__(self):
        raise TypeError("a Hidden value has no truth value the verifier can read")

    def __repr__(self):
        return f"Hidden({self.const!r}, {dict(self.terms)!r})"

    def to_bytes(self) -> bytes:
        """Canonical bytes (for transcripts: the form, not the value): those
        of `to_bytes_reference`, each term packed by one precompiled struct
        per bank (a masked sum-check's claim absorbs a form of ~10 terms)."""
        out = [_EXT.pack(self.const.c0, self.const.c1), _COUNT.pack(len(self.terms))]
        for (bank, idx), c in self.terms:
            packer = _TERM_PACKERS.get(bank)
            if packer is None:
                packer = _term_packer(bank)
            out.append(packer(idx, c.c0, c.c1))
        return b"".join(out)

    def to_bytes_reference(self) -> bytes:
        out = [self.const.to_bytes(), struct.pack("<I", len(self.terms))]
        for (bank, idx), c in self.terms:
            name = bank.encode()
            out.append(struct.pack("<BQ", len(name), idx) + name + c.to_bytes())
        return b"".join(out)


_EXT = struct.Struct("<QQ")
_COUNT = struct.Struct("<I")
_TERM_PACKERS: dict = {}  # bank name -> packer of (index, c0, c1)


def _term_packer(bank: str):
    """u8 name length | u64 index | name | coefficient, for one bank."""
    name = bank.encode()
    if len(name) > 255:
        raise ValueError(f"bank name {bank!r} is longer than 255 bytes")
    packed = struct.Struct(f"<BQ{len(name)}sQQ")

    def pack(idx: int, c0: int, c1: int, _p=packed.pack, _n=len(name), _name=name) -> bytes:
        return _p(_n, idx, _name, c0, c1)

    _TERM_PACKERS[bank] = pack
    return pack



def hidden_sum(values) -> Fp2 | Hidden:
    """The sum of Fp2 and Hidden values in one pass: a Hidden when any
    addend is one (the same form as adding them left to right, which copies
    the growing term map at every step: quadratic in the addends, seconds
    for a lookup over hundreds of segments), else an Fp2."""
    const = _ZERO
    terms: dict = {}
    hidden = False
    for v in values:
        if isinstance(v, Hidden):
            hidden = True
            const = const + v.const
            for k, c in v.terms:
                terms[k] = terms[k] + c if k in terms else c
        else:
            const = const + _as_ext(v)
    if not hidden:
        return const
    return Hidden._raw(const, tuple(sorted((k, c) for k, c in terms.items() if c.c0 or c.c1)))


class LinearSum:
    """sum_i s_i v_i for public scalars s_i (Fp2) and Fp2 or Hidden v_i,
    accumulated on plain ints and reduced once: `value()` is the same form
    (Fp2, or a Hidden when any v_i is one) as `hidden_sum` of the products
    `v_i * s_i`, without building a Hidden per product. A verifier's leaf
    check combines thousands of received values this way."""

    __slots__ = ("c0", "c1", "terms", "hidden")

    def __init__(self):
        self.c0 = self.c1 = 0
        self.terms: dict = {}
        self.hidden = False

    def add(self, v, s: Fp2 | None = None) -> None:
        """Add s v (v alone when s is None)."""
        if s is not None:
            self.add_ints(v, s.c0, s.c1)
            return
        if isinstance(v, Hidden):
            self.hidden = True
            const, terms = v.const, v.terms
        else:
            const, terms = (v if type(v) is Fp2 else _as_ext(v)), ()
        acc = self.terms
        self.c0 += const.c0
        self.c1 += const.c1
        for k, c in terms:
            t = acc.get(k)
            if t is None:
                acc[k] = [c.c0, c.c1]
            else:
                t[0] += c.c0
                t[1] += c.c1

    def add_ints(self, v, s0: int, s1: int) -> None:
        """Add s v for s = s0 + s1 u given as plain ints (any representatives
        mod p: the sum is reduced once, in `value`)."""
        if isinstance(v, Hidden):
            self.hidden = True
            const, terms = v.const, v.terms
        else:
            const, terms = (v if type(v) is Fp2 else _as_ext(v)), ()
        acc = self.terms
        s7 = W * s1  # (a0 + a1 u)(s0 + s1 u) = a0 s0 + W a1 s1 + (a0 s1 + a1 s0) u
        self.c0 += const.c0 * s0 + const.c1 * s7
        self.c1 += const.c0 * s1 + const.c1 * s0
        for k, c in terms:
            t = acc.get(k)
            if t is None:
                acc[k] = [c.c0 * s0 + c.c1 * s7, c.c0 * s1 + c.c1 * s0]
            else:
                t[0] += c.c0 * s0 + c.c1 * s7
                t[1] += c.c0 * s1 + c.c1 * s0

    def add_const(self, c0: int, c1: int) -> None:
        """Add the public constant c0 + c1 u (plain ints, any representatives)."""
        self.c0 += c0
        self.c1 += c1

    def value(self) -> Fp2 | Hidden:
        const = _fp2(self.c0 % P, self.c1 % P)
        if not self.hidden:
            return const
        terms = []
        for k, (a, b) in self.terms.items():
            a, b = a % P, b % P
            if a or b:
                terms.append((k, _fp2(a, b)))
        terms.sort()
        return Hidden._raw(const, tuple(terms))


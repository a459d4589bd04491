"""Field elements as immutable value types, for verifiers and small work.

`Fp` is the Goldilocks base field, `Fp2` the challenge field
F_p[X]/(X^2 - 7). Both hold canonical representatives; there are no ordering
operators; combining an `Fp` with an `Fp2` is a TypeError (lift explicitly
with `Fp2.from_base`). Plain ints are accepted as constants and reduced mod p.
Bulk work belongs in `zkaudit.field.vec`.
"""

from __future__ import annotations

import struct

from zkaudit.errors import MalformedProof
from zkaudit.field.constants import P, W

BYTES_BASE = 8
BYTES_EXT = 16


def _coerce_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    return value % P


class Fp:
    """An element of F_p, p = 2^64 - 2^32 + 1."""

    __slots__ = ("value",)

    def __init__(self, value: int = 0):
        object.__setattr__(self, "value", _coerce_int(value))

    def __setattr__(self, name, value):  # immutable
        raise AttributeError("Fp is immutable")

    def __reduce__(self):
        return (Fp, (self.value,))

    @staticmethod
    def _other(o: object) -> int:
        if isinstance(o, Fp):
            return o.value
        if isinstance(o, int) and not isinstance(o, bool):
            return o % P
        raise TypeError(f"cannot combine Fp with {type(o).__name__}")

    def __add__(self, o):
        return Fp(self.value + self._other(o))

    __radd__ = __add__

    def __sub__(self, o):
        return Fp(self.value - self._other(o))

    def __rsub__(self, o):
        return Fp(self._other(o) - self.value)

    def __mul__(self, o):
        return Fp(self.value * self._other(o))

    __rmul__ = __mul__

    def __neg__(self):
        return Fp(-self.value)

    def __truediv__(self, o):
        return self * Fp(self._other(o)).inverse()

    def __rtruediv__(self, o):
        return Fp(self._other(o)) * self.inverse()

    def __pow__(self, e: int):
        if e < 0:
            return self.inverse() ** (-e)
        return Fp(pow(self.value, e, P))

    def inverse(self) -> Fp:
        if self.value == 0:
            raise ZeroDivisionError("0 has no inverse in F_p")
        return Fp(pow(self.value, P - 2, P))

    def __eq__(self, o):
        if isinstance(o, Fp):
            return self.value == o.value
        if isinstance(o, Fp2):
            raise TypeError("cannot compare Fp with Fp2; lift with Fp2.from_base")
        if isinstance(o, int) and not isinstance(o, bool):
            return self.value == o % P
        return NotImplemented

    def __hash__(self):
        return hash(("Fp", self.value))

    def __bool__(self):
        return self.value != 0

    def __int__(self):
        return self.value

    def __repr__(self):
        return f"Fp({self.value})"

    def to_bytes(self) -> bytes:
        return struct.pack("<Q", self.value)

    @classmethod
    def from_bytes(cls, data: bytes) -> Fp:
        if len(data) != BYTES_BASE:
            raise MalformedProof("base field element has the wrong length", expected=BYTES_BASE, got=len(data))
        (v,) = struct.unpack("<Q", data)
        if v >= P:
            raise MalformedProof("non-canonical base field element (>= p)", got=v)
        return cls(v)


class Fp2:
    """An element c0 + c1*X of GF(p^2) = F_p[X]/(X^2 - 7)."""

    __slots__ = ("c0", "c1")

    def __init__(self, c0: int = 0, c1: int = 0):
        if type(c0) is int and type(c1) is int:  # the common case, checked once (a bool's type is bool)
            _set_c0(self, c0 % P)
            _set_c1(self, c1 % P)
            return
        object.__setattr__(self, "c0", _coerce_int(c0))
        object.__setattr__(self, "c1", _coerce_int(c1))

    def __setattr__(self, name, value):
        raise AttributeError("Fp2 is immutable")

    def __reduce__(self):  # immutable slots: pickled by value (a chunked proof's workers return claims)
        return (Fp2, (self.c0, self.c1))

    @classmethod
    def from_base(cls, x: Fp) -> Fp2:
        if not isinstance(x, Fp):
            raise TypeError(f"from_base takes an Fp, got {type(x).__name__}")
        return cls(x.value, 0)

    @staticmethod
    def _other(o: object) -> tuple[int, int]:
        if type(o) is Fp2:
            return o.c0, o.c1
        if isinstance(o, int) and not isinstance(o, bool):
            return o % P, 0
        if getattr(type(o), "__hidden__", False):
            return None  # a Hidden value (zkaudit.field.hidden): its reflected operator does the work
        raise TypeError(f"cannot combine Fp2 with {type(o).__name__}")

    # Fp2 (op) Fp2 first, inline: the verifiers' hot path (half the time of
    # a zero-knowledge verify went to these operators' call overhead).
    def __add__(self, o):
        if type(o) is Fp2:
            out = _new(Fp2)
            _set_c0(out, (self.c0 + o.c0) % P)
            _set_c1(out, (self.c1 + o.c1) % P)
            return out
        t = self._other(o)
        if t is None:
            return NotImplemented
        b0, b1 = t
        return _fp2(_mod(self.c0 + b0), _mod(self.c1 + b1))

    __radd__ = __add__

    def __sub__(self, o):
        if type(o) is Fp2:
            out = _new(Fp2)
            _set_c0(out, (self.c0 - o.c0) % P)
            _set_c1(out, (self.c1 - o.c1) % P)
            return out
        t = self._other(o)
        if t is None:
            return NotImplemented
        b0, b1 = t
        return _fp2(_mod(self.c0 - b0), _mod(self.c1 - b1))

    def __rsub__(self, o):
        t = self._other(o)
        if t is None:
            return NotImplemented
        b0, b1 = t
        return _fp2(_mod(b0 - self.c0), _mod(b1 - self.c1))

    def __mul__(self, o):
        if type(o) is Fp2:
            a0, a1, b0, b1 = self.c0, self.c1, o.c0, o.c1
            out = _new(Fp2)
            _set_c0(out, (a0 * b0 + W * a1 * b1) % P)
            _set_c1(out, (a0 * b1 + a1 * b0) % P)
            return out
        t = self._other(o)
        if t is None:
            return NotImplemented
        b0, b1 = t
        a0, a1 = self.c0, self.c1
        return _fp2(_mod(a0 * b0 + W * a1 * b1), _mod(a0 * b1 + a1 * b0))

    __rmul__ = __mul__

    def __neg__(self):
        return _fp2(_mod(-self.c0), _mod(-self.c1))

    def __truediv__(self, o):
        b0, b1 = self._other(o)
        return self * Fp2(b0, b1).inverse()

    def __rtruediv__(self, o):
        b0, b1 = self._other(o)
        return Fp2(b0, b1) * self.inverse()

    def __pow__(self, e: int):
        if e < 0:
            return self.inverse() ** (-e)
        result, base = Fp2(1), self
        while e:
            if e & 1:
                result = result * base
            base = base * base
            e >>= 1
        return result

    def norm(self) -> Fp:
        """x * frobenius(x) = c0^2 - 7 c1^2, in the base field."""
        return Fp(self.c0 * self.c0 - W * self.c1 * self.c1)

    def frobenius(self) -> Fp2:
        """x^p = c0 - c1*X, since X^p = X * 7^((p-1)/2) = -X."""
        return Fp2(self.c0, -self.c1)

    def inverse(self) -> Fp2:
        n = self.norm()
        if n.value == 0:
            raise ZeroDivisionError("0 has no inverse in GF(p^2)")
        n_inv = pow(n.value, P - 2, P)
        return Fp2(self.c0 * n_inv, -self.c1 * n_inv)

    def is_base(self) -> bool:
        return self.c1 == 0

    def __eq__(self, o):
        if isinstance(o, Fp2):
            return self.c0 == o.c0 and self.c1 == o.c1
        if isinstance(o, Fp):
            raise TypeError("cannot compare Fp2 with Fp; lift with Fp2.from_base")
        if isinstance(o, int) and not isinstance(o, bool):
            return self.c1 == 0 and self.c0 == o % P
        return NotImplemented

    def __hash__(self):
        return hash(("Fp2", self.c0, self.c1))

    def __bool__(self):
        return self.c0 != 0 or self.c1 != 0

    def __repr__(self):
        return f"Fp2({self.c0}, {self.c1})"

    def to_bytes(self) -> bytes:
        return struct.pack("<QQ", self.c0, self.c1)

    @classmethod
    def from_bytes(cls, data: bytes) -> Fp2:
        if len(data) != BYTES_EXT:
            raise MalformedProof("extension field element has the wrong length", expected=BYTES_EXT, got=len(data))
        c0, c1 = struct.unpack("<QQ", data)
        if c0 >= P or c1 >= P:
            raise MalformedProof("non-canonical extension field element (coefficient >= p)", got=(c0, c1))
        return cls(c0, c1)


def exts_from_bytes(data: bytes, offset: int, count: int) -> list[Fp2]:
    """`count` consecutive encoded extension elements at `offset`, with the
    same strict checks as `Fp2.from_bytes` (one unpack for all: proofs hold
    thousands of them)."""
    if offset + count * BYTES_EXT > len(data):
        raise MalformedProof("extension field elements truncated", expected=offset + count * BYTES_EXT,
                             got=len(data))
    words = struct.unpack_from(f"<{2 * count}Q", data, offset)
    if any(w >= P for w in words):
        i = next(i for i, w in enumerate(words) if w >= P) // 2
        raise MalformedProof("non-canonical extension field element (coefficient >= p)",
                             got=(words[2 * i], words[2 * i + 1]))
    return [_fp2(words[i], words[i + 1]) for i in range(0, 2 * count, 2)]


# Trusted constructor for results that are already canonical ints: skips the
# coercion in __init__ (the verifier's hot path builds many small elements).
_new = object.__new__
_set_c0 = Fp2.c0.__set__
_set_c1 = Fp2.c1.__set__


def _mod(x: int) -> int:
    return x % P


def _fp2(c0: int, c1: int) -> Fp2:
    out = _new(Fp2)
    _set_c0(out, c0)
    _set_c1(out, c1)
    return out

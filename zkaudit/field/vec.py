"""Vectorized field arithmetic: the array API every prover uses.

Representation (the one convention for the whole code base):
    base vector       1-D np.uint64 array, entries canonical (< p)
    extension vector  (n, 2) np.uint64 array, row i = c0 + c1*X

Binary operations dispatch on the operands: base (op) base -> base; any
extension operand -> extension (a base vector is lifted, never the reverse).
Shapes must match exactly; there is no broadcasting except scalar * vector
via `scale`. Results are fresh arrays unless `out=` is given.

Each function calls one numba kernel from `kernels.py`, imported on first
use; below `SMALL` entries (`jit.COLD_BELOW` while numba is not started),
while none of the kernels the operation would call is loaded in the process,
the elementwise operations, sums, inner products and `from_int64` take the
numpy path in `npfield.py` instead (a verifier's tables never pay numba's
start-up, nor a kernel's loading; see `jit.use_kernel`). The naive reference with the same signatures is
`zkaudit.field.reference`.
"""

from __future__ import annotations

import sys

import numpy as np

from zkaudit.errors import MalformedProof
from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2

U64 = np.uint64
SMALL = 1 << 14  # below this, plain numpy beats starting the parallel kernels


class _Kernels:
    """`k.name` imports `field.kernels` (and numba) on first use."""

    def __getattr__(self, name):
        from zkaudit.field import kernels

        return getattr(kernels, name)


k = _Kernels()


_UNLOADED = object()  # stands for a kernel not loaded in this process


def _numpy(n: int, *names: str) -> bool:
    """Take the numpy path for a job of n entries whose numba path would call
    the kernels `names` (`jit.use_kernel`: not once one of them is loaded)."""
    kernels = sys.modules.get("zkaudit.field.kernels")
    if kernels is not None and any(jit.is_loaded(getattr(kernels, name)) for name in names):
        return False
    return not jit.use_kernel(n, SMALL, kernel=_UNLOADED)


def is_ext(a: np.ndarray) -> bool:
    return a.ndim == 2


def _check(a: np.ndarray, name: str = "a") -> None:
    if not isinstance(a, np.ndarray) or a.dtype != U64:
        raise TypeError(f"{name} must be a np.uint64 array, got {getattr(a, 'dtype', type(a))}")
    if a.ndim == 2 and a.shape[1] != 2 or a.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (n, 2), got {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")


def _pair(a: np.ndarray, b: np.ndarray) -> None:
    _check(a, "a")
    _check(b, "b")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"length mismatch: {a.shape[0]} vs {b.shape[0]}")


def _plain(a: np.ndarray) -> np.ndarray:
    """a as the one array type the kernels are compiled for: C-contiguous,
    aligned and writeable. numba types a read-only array (np.frombuffer,
    a broadcast, a file's weights) or an unaligned one as another signature,
    and compiles (~0.5 s) and caches every kernel it reaches once more for
    it; a copy costs far less than the kernel's own pass."""
    f = a.flags
    return a if f.c_contiguous and f.aligned and f.writeable else np.array(a, dtype=U64, order="C")


def _out(shape, out):
    """The array a kernel writes: `out` when it is a plain array (`_plain`),
    else a fresh one that `_store` copies into `out` (a view's reshape
    would be a copy, and the kernel's writes lost)."""
    if out is None:
        return np.empty(shape, dtype=U64)
    if out.shape != shape or out.dtype != U64:
        raise ValueError(f"out must be uint64 of shape {shape}")
    return out if _plain(out) is out else np.empty(shape, dtype=U64)


# ------------------------------------------------------------ construction


def zeros(n: int) -> np.ndarray:
    return np.zeros(n, dtype=U64)


def ext_zeros(n: int) -> np.ndarray:
    return np.zeros((n, 2), dtype=U64)


def from_ints(values) -> np.ndarray:
    """Any Python ints (negative allowed), reduced mod p."""
    return np.array([int(v) % P for v in values], dtype=U64)


def from_int64(a: np.ndarray) -> np.ndarray:
    """Signed integers embedded as v -> v mod p (negative v -> p - |v|)."""
    a = np.ascontiguousarray(a, dtype=np.int64).ravel()
    if _numpy(a.shape[0], "from_int64_v"):  # same formula as the kernel
        out = a.astype(U64)
        neg = a < 0
        out[neg] = U64(P) - U64(1) - (-(a[neg] + 1)).astype(U64)
        return out
    if not (a.flags.writeable and a.flags.aligned):  # one signature (see `_plain`)
        a = a.copy()
    out = np.empty(a.shape[0], dtype=U64)
    # serial below 2^16 entries: a parallel region's start costs more than the pass
    (k.from_int64_s if a.shape[0] < 1 << 16 else k.from_int64_v)(a, out)
    return out


def to_signed(a: np.ndarray) -> np.ndarray:
    """Inverse of `from_int64` for values in (-p/2, p/2)."""
    _check(a)
    half = U64(P // 2)
    signed = a.astype(np.int64)  # wraps for a >= 2^63
    neg_mask = a > half
    signed[neg_mask] = -((U64(P) - a[neg_mask]).astype(np.int64))
    return signed


def lift(a: np.ndarray) -> np.ndarray:
    """Base vector -> extension vector (c1 = 0); extension vectors pass through."""
    _check(a)
    if is_ext(a):
        return a
    out = np.zeros((a.shape[0], 2), dtype=U64)
    out[:, 0] = a
    return out


def random(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """n uniform base-field elements (numpy's bounded integers are unbiased)."""
    rng = rng if rng is not None else np.random.default_rng()
    return rng.integers(0, P, size=n, dtype=U64)


def ext_random(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    rng = rng if rng is not None else np.random.default_rng()
    return rng.integers(0, P, size=(n, 2), dtype=U64)


# -------------------------------------------------------------- arithmetic


def add(a, b, out=None):
    _pair(a, b)
    if _numpy(a.shape[0], "add_vv", "ext_add_vv"):
        return _store(nf.add(lift(a), lift(b)) if is_ext(a) or is_ext(b) else nf.add(a, b), out)
    a, b = _plain(a), _plain(b)
    if not is_ext(a) and not is_ext(b):
        o = _out(a.shape, out)
        k.add_vv(a, b, o)
        return _store(o, out)
    a, b = lift(a), lift(b)
    o = _out(a.shape, out)
    k.ext_add_vv(a, b, o)
    return _store(o, out)


def sub(a, b, out=None):
    _pair(a, b)
    if _numpy(a.shape[0], "sub_vv", "ext_sub_vv"):
        return _store(nf.sub(lift(a), lift(b)) if is_ext(a) or is_ext(b) else nf.sub(a, b), out)
    a, b = _plain(a), _plain(b)
    if not is_ext(a) and not is_ext(b):
        o = _out(a.shape, out)
        k.sub_vv(a, b, o)
        return _store(o, out)
    a, b = lift(a), lift(b)
    o = _out(a.shape, out)
    k.ext_sub_vv(a, b, o)
    return _store(o, out)


def neg(a, out=None):
    _check(a)
    if _numpy(a.shape[0], "neg_v"):
        return _store(nf.neg(a), out)
    a = _plain(a)
    o = _out(a.shape, out)
    k.neg_v(a.reshape(-1), o.reshape(-1))  # negation is coefficient-wise
    return _store(o, out)


def mul(a, b, out=None):
    _pair(a, b)
    if _numpy(a.shape[0], "mul_vv", "ext_mul_vv", "ext_mul_vb"):
        if is_ext(a) and is_ext(b):
            return _store(nf.ext_mul(a, b), out)
        if is_ext(a) or is_ext(b):
            e, base = (a, b) if is_ext(a) else (b, a)
            return _store(nf.ext_mul_base(e, base), out)
        return _store(nf.mul(a, b), out)
    a, b = _plain(a), _plain(b)
    if not is_ext(a) and not is_ext(b):
        o = _out(a.shape, out)
        k.mul_vv(a, b, o)
        return _store(o, out)
    if is_ext(a) and is_ext(b):
        o = _out(a.shape, out)
        k.ext_mul_vv(a, b, o)
        return _store(o, out)
    e, base = (a, b) if is_ext(a) else (b, a)
    o = _out(e.shape, out)
    k.ext_mul_vb(e, base, o)
    return _store(o, out)


def fma(a, b, c, out=None):
    """a * b + c"""
    _pair(a, b)
    _pair(a, c)
    if _numpy(a.shape[0], "fma_vvv", "ext_fma_vvv"):
        if not (is_ext(a) or is_ext(b) or is_ext(c)):
            return _store(nf.add(nf.mul(a, b), c), out)
        return _store(nf.add(nf.ext_mul(lift(a), lift(b)), lift(c)), out)
    a, b, c = _plain(a), _plain(b), _plain(c)
    if not (is_ext(a) or is_ext(b) or is_ext(c)):
        o = _out(a.shape, out)
        k.fma_vvv(a, b, c, o)
        return _store(o, out)
    a, b, c = lift(a), lift(b), lift(c)
    o = _out(a.shape, out)
    k.ext_fma_vvv(a, b, c, o)
    return _store(o, out)


def scale(s: int | Fp | Fp2, a: np.ndarray, out=None) -> np.ndarray:
    """s * a for a scalar s."""
    _check(a)
    if _numpy(a.shape[0], "ext_scale_sv", "ext_scale_sb", "scale_sv"):
        if isinstance(s, Fp2):
            sv = np.array([s.c0, s.c1], dtype=U64)
            return _store(nf.ext_mul(lift(a), sv[None, :]), out)
        return _store(nf.mul(a, U64(Fp(s).value if isinstance(s, int) else Fp._other(s))), out)
    a = _plain(a)
    if isinstance(s, Fp2):
        if is_ext(a):
            o = _out(a.shape, out)
            k.ext_scale_sv(U64(s.c0), U64(s.c1), a, o)
        else:
            o = _out((a.shape[0], 2), out)
            k.ext_scale_sb(U64(s.c0), U64(s.c1), a, o)
        return _store(o, out)
    sv = U64(Fp(s).value if isinstance(s, int) else Fp._other(s))
    o = _out(a.shape, out)
    k.scale_sv(sv, a.reshape(-1), o.reshape(-1))  # base scalar acts coefficient-wise
    return _store(o, out)


def pow(a: np.ndarray, e: int, out=None) -> np.ndarray:
    """Elementwise a^e for a base vector, 0 <= e < 2^64."""
    _check(a)
    if is_ext(a):
        raise TypeError("pow is defined for base vectors; use Fp2 ** e for extension scalars")
    if not 0 <= e < 1 << 64:
        raise ValueError("exponent must be in [0, 2^64)")
    a = _plain(a)
    o = _out(a.shape, out)
    k.pow_vs(a, U64(e), o)
    return _store(o, out)


def batch_inv(a: np.ndarray, out=None) -> np.ndarray:
    """Elementwise inverse by Montgomery's trick; ZeroDivisionError names a zero."""
    _check(a)
    a = _plain(a)
    o = _out(a.shape, out)
    zero_at = k.ext_batch_inv_v(a, o) if is_ext(a) else k.batch_inv_v(a, o)
    if zero_at >= 0:
        raise ZeroDivisionError(f"batch_inv: entry {zero_at} is zero")
    return _store(o, out)


def sum(a: np.ndarray) -> Fp | Fp2:
    _check(a)
    if _numpy(a.shape[0], "sum_v", "ext_sum_v"):
        return Fp2(*nf.ext_sum(a)) if is_ext(a) else Fp(nf.sum(a))
    a = _plain(a)
    if is_ext(a):
        c0, c1 = k.ext_sum_v(a)
        return Fp2(int(c0), int(c1))
    return Fp(int(k.sum_v(a)))


def inner(a: np.ndarray, b: np.ndarray) -> Fp | Fp2:
    """sum_i a[i] * b[i]"""
    _pair(a, b)
    if _numpy(a.shape[0], "inner_vv", "ext_inner_vv", "ext_inner_vb"):
        if not is_ext(a) and not is_ext(b):
            return Fp(nf.inner(a, b))
        e, other = (a, b) if is_ext(a) else (b, a)
        return Fp2(*nf.ext_inner(e, other))
    a, b = _plain(a), _plain(b)
    if not is_ext(a) and not is_ext(b):
        return Fp(int(k.inner_vv(a, b)))
    if is_ext(a) and is_ext(b):
        c0, c1 = k.ext_inner_vv(a, b)
    else:
        e, base = (a, b) if is_ext(a) else (b, a)
        c0, c1 = k.ext_inner_vb(e, base)
    return Fp2(int(c0), int(c1))


def sum_by_index(a: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """out[j] = sum of a[i] over i with index[i] = j, for canonical (n, 2)
    extension (or (n,) base) entries: exact, in numpy. Each entry is split
    into 32-bit halves, whose sums cannot overflow a uint64 below 2^32
    entries; the halves are recombined mod p."""
    _check(a)
    if a.shape[0] >= 1 << 32:
        raise ValueError("sum_by_index sums fewer than 2^32 entries")
    lo = np.zeros((size,) + a.shape[1:], dtype=np.uint64)
    hi = np.zeros((size,) + a.shape[1:], dtype=np.uint64)
    np.add.at(lo, index, a & np.uint64(0xFFFFFFFF))
    np.add.at(hi, index, a >> np.uint64(32))
    return add(scale(1 << 32, hi % np.uint64(P)), lo % np.uint64(P))


def _store(result: np.ndarray, out):
    if out is None or result is out:
        return result
    if out.shape != result.shape or out.dtype != U64:
        raise ValueError(f"out must be uint64 of shape {result.shape}")
    out[...] = result
    return out


# ---------------------------------------------------------------- encoding


def encode(a: np.ndarray) -> bytes:
    """Canonical little-endian u64 words (extension: c0 then c1 per element)."""
    _check(a)
    return a.astype("<u8", copy=False).tobytes()


def decode(data: bytes, n: int, *, ext: bool = False, what: str = "field vector") -> np.ndarray:
    """Strict inverse of `encode`: exact length, every word < p."""
    words = n * (2 if ext else 1)
    if len(data) != 8 * words:
        raise MalformedProof(f"{what} has the wrong length", expected=8 * words, got=len(data))
    a = np.frombuffer(data, dtype="<u8").astype(U64)
    if words and int(a.max()) >= P:
        raise MalformedProof(f"{what} holds a non-canonical element (>= p)", got=int(a.max()))
    return a.reshape((n, 2)) if ext else a

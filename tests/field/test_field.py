"""Field: scalar laws (hypothesis), kernels vs the naive reference vs galois,
encoding, edge values."""

from __future__ import annotations

import galois
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkaudit.errors import MalformedProof
from zkaudit.field import P, Fp, Fp2, npfield, reference, vec
from zkaudit.field.constants import TWO_ADIC_ROOT, check_constants

EDGE = [0, 1, 2, P - 1, P - 2, 1 << 32, (1 << 32) - 1, 1 << 63, (1 << 64) - (1 << 32), 7]
elems = st.one_of(st.sampled_from(EDGE), st.integers(0, P - 1))
fp = elems.map(Fp)
fp2 = st.tuples(elems, elems).map(lambda t: Fp2(*t))

GF = galois.GF(P)
GF2 = galois.GF(P**2, irreducible_poly=galois.Poly([1, 0, P - 7], field=GF))


def test_constants_check():
    check_constants()
    assert pow(TWO_ADIC_ROOT, 1 << 32, P) == 1


@given(fp, fp, fp)
def test_base_field_axioms(a, b, c):
    assert a + b == b + a and a * b == b * a
    assert (a + b) + c == a + (b + c) and (a * b) * c == a * (b * c)
    assert a * (b + c) == a * b + a * c
    assert a + 0 == a and a * 1 == a and a - a == 0 and a + (-a) == 0
    if a:
        assert a * a.inverse() == 1


@given(fp2, fp2, fp2)
def test_ext_field_axioms(a, b, c):
    assert a + b == b + a and a * b == b * a
    assert (a * b) * c == a * (b * c)
    assert a * (b + c) == a * b + a * c
    if a:
        assert a * a.inverse() == 1
        assert a / a == 1


@given(fp2)
def test_frobenius_is_pth_power(a):
    assert a.frobenius() == a**P
    assert Fp2.from_base(a.norm()) == a * a.frobenius()


@given(fp, fp2)
def test_encode_roundtrip(a, b):
    assert Fp.from_bytes(a.to_bytes()) == a
    assert Fp2.from_bytes(b.to_bytes()) == b


def test_fp2_takes_ints_reduced_and_refuses_everything_else():
    """The plain-int fast path of Fp2's constructor reduces mod p like the
    checked one, and a bool, a float or a numpy integer is still refused."""
    assert (Fp2(-1).c0, Fp2(-1).c1) == (P - 1, 0)
    assert (Fp2(P + 5, 2 * P - 3).c0, Fp2(P + 5, 2 * P - 3).c1) == (5, P - 3)
    for bad in ((True, 0), (0, False), (1.0, 0), (0, np.uint64(3)), (None, 0)):
        with pytest.raises(TypeError):
            Fp2(*bad)


def test_mixing_fields_is_a_type_error():
    with pytest.raises(TypeError):
        Fp(1) + Fp2(1)
    with pytest.raises(TypeError):
        Fp2(1) * Fp(3)
    with pytest.raises(TypeError):
        Fp(1) == Fp2(1)  # noqa: B015
    with pytest.raises(TypeError):
        Fp(1) < Fp(2)  # noqa: B015 - no ordering on field elements


def test_immutable():
    x = Fp(5)
    with pytest.raises(AttributeError):
        x.value = 6


def test_decoding_rejects_noncanonical_and_wrong_length():
    with pytest.raises(MalformedProof):
        Fp.from_bytes(P.to_bytes(8, "little"))
    with pytest.raises(MalformedProof):
        Fp.from_bytes(b"\x00" * 7)
    with pytest.raises(MalformedProof):
        Fp2.from_bytes((1).to_bytes(8, "little") + (P + 3).to_bytes(8, "little"))
    with pytest.raises(MalformedProof):
        vec.decode(np.array([P], dtype=np.uint64).tobytes(), 1)
    with pytest.raises(MalformedProof):
        vec.decode(b"\x00" * 17, 2)


def _operands(seed: int, n: int = 257):
    rng = np.random.default_rng(seed)
    edge = np.array(EDGE, dtype=np.uint64)
    a = np.concatenate([edge, np.repeat(edge, len(edge)), vec.random(n, rng)])
    b = np.concatenate([edge[::-1], np.tile(edge, len(edge)), vec.random(n, rng)])
    ea = np.stack([a, b[::-1]], axis=1).copy()
    eb = np.stack([b, a], axis=1).copy()
    return a, b, ea, eb


@pytest.mark.parametrize("impl", [vec, reference], ids=["kernels", "reference"])
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_binary_ops_against_galois(impl, op):
    a, b, ea, eb = _operands(1)
    ga, gb = GF([int(x) for x in a]), GF([int(x) for x in b])
    expect = {"add": ga + gb, "sub": ga - gb, "mul": ga * gb}[op]
    assert [int(x) for x in getattr(impl, op)(a, b)] == [int(x) for x in expect]
    # extension: element c0 + c1 X <-> galois integer c0 + c1 p
    ga2 = GF2([int(x) + int(y) * P for x, y in ea])
    gb2 = GF2([int(x) + int(y) * P for x, y in eb])
    expect2 = {"add": ga2 + gb2, "sub": ga2 - gb2, "mul": ga2 * gb2}[op]
    got2 = getattr(impl, op)(ea, eb)
    assert [int(x) + int(y) * P for x, y in got2] == [int(v) for v in expect2]
    # mixed ext (op) base lifts the base operand
    mixed = getattr(impl, op)(ea, b)
    assert (mixed == getattr(reference, op)(ea, vec.lift(b))).all()


@pytest.mark.parametrize("seed", [2, 3])
def test_kernels_match_reference(seed):
    a, b, ea, eb = _operands(seed)
    c = vec.random(a.shape[0], np.random.default_rng(seed + 10))
    assert (vec.neg(a) == reference.neg(a)).all()
    assert (vec.neg(ea) == reference.neg(ea)).all()
    assert (vec.fma(a, b, c) == reference.fma(a, b, c)).all()
    assert (vec.fma(ea, eb, vec.lift(c)) == reference.fma(ea, eb, vec.lift(c))).all()
    s, s2 = Fp(int(a[-1])), Fp2(int(b[-1]), int(a[-2]))
    assert (vec.scale(s, a) == reference.scale(s, a)).all()
    assert (vec.scale(s2, a) == reference.scale(s2, a)).all()
    assert (vec.scale(s2, ea) == reference.scale(s2, ea)).all()
    assert (vec.pow(a, 12345678901) == reference.pow(a, 12345678901)).all()
    nz = a[a != 0]
    assert (vec.batch_inv(nz) == reference.batch_inv(nz)).all()
    assert (vec.batch_inv(ea[1:]) == reference.batch_inv(ea[1:])).all()
    assert vec.sum(a) == reference.sum(a) and vec.sum(ea) == reference.sum(ea)
    assert vec.inner(a, b) == reference.inner(a, b)
    assert vec.inner(ea, eb) == reference.inner(ea, eb)
    assert vec.inner(ea, b) == reference.inner(ea, b)


def test_batch_inv_names_the_zero():
    a = np.array([3, 5, 0, 9], dtype=np.uint64)
    with pytest.raises(ZeroDivisionError, match="entry 2"):
        vec.batch_inv(a)


def test_signed_embedding_has_one_zero():
    vals = np.array([0, -1, 1, -(1 << 40), (1 << 40), -0], dtype=np.int64)
    emb = vec.from_int64(vals)
    assert [int(x) for x in emb] == [v % P for v in vals.tolist()]
    assert (vec.to_signed(emb) == vals).all()


def test_vector_encoding_roundtrip():
    a, _, ea, _ = _operands(4)
    assert (vec.decode(vec.encode(a), a.shape[0]) == a).all()
    assert (vec.decode(vec.encode(ea), ea.shape[0], ext=True) == ea).all()


def test_random_is_canonical():
    r = vec.random(1 << 12, np.random.default_rng(0))
    assert int(r.max()) < P


def test_hidden_scaling_matches_fp2_products_term_by_term():
    """Hidden * scalar computes each coefficient on plain ints: the same
    coefficients as Fp2 products, for edge coefficients and scalars."""
    import random

    from zkaudit.field.constants import P as _P
    from zkaudit.field.hidden import Hidden

    rng = random.Random(7)
    edge = [1, 2, _P - 1, _P - 2, (1 << 32) - 1, 1 << 32, _P // 2]
    coeffs = [Fp2(a, b) for a in edge for b in (0, 1, _P - 1)] + [Fp2(rng.randrange(_P), rng.randrange(_P))
                                                                  for _ in range(20)]
    h = Hidden(Fp2(rng.randrange(_P), rng.randrange(_P)), [(("bank", i), c) for i, c in enumerate(coeffs)])
    for s in [Fp2(3), Fp2(0, 1), Fp2(_P - 1, _P - 1), Fp2(rng.randrange(_P), rng.randrange(_P)), 5]:
        s2 = s if isinstance(s, Fp2) else Fp2(s)
        for got in (h * s, s * h):
            assert got.const == h.const * s2
            assert got.terms == tuple((k, c * s2) for k, c in h.terms)
    zero = h * Fp2(0)
    assert zero.const == Fp2(0) and zero.terms == ()


def test_hidden_sum_is_the_left_to_right_sum():
    """hidden_sum (one pass over a term map) gives the same form as adding
    the values one by one, with cancelling terms dropped, public values
    mixed in, and an Fp2 when no addend is hidden."""
    import random

    from zkaudit.field.constants import P as _P
    from zkaudit.field.hidden import Hidden, hidden_sum

    rng = random.Random(11)

    def rand():
        return Fp2(rng.randrange(_P), rng.randrange(_P))

    values = []
    for i in range(60):
        if i % 7 == 3:
            values.append(rand())
        else:
            keys = rng.sample(range(12), 4)
            values.append(Hidden(rand(), [(("advice", k), rand()) for k in keys]))
    h = values[1]
    values += [-h]  # cancels h's terms exactly once more
    naive = Fp2(0)
    for v in values:
        naive = v + naive
    got = hidden_sum(values)
    assert isinstance(got, Hidden) and got == naive and got.to_bytes() == naive.to_bytes()
    public = [rand() for _ in range(5)]
    assert hidden_sum(public) == sum(public, Fp2(0)) and type(hidden_sum(public)) is Fp2
    assert hidden_sum([]) == Fp2(0)


def test_the_128_bit_product_is_the_integer_product():
    """`arith.mul_hilo` (one LLVM i128 multiply) and its four-product
    reference against Python's integers, on any 64-bit words (edges, words
    at and past p, random); `arith.mul` on it against galois."""
    from zkaudit.field import arith, jit

    nb = jit.numba()

    @nb.njit
    def products(a, b, out):
        for i in range(a.shape[0]):
            out[i, 0], out[i, 1] = arith.mul_hilo(a[i], b[i])
            out[i, 2], out[i, 3] = arith.mul_hilo_reference(a[i], b[i])
            out[i, 4] = arith.mul(a[i] % arith.U64_P, b[i] % arith.U64_P)

    rng = np.random.default_rng(128)  # test data only
    edge = [0, 1, 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, P - 1, P, P + 1, (1 << 63), (1 << 64) - 1]
    a = np.array(edge * len(edge) + [int(x) for x in rng.integers(0, 1 << 63, 300, dtype=np.uint64) * 2 + 1],
                 dtype=np.uint64)
    b = np.array([e for e in edge for _ in edge] + [int(x) for x in rng.integers(0, 1 << 64, 300, dtype=np.uint64)],
                 dtype=np.uint64)
    out = np.empty((a.shape[0], 5), dtype=np.uint64)
    products(a, b, out)
    for x, y, (hi, lo, rhi, rlo, m) in zip(a.tolist(), b.tolist(), out.tolist()):
        assert (hi << 64) | lo == x * y == (rhi << 64) | rlo
        assert m == int(GF(x % P) * GF(y % P))


@pytest.mark.parametrize("n", [1, 2, 100, 129, 200, 511, 512, 513, 1000])
def test_ext_mul_paths_against_galois(n):
    """`npfield.ext_mul` takes Python ints, the stacked four-product form or
    Karatsuba's three products by size; every path is the field's product,
    also broadcast against one element and along a leading axis, edge
    values included."""
    rng = np.random.default_rng(n)
    edge = np.array(EDGE, dtype=np.uint64)
    a = np.concatenate([edge, vec.random(2 * n, rng)])[: 2 * n].reshape(n, 2)
    b = np.concatenate([edge[::-1], vec.random(2 * n, rng)])[: 2 * n].reshape(n, 2)
    one = b[:1]

    def as_gf(x):
        return GF2([int(u) + int(v) * P for u, v in x.reshape(-1, 2)])

    for x, y in ((a, b), (a, one), (one, a)):
        got = npfield.ext_mul(x, y)
        assert got.shape == np.broadcast_shapes(x.shape, y.shape)
        want = as_gf(np.broadcast_to(x, got.shape)) * as_gf(np.broadcast_to(y, got.shape))
        assert [int(u) + int(v) * P for u, v in got.reshape(-1, 2)] == [int(w) for w in want]
    stacked = npfield.ext_mul(a.reshape(1, n, 2), b.reshape(1, n, 2))  # a leading axis
    assert (stacked[0] == npfield.ext_mul(a, b)).all()

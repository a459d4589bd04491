"""Naive Python-int reference for `zkaudit.field.vec`: same names, same
signatures (minus `out=`), obviously correct and slow. Tests run one
conformance suite over both."""

from __future__ import annotations

import builtins

import numpy as np

from zkaudit.field.constants import P, W
from zkaudit.field.scalar import Fp, Fp2


def _ints(a):
    return [int(x) for x in a]


def _pairs(a):
    return [(int(x), int(y)) for x, y in a]


def _arr(vals):
    return np.array(vals, dtype=np.uint64)


def _ext_arr(pairs):
    return np.array(pairs, dtype=np.uint64).reshape(len(pairs), 2)


def _em(a, b):
    return ((a[0] * b[0] + W * a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def _lift(a):
    return _pairs(a) if a.ndim == 2 else [(x, 0) for x in _ints(a)]


def _either(a, b, base_op, ext_op):
    if a.ndim == 1 and b.ndim == 1:
        return _arr([base_op(x, y) % P for x, y in zip(_ints(a), _ints(b))])
    return _ext_arr([ext_op(x, y) for x, y in zip(_lift(a), _lift(b))])


def add(a, b):
    return _either(a, b, lambda x, y: x + y, lambda x, y: ((x[0] + y[0]) % P, (x[1] + y[1]) % P))


def sub(a, b):
    return _either(a, b, lambda x, y: x - y, lambda x, y: ((x[0] - y[0]) % P, (x[1] - y[1]) % P))


def neg(a):
    return _arr([(-int(x)) % P for x in a.reshape(-1)]).reshape(a.shape)


def mul(a, b):
    return _either(a, b, lambda x, y: x * y, _em)


def fma(a, b, c):
    return add(mul(a, b), c)


def scale(s, a):
    if isinstance(s, Fp2):
        return _ext_arr([_em((s.c0, s.c1), x) for x in _lift(a)])
    sv = s.value if isinstance(s, Fp) else s % P
    return _arr([(sv * int(x)) % P for x in a.reshape(-1)]).reshape(a.shape)


def pow(a, e):
    return _arr([builtins.pow(int(x), e, P) for x in a])


def batch_inv(a):
    if a.ndim == 2:
        return _ext_arr([((Fp2(*x).inverse()).c0, (Fp2(*x).inverse()).c1) for x in _pairs(a)])
    return _arr([builtins.pow(x, P - 2, P) if x else _raise_zero() for x in _ints(a)])


def _raise_zero():
    raise ZeroDivisionError("zero has no inverse")


def sum(a):
    if a.ndim == 2:
        pairs = _pairs(a)
        return Fp2(builtins.sum(x for x, _ in pairs), builtins.sum(y for _, y in pairs))
    return Fp(builtins.sum(_ints(a)))


def inner(a, b):
    if a.ndim == 1 and b.ndim == 1:
        return Fp(builtins.sum(x * y for x, y in zip(_ints(a), _ints(b))))
    acc = (0, 0)
    for x, y in zip(_lift(a), _lift(b)):
        m = _em(x, y)
        acc = ((acc[0] + m[0]) % P, (acc[1] + m[1]) % P)
    return Fp2(*acc)

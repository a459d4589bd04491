"""Naive references for `kernels.py`, same signatures, one Fp2 at a time
(for the conformance tests; far too slow for real sizes)."""

from __future__ import annotations

from zkaudit.field.scalar import Fp2


def _get(a, i) -> Fp2:
    return Fp2(int(a[i, 0]), int(a[i, 1]))


def _put(a, i, x: Fp2) -> None:
    a[i, 0], a[i, 1] = x.c0, x.c1


def layer_up(p, q, po, qo):
    h = po.shape[0]
    for i in range(h):
        pl, pr, ql, qr = _get(p, i), _get(p, i + h), _get(q, i), _get(q, i + h)
        _put(po, i, pl * qr + pr * ql)
        _put(qo, i, ql * qr)


def leaf_denominators(cols, coeffs, k0, k1, out):
    for i in range(out.shape[0]):
        s = Fp2(int(k0), int(k1))
        for c in range(cols.shape[0]):
            s = s - _get(coeffs, c) * int(cols[c, i])
        _put(out, i, s)

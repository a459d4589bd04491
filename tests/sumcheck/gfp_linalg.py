"""Exact linear algebra over GF(p) for the zero-knowledge rank tests
(Python integers; matrices here have at most a few hundred entries a side).

A prover's revealed values, with the verifier's challenges fixed, are an
affine map of its randomness: pi(w, rho) = a(w) + A rho. `affine_map` gets
a(w) and A by running the prover at rho = 0 and rho = e_i; `in_column_span`
decides whether a vector lies in A's column span."""

from __future__ import annotations

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2


def flatten(values) -> list[int]:
    """Fp2 / Fp / int values to base-field coordinates (Fp2 -> c0, c1)."""
    out = []
    for v in values:
        if isinstance(v, Fp2):
            out += [v.c0, v.c1]
        else:
            out.append(int(v) % P)
    return out


def rank(rows: list[list[int]]) -> int:
    m = [list(r) for r in rows]
    rk, cols = 0, len(m[0]) if m else 0
    for c in range(cols):
        piv = next((i for i in range(rk, len(m)) if m[i][c] % P), None)
        if piv is None:
            continue
        m[rk], m[piv] = m[piv], m[rk]
        inv = pow(m[rk][c], P - 2, P)
        m[rk] = [x * inv % P for x in m[rk]]
        for i in range(len(m)):
            if i != rk and m[i][c]:
                f = m[i][c]
                m[i] = [(x - f * y) % P for x, y in zip(m[i], m[rk])]
        rk += 1
    return rk


def columns_to_rows(cols: list[list[int]]) -> list[list[int]]:
    return [list(r) for r in zip(*cols)] if cols else []


def in_column_span(cols: list[list[int]], v: list[int]) -> bool:
    """v in span(cols) iff appending v as a column keeps the rank."""
    if not cols:
        return all(x % P == 0 for x in v)
    return rank(columns_to_rows(cols)) == rank(columns_to_rows(cols + [v]))


def affine_map(run, num_rand: int) -> tuple[list[int], list[list[int]]]:
    """run(rho: list[int]) -> revealed coordinates. Returns (a, columns of A)."""
    zero = run([0] * num_rand)
    cols = []
    for i in range(num_rand):
        e = [0] * num_rand
        e[i] = 1
        cols.append([(x - z) % P for x, z in zip(run(e), zero)])
    return zero, cols


def apply(a: list[int], cols: list[list[int]], rho: list[int]) -> list[int]:
    out = list(a)
    for c, r in zip(cols, rho):
        if r:
            out = [(x + r * y) % P for x, y in zip(out, c)]
    return out


def kernel_vector(rows: list[list[int]], num_cols: int, pick: int = 1) -> list[int]:
    """A non-zero solution x of rows . x = 0 (free variables set to pick, pick+1, ...)."""
    m = [list(r) for r in rows]
    pivots, rk = [], 0
    for c in range(num_cols):
        piv = next((i for i in range(rk, len(m)) if m[i][c] % P), None)
        if piv is None:
            continue
        m[rk], m[piv] = m[piv], m[rk]
        inv = pow(m[rk][c], P - 2, P)
        m[rk] = [x * inv % P for x in m[rk]]
        for i in range(len(m)):
            if i != rk and m[i][c]:
                f = m[i][c]
                m[i] = [(x - f * y) % P for x, y in zip(m[i], m[rk])]
        pivots.append(c)
        rk += 1
    free = [c for c in range(num_cols) if c not in pivots]
    if not free:
        raise ValueError("only the zero solution")
    x = [0] * num_cols
    for k, c in enumerate(free):
        x[c] = pick + k
    for i, c in enumerate(pivots):
        x[c] = -sum(m[i][f] * x[f] for f in free) % P
    return x

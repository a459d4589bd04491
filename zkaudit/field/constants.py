"""Field constants, each checked when this module is imported.

Goldilocks: p = 2^64 - 2^32 + 1, so 2^64 = 2^32 - 1 (mod p) and 2^96 = -1 (mod p),
which gives the cheap reduction of a 128-bit product used by the kernels.
p - 1 = 2^32 * (2^32 - 1), so F_p* has a subgroup of order 2^32 (NTTs up to 2^32).

Extension: GF(p^2) = F_p[X]/(X^2 - W) with W = 7, a quadratic non-residue mod p,
so X^2 - 7 is irreducible. Challenges drawn from it have ~128 bits.
"""

from __future__ import annotations

P = (1 << 64) - (1 << 32) + 1
EPSILON = (1 << 32) - 1  # 2^64 mod p
W = 7  # X^2 = W in the extension
MULTIPLICATIVE_GENERATOR = 7  # generates F_p^*
TWO_ADICITY = 32
# MULTIPLICATIVE_GENERATOR^((p - 1) / 2^32): a primitive 2^32-th root of unity.
TWO_ADIC_ROOT = pow(MULTIPLICATIVE_GENERATOR, (P - 1) >> TWO_ADICITY, P)
BASE_BITS = 63.99999999966  # log2(p)
EXT_BITS = 2 * BASE_BITS  # log2(p^2): what one extension challenge is worth


def _is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin: these bases are exact for all n < 3.3e24."""
    if n < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    for q in bases:
        if n % q == 0:
            return n == q
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _distinct_prime_factors(n: int) -> list[int]:
    out, q = [], 2
    while q * q <= n:
        if n % q == 0:
            out.append(q)
            while n % q == 0:
                n //= q
        q += 1 if q == 2 else 2
    if n > 1:
        out.append(n)
    return out


def check_constants() -> None:
    """Raise RuntimeError if any constant is wrong (run at import)."""
    if not _is_prime(P):
        raise RuntimeError("Goldilocks modulus is not prime")
    if EPSILON != (1 << 64) % P:
        raise RuntimeError("EPSILON != 2^64 mod p")
    # W is a non-residue (Euler's criterion), so X^2 - W has no root: irreducible.
    if pow(W, (P - 1) // 2, P) != P - 1:
        raise RuntimeError("X^2 - 7 is reducible over F_p")
    # The generator has order exactly p - 1: g^((p-1)/q) != 1 for every prime q | p-1.
    # p - 1 = 2^32 * 3 * 5 * 17 * 257 * 65537.
    for q in _distinct_prime_factors_of_p_minus_1():
        if pow(MULTIPLICATIVE_GENERATOR, (P - 1) // q, P) == 1:
            raise RuntimeError("7 does not generate F_p^*")
    if pow(TWO_ADIC_ROOT, 1 << TWO_ADICITY, P) != 1 or pow(TWO_ADIC_ROOT, 1 << (TWO_ADICITY - 1), P) == 1:
        raise RuntimeError("TWO_ADIC_ROOT is not a primitive 2^32-th root of unity")


def _distinct_prime_factors_of_p_minus_1() -> list[int]:
    odd = (P - 1) >> TWO_ADICITY  # 2^32 - 1 = 3 * 5 * 17 * 257 * 65537
    return [2] + _distinct_prime_factors(odd)


check_constants()

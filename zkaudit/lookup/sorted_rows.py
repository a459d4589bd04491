"""Sorted distinctness: the first n rows (hi_j, lo_j) of a committed two-column
table are strictly increasing (lexicographically) integers of 62 bits each,
hence pairwise distinct. What prover and verifier share.

Witness (committed by the prover in one auxiliary commitment c_aux):
beta_j in {0, 1} ("hi increases"), d_j, the 16-bit limbs of hi, lo and d,
and the range tables' multiplicities. For j < n - 1, with h' = shifted h:

    (a) beta_j (1 - beta_j) = 0
    (b) (1 - beta_j) (hi'_j - hi_j) = 0                 (beta = 0: hi equal)
    (c) d_j = beta_j (hi'_j - hi_j - 1) + (1 - beta_j) (lo'_j - lo_j - 1)
    (d) hi_j, lo_j, d_j in [0, 2^62) for every j        (limbs, LogUp)

With hi, lo < 2^62, d in [0, 2^62) means hi' > hi (beta = 1) or hi' = hi
and lo' > lo (beta = 0) as integers: no field wrap-around can fake an
increase, so rows j < n are strictly increasing and distinct.

Protocol (after the caller bound the statement and the table commitment):
    absorb c_aux; r <- K^k, lambda <- K
    zero-check  sum_x eq(r, x) ind_{n-1}(x) [A + lambda B + lambda^2 C](x) = 0
                (degree 4; A, B, C the left sides of (a)-(c) moved to one side)
      -> point s; values eq(r, s), ind(s) (the verifier's own), beta, hi, hi', lo, lo', d at s
    mu <- K; shift sum-check sum_y next~(s, y) (hi + mu lo)(y) = hi'(s) + mu lo'(s)
      -> point s'; next~(s, s') (the verifier's own, `next_index.py`), hi(s'), lo(s')
    range LogUp over the 12 limb columns (`protocol.py`)
    z <- K^k; the prover sends every limb at z; hi(z), lo(z), d(z) by recomposition
    one opening of c_aux for beta(s), d(s), d(z) and every limb and multiplicity claim.
The claims on hi and lo (at s, s', z) go back to the caller, to discharge
against the table's commitment.

Soundness: r: zero-check of a degree-4 polynomial (k/p^2, a non-zero
constraint polynomial vanishes at a random point rarely); lambda: 2/p^2;
the sum-checks 4k/p^2 and 2k/p^2; mu 1/p^2; z: the recomposition (k/p^2);
the lookup and the opening their own (`protocol.soundness`, pcs params).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.lookup.limbs import RangeCheck
from zkaudit.lookup.proof import LookupProof
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.sumcheck.proof import SumcheckProof

ID_BITS = 62  # per limb of an ID; two limbs make 124 bits
LABEL_AUX = b"lookup/sorted/aux-commitment"
LABEL_R = b"lookup/sorted/zero-check-point"
LABEL_LAMBDA = b"lookup/sorted/lambda"
LABEL_MU = b"lookup/sorted/mu"
LABEL_Z = b"lookup/sorted/recompose-point"
LABEL_LIMBS = b"lookup/sorted/limb-values"

MAGIC = b"ZKSR"
FORMAT_VERSION = 1

# zero-check tables
EQ, IND, BETA, HI, HIN, LO, LON, D = range(8)
# aux commitment: beta, d, then limbs of hi, lo, d (4 each), then range multiplicities (16-bit, 14-bit)
AUX_BETA, AUX_D, AUX_LIMBS = 0, 1, 2


def range_check(num_rows: int) -> RangeCheck:
    return RangeCheck(ID_BITS, num_rows)


def num_limbs() -> int:
    return len(RangeCheck(ID_BITS, 1).limb_widths)


def zero_check_spec(lam: Fp2) -> SumOfProducts:
    """eq * ind * [A + lam B + lam^2 C], expanded into products of tables:
    A = beta - beta^2;  B = hin - hi - beta hin + beta hi;
    C = d - beta hin + beta hi - lon + lo + 1 + beta lon - beta lo."""
    l2 = lam * lam
    e = (EQ, IND)
    terms = [
        (1, e + (BETA,)), (-1, e + (BETA, BETA)),
        (lam, e + (HIN,)), (-lam, e + (HI,)), (-lam, e + (BETA, HIN)), (lam, e + (BETA, HI)),
        (l2, e + (D,)), (-l2, e + (BETA, HIN)), (l2, e + (BETA, HI)), (-l2, e + (LON,)), (l2, e + (LO,)),
        (l2, e), (l2, e + (BETA, LON)), (-l2, e + (BETA, LO)),
    ]
    return SumOfProducts.of(8, [(Fp2(c) if isinstance(c, int) else c, t) for c, t in terms])


def shift_spec(mu: Fp2) -> SumOfProducts:
    """next~(s, .) * (hi + mu lo): tables [next, hi, lo]."""
    return SumOfProducts.of(3, [(1, (0, 1)), (mu, (0, 2))])


@dataclass(frozen=True)
class SortedRowsProof:
    aux_commitment: bytes
    zero_check: SumcheckProof
    shift: SumcheckProof
    ranges: LookupProof
    limbs_at_z: tuple[Fp2, ...]
    opening: bytes  # the opening proof of c_aux (parsed against it by the verifier)

    def to_bytes(self) -> bytes:
        parts = [self.aux_commitment, self.zero_check.to_bytes(), self.shift.to_bytes(), self.ranges.to_bytes(),
                 b"".join(v.to_bytes() for v in self.limbs_at_z), self.opening]
        return MAGIC + bytes([FORMAT_VERSION]) + b"".join(struct.pack("<I", len(p)) + p for p in parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> SortedRowsProof:
        data = bytes(data)
        if data[:4] != MAGIC:
            raise MalformedProof("not a sorted-rows proof (bad magic)", where="lookup/sorted")
        if len(data) < 5 or data[4] != FORMAT_VERSION:
            raise MalformedProof("unsupported sorted-rows proof version", where="lookup/sorted",
                                 expected=FORMAT_VERSION, got=data[4] if len(data) > 4 else None)
        parts, pos = [], 5
        for i in range(6):
            if pos + 4 > len(data):
                raise MalformedProof("sorted-rows proof truncated", where="lookup/sorted", round=i)
            (n,) = struct.unpack_from("<I", data, pos)
            pos += 4
            if pos + n > len(data):
                raise MalformedProof("sorted-rows proof truncated", where="lookup/sorted", round=i,
                                     expected=pos + n, got=len(data))
            parts.append(data[pos : pos + n])
            pos += n
        if pos != len(data):
            raise MalformedProof("sorted-rows proof has trailing bytes", where="lookup/sorted", expected=pos,
                                 got=len(data))
        if len(parts[4]) % BYTES_EXT:
            raise MalformedProof("limb values are not whole field elements", where="lookup/sorted")
        limbs = tuple(Fp2.from_bytes(parts[4][i : i + BYTES_EXT]) for i in range(0, len(parts[4]), BYTES_EXT))
        return cls(parts[0], SumcheckProof.from_bytes(parts[1]), SumcheckProof.from_bytes(parts[2]),
                   LookupProof.from_bytes(parts[3]), limbs, parts[5])

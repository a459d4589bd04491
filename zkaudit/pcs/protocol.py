"""The opening protocol, shared by prover and verifier: labels, the order of
transcript operations, and the batching sum-check's shape.

Committed: M (R x m), its row-wise RS encoding C (R x n), the root of a
Merkle tree whose leaf j is column j of C. Claims f_i~(z_i) = v_i become
G(y_i, x_i) = v_i (see `layout.py`).

    1. absorb the commitment digest and the claims
    2. alpha_r <- K for r < R                  (cost: n / |K|, proximity gap;
                                                a transcript seed, SHAKE-expanded)
       P: u_prox = sum_r alpha_r M[r]           absorbed
    3. gamma <- K                               (cost: (q - 1) / |K|)
       sum-check, l = log2 R_pad rounds, degree 2, of
           sum_i gamma^i v_i = sum_{y in {0,1}^l} sum_i gamma^i eq(y_i, y) W_i(y),
           W_i(y) = sum_c eq(x_i, c) M[y, c]
       ending at a random point rho with values eq(y_i, rho), W_i(rho)
                                                (cost: 2 l / |K|)
       P: u_eval = sum_r eq(rho, r) M[r]        absorbed
    4. t positions j <- [0, n)                  (cost: 2 (1 - delta)^t)
       P: columns C[:, j] with a Merkle multi-proof
    V: eq(y_i, rho) itself; W_i(rho) = <eq(x_i, .), u_eval>;
       for each opened j: Enc(u_prox)[j] = sum_r alpha_r C[r, j] and
                          Enc(u_eval)[j] = sum_r eq(rho, r) C[r, j].

The queries come last, after both rows are fixed in the transcript.
"""

from __future__ import annotations

import hashlib

import numpy as np

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.pcs.claim import Claim
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.transcript import Transcript

LABEL_COMMITMENT = b"pcs/commitment"
LABEL_CLAIMS = b"pcs/claims"
LABEL_PROXIMITY = b"pcs/proximity-coefficient"
LABEL_PROXIMITY_ROW = b"pcs/proximity-row"
LABEL_BATCH = b"pcs/batch-claims"
LABEL_EVALUATION_ROW = b"pcs/evaluation-row"
LABEL_QUERY = b"pcs/query"
_EXPAND_DOMAIN = b"zkaudit/pcs/proximity-coefficients/v1"


def absorb_header(transcript: Transcript, commitment_digest: bytes, claims: list[Claim]) -> None:
    transcript.absorb_bytes(LABEL_COMMITMENT, commitment_digest)
    transcript.absorb_u64(LABEL_CLAIMS, len(claims))
    for c in claims:
        transcript.absorb_bytes(LABEL_CLAIMS, c.to_bytes())


def proximity_coefficients(transcript: Transcript, num_rows: int) -> np.ndarray:
    """alpha as an (R, 2) array, independent and uniform in K.

    Drawn as a 256-bit seed from the transcript (two challenges in K), then
    expanded with SHAKE-256 (`expanded_challenges`). In the random-oracle
    model this is as good as R challenges from the transcript, at one hash
    call instead of R (R reaches 2^10 here; each transcript challenge costs a
    few microseconds of Python)."""
    return expanded_challenges(transcript, LABEL_PROXIMITY, _EXPAND_DOMAIN, num_rows)


def expanded_challenges(transcript: Transcript, label: bytes, domain: bytes, count: int) -> np.ndarray:
    """`count` independent uniform elements of K as a (count, 2) array: a
    256-bit seed drawn from the transcript under `label` (two challenges in
    K), expanded with SHAKE-256 under `domain` into u64 words, each rejected
    when >= p (no modular bias; rejection probability 2^-32 per word)."""
    seed = b"".join(x.to_bytes() for x in transcript.challenge_exts(label, 2))
    need = 2 * count
    words = np.empty(0, dtype=np.uint64)
    extra = 8 + need // 1024
    while True:  # more than `extra` rejections among `need` words: ~never
        stream = hashlib.shake_256(domain + seed).digest(8 * (need + extra))
        raw = np.frombuffer(stream, dtype="<u8").astype(np.uint64)
        words = raw[raw < np.uint64(P)]
        if words.shape[0] >= need:
            return np.ascontiguousarray(words[:need].reshape(count, 2))
        extra *= 2


def batching_powers(transcript: Transcript, num_claims: int) -> list[Fp2]:
    gamma = transcript.challenge_ext(LABEL_BATCH)
    out, acc = [], Fp2(1)
    for _ in range(num_claims):
        out.append(acc)
        acc = acc * gamma
    return out


def batching_powers_array(transcript: Transcript, num_claims: int) -> np.ndarray:
    """`batching_powers` as a (q, 2) array (the same one challenge): the
    powers by doubling, q numpy products in log2 q steps instead of q
    products of Fp2 objects (a zero-knowledge proof opens ~10^4 claims)."""
    from zkaudit.field import npfield as nf

    gamma = transcript.challenge_ext(LABEL_BATCH)
    out = np.zeros((num_claims, 2), dtype=np.uint64)
    if num_claims:
        out[0, 0] = 1
    done, step = 1, np.array([gamma.c0, gamma.c1], dtype=np.uint64)  # step = gamma^done
    while done < num_claims:
        take = min(done, num_claims - done)
        out[done : done + take] = nf.ext_mul(out[:take], step)
        step = nf.ext_mul(step, step)
        done += take
    return out


def batched_value_array(powers: np.ndarray, claims) -> Fp2:
    """`batched_value` from `batching_powers_array`'s powers: one numpy
    inner product."""
    from zkaudit.field import vec

    from array import array

    words = array("Q", [w for c in claims for w in (c.value.c0, c.value.c1)])  # a C loop, unlike np.array's
    values = np.frombuffer(words, dtype=np.uint64).reshape(-1, 2)
    return vec.inner(np.ascontiguousarray(powers), values)


def batch_spec(powers: list[Fp2]) -> SumOfProducts:
    """sum_i gamma^i * T_{2i} * T_{2i+1}; T_{2i} = eq(y_i, .), T_{2i+1} = W_i."""
    return SumOfProducts.of(2 * len(powers), [(g, (2 * i, 2 * i + 1)) for i, g in enumerate(powers)])


def batched_value(powers: list[Fp2], claims: list[Claim]) -> Fp2:
    total = Fp2(0)
    for g, c in zip(powers, claims):
        total = total + g * c.value
    return total


def query_positions(transcript: Transcript, log_codeword: int, num_queries: int) -> list[int]:
    """t uniform draws from [0, n), sorted and deduplicated (a repeated draw
    costs nothing and checks nothing new)."""
    return sorted(set(transcript.challenge_indices(LABEL_QUERY, 1 << log_codeword, num_queries)))

"""Naive Poseidon2 (Goldilocks, width 8) on Python ints, and the Merkle tree
over it: the oracle that the numba kernels are tested against. Written to
read like the specification (zero-knowledge.md §5.1), not to be fast.

    permute(x):  x <- M_E x
                 4 x { x <- M_E (S(x + c_r)) }            S = x^7 on every lane
                 22 x { x_0 <- (x_0 + c_r)^7; x <- M_I x }
                 4 x { x <- M_E (S(x + c_r)) }
    compress(l, r) = permute(l || r)[0:4]          (TruncatedPermutation)
    leaf(m)        = permute(m_0..m_6 || LEAF_TAG)[0:4]

The tree conventions (padding, tags, path order) are those of
`zkaudit.hash.merkle`, which documents them.
"""

from __future__ import annotations

from zkaudit.field.constants import P
from zkaudit.hash.constants import (
    ALPHA,
    EXTERNAL_FINAL,
    EXTERNAL_INITIAL,
    INTERNAL,
    M4,
    MATRIX_DIAG_8,
    WIDTH,
)
from zkaudit.hash.params import DIGEST_LEN, LEAF_RATE, LEAF_TAG


def _m4(x: list[int]) -> list[int]:
    return [sum(M4[i][j] * x[j] for j in range(4)) % P for i in range(4)]


def external_matrix() -> list[list[int]]:
    """M_E = circ(2 M4, M4) as an explicit 8x8 matrix."""
    out = [[0] * WIDTH for _ in range(WIDTH)]
    for bi in range(2):
        for bj in range(2):
            k = 2 if bi == bj else 1
            for i in range(4):
                for j in range(4):
                    out[4 * bi + i][4 * bj + j] = k * M4[i][j]
    return out


def internal_matrix() -> list[list[int]]:
    """M_I = 1 1^T + diag(V)."""
    return [[(1 + (MATRIX_DIAG_8[i] if i == j else 0)) % P for j in range(WIDTH)] for i in range(WIDTH)]


def mat_vec(m: list[list[int]], x: list[int]) -> list[int]:
    return [sum(a * b for a, b in zip(row, x)) % P for row in m]


_ME = external_matrix()
_MI = internal_matrix()


def external_linear(x: list[int]) -> list[int]:
    return mat_vec(_ME, x)


def internal_linear(x: list[int]) -> list[int]:
    return mat_vec(_MI, x)


def _external_round(x: list[int], rc) -> list[int]:
    return external_linear([pow((a + c) % P, ALPHA, P) for a, c in zip(x, rc)])


def permute(state) -> list[int]:
    x = [int(v) for v in state]
    if len(x) != WIDTH or any(not 0 <= v < P for v in x):
        raise ValueError("a Poseidon2 state is 8 canonical field elements")
    x = external_linear(x)
    for rc in EXTERNAL_INITIAL:
        x = _external_round(x, rc)
    for c in INTERNAL:
        x[0] = pow((x[0] + c) % P, ALPHA, P)
        x = internal_linear(x)
    for rc in EXTERNAL_FINAL:
        x = _external_round(x, rc)
    return x


def compress(left, right) -> list[int]:
    """Internal node: the first 4 lanes of permute(left || right)."""
    if len(left) != DIGEST_LEN or len(right) != DIGEST_LEN:
        raise ValueError("compress takes two 4-element digests")
    return permute(list(left) + list(right))[:DIGEST_LEN]


def hash_leaf(block) -> list[int]:
    """Leaf: the first 4 lanes of permute(7 message elements || LEAF_TAG)."""
    if len(block) != LEAF_RATE:
        raise ValueError("a leaf holds 7 field elements")
    return permute(list(block) + [LEAF_TAG])[:DIGEST_LEN]


def leaf_blocks(elements) -> list[list[int]]:
    """The message cut into 7-element leaves, zero-padded to 2^k leaves (k >= 0)."""
    msg = [int(v) for v in elements]
    if not msg:
        raise ValueError("cannot hash an empty message")
    n_leaves = 1
    while n_leaves * LEAF_RATE < len(msg):
        n_leaves *= 2
    msg += [0] * (n_leaves * LEAF_RATE - len(msg))
    return [msg[i * LEAF_RATE : (i + 1) * LEAF_RATE] for i in range(n_leaves)]


def tree_levels(elements) -> list[list[list[int]]]:
    level = [hash_leaf(b) for b in leaf_blocks(elements)]
    levels = [level]
    while len(level) > 1:
        level = [compress(level[2 * i], level[2 * i + 1]) for i in range(len(level) // 2)]
        levels.append(level)
    return levels


def merkle_root(elements) -> list[int]:
    return tree_levels(elements)[-1][0]


def merkle_path(elements, leaf_index: int) -> list[list[int]]:
    """Sibling digests from the leaf level up."""
    levels = tree_levels(elements)
    path, i = [], leaf_index
    for level in levels[:-1]:
        path.append(level[i ^ 1])
        i >>= 1
    return path


def root_from_path(leaf_block, leaf_index: int, path) -> list[int]:
    node = hash_leaf(leaf_block)
    i = leaf_index
    for sibling in path:
        node = compress(node, sibling) if i & 1 == 0 else compress(sibling, node)
        i >>= 1
    return node

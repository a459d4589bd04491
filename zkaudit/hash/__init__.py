"""Poseidon2 over Goldilocks (width 8, Plonky3's `default_goldilocks_poseidon2_8`),
its Merkle tree, and the salted weight commitment `p2gl8-tree-v1`.

    constants.py   Grain LFSR round constants (regenerated in tests) and the matrices
    reference.py   plain-Python permutation and tree: the oracle
    kernels.py     numba kernels over batches of states
    poseidon2.py   checked batch API: permute, compress, hash_leaves
    merkle.py      tree, paths, path verification (tagged leaves, 2-to-1 nodes)
    commitment.py  salt || header || packed int8 weights -> root
    errors.py      typed rejections (ProofRejected subclasses)

Imports: errors, field.
"""

from zkaudit.hash.commitment import (
    SCHEME_ID,
    TensorLayout,
    WeightCommitment,
    commit_weights,
    layout_digest,
    layouts_of,
    verify_weight_opening,
)
from zkaudit.hash.merkle import MerklePath, MerkleTree, merkle_root, verify_path
from zkaudit.hash.poseidon2 import compress, hash_leaves, permute

__all__ = [
    "SCHEME_ID",
    "MerklePath",
    "MerkleTree",
    "WeightCommitment",
    "commit_weights",
    "compress",
    "hash_leaves",
    "layout_digest",
    "merkle_root",
    "permute",
    "verify_path",
    "verify_weight_opening",
]

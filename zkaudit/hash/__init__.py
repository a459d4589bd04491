"""Poseidon2 over Goldilocks (width 8, Plonky3's `default_goldilocks_poseidon2_8`),
its Merkle tree, and the salted weight commitment `p2gl8-tree-v2`.

    constants.py   Grain LFSR round constants (regenerated in tests) and the matrices
    reference.py   plain-Python permutation and tree: the oracle
    kernels.py     numba kernels over batches of states
    poseidon2.py   checked batch API: permute, compress, hash_leaves
    merkle.py      tree, paths, path verification (tagged leaves, 2-to-1 nodes)
    commitment.py  salt || header || packed int8 weights -> root
    errors.py      typed rejections (ProofRejected subclasses)

Imports: errors, field.
"""

# Exports resolve on first use: importing a submodule runs this file, and a
# verifier that only reads a commitment's magic or runs the GKR's checks
# must not load the numba kernels behind `poseidon2` and `merkle`.
_EXPORTS = {
    "SCHEME_ID": "commitment", "TensorLayout": "commitment", "WeightCommitment": "commitment",
    "commit_weights": "commitment", "layout_digest": "commitment", "layouts_of": "commitment",
    "verify_weight_opening": "commitment",
    "MerklePath": "merkle", "MerkleTree": "merkle", "merkle_root": "merkle", "verify_path": "merkle",
    "compress": "poseidon2", "hash_leaves": "poseidon2", "permute": "poseidon2",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zkaudit.hash' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"zkaudit.hash.{module}"), name)

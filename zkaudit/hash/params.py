"""Shape constants of the Poseidon2 Merkle tree (zkaudit.hash.merkle).

A digest is 4 field elements (~256 bits; collision resistance ~128 bits).
A leaf holds 7 message elements; the eighth lane carries LEAF_TAG so that
leaf compressions and internal compressions never take the same input
unless an internal node's right child ends in LEAF_TAG (a 2^-64 event per
node for digests that are permutation outputs). The depth of a tree is
fixed by the message length, which every caller binds (the weight
commitment puts it in its header), so a leaf can never stand in for an
internal node at a given position anyway; the tag makes the separation
hold for the compression function itself, as the design note asks.
"""

from __future__ import annotations

DIGEST_LEN = 4
LEAF_RATE = 7
# "leaf" domain tag in lane 7: ASCII "p2leaf" as a big-endian integer, < 2^48 < p.
LEAF_TAG = int.from_bytes(b"p2leaf", "big")

"""Polynomial commitments: NTT / Reed-Solomon, Merkle trees, the tensor-code
multilinear commitment with batched openings.

Imports: field, poly, transcript."""

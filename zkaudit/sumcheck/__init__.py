"""Generic sum-check for linear combinations of products of multilinear tables.

Imports: field, poly, transcript."""

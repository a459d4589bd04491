"""Multilinear extensions over {0,1}^n, eq tables, univariate round polynomials.

Imports: field."""

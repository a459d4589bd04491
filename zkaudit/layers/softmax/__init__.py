"""Softmax along the last axis, step by step as the integer executor does it:
the window maximum (from `layers.pool`), an exp-table lookup of pairs, the
row sum, a rounded division with range-checked remainder and the
half-to-even tie rule, and the clamp (`verifier.py` states the maths).

Imports: field, poly, sumcheck, lookup, transcript, layers (tensor, claim,
stream, pool)."""

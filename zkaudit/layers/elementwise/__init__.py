"""Add / Sub / Mul of two same-shape tensors with zero points (see
`verifier.py`). Broadcast operands are materialized by the caller, whose
claim on the broadcast table maps to the original tensor by indicators."""

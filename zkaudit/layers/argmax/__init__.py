"""ArgMax along any axis with ONNX's first/last-index tie rule, as a keyed
window maximum (`layers.pool`): see `verifier.py`.

Imports: field, poly, sumcheck, lookup, transcript, layers (tensor, claim,
stream, pool)."""

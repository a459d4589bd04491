"""MatMul / Gemm: Y = (A - za)(B - zb) + bias, reduced by one sum-check over
the inner dimension (see `verifier.py` for the protocol)."""

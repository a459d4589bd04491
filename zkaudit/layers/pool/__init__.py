"""Reducing layers over windows: MaxPool (and the window-maximum argument that
Softmax and ArgMax reuse), AveragePool. A window structure is public wiring
taken from the IR kernels applied to index arrays (`windows.py`); the
maximum is proven with a range check of every difference plus a one-hot
selector (`verifier.py` states the maths).

Imports: field, poly, sumcheck, lookup, transcript, circuit (kernels),
layers (tensor, claim, kernels, stream)."""

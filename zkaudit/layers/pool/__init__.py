"""Reducing layers over windows.

* `windows.py`: public window wiring (output cell, slot) -> X index, taken
  from the IR kernels' own pad/window views applied to index arrays.
* `verifier.py`/`prover.py`: the window-maximum argument (range-checked
  differences, one-hot selector, wiring sum-checks), MaxPool on it, and its
  keyed variant that ArgMax uses; Softmax reuses it for the row maximum.
* `average.py`/`average_prover.py`: AveragePool (window sum by a wiring
  sum-check, rounded division by the public count, half-to-even ties).
* `ranges.py`: several range checks (and extra lookups) in one LogUp
  argument; `proof.py` wire types; `errors.py` rejections.

Imports: field, poly, sumcheck, lookup, transcript, circuit (kernels),
layers (tensor, claim, kernels, stream, shapes)."""

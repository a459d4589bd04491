"""One prover/verifier pair per circuit IR op, each reducing claims on the
op's output MLE to claims on its inputs and parameters (GKR over the graph,
from the outputs back to the inputs).

Conventions every layer shares:

* Tensors become tables by `tensor.embed`: per-dimension power-of-two zero
  padding, row-major, signed integers embedded as p - |v|. A point is one
  sub-point per dimension (`tensor.split_point`). Zero points apply on real
  entries only, through `poly.mle.prefix_indicator`, so every relation also
  holds on the padding.
* A claim is a `claim.TensorClaim(tensor, point, value)`. A layer's verifier
  returns the claims it reduced to; the statement's driver combines claims
  that meet at one tensor, hands claims on weights to one batched opening of
  the weight commitment, claims on advice (remainders, limbs, multiplicities,
  non-linear outputs) to the per-proof advice commitment, and checks claims
  on a public input by evaluating it.
* Non-linear ops (Requantize, Relu/Clip, Table, Softmax, MaxPool, ArgMax)
  take their outputs and remainders as committed advice; every advice value
  is range-checked or looked up with `zkaudit.lookup`.

Layer packages (each with proof.py, prover.py, verifier.py; each registers
its ops with `dispatch_prover` / `dispatch_verifier` through `register`):
`matmul` (2-D), `conv` (grouped/depthwise, stride, dilation, pads, without
materializing im2col), `elementwise` (Add/Sub/Mul of same-shape tensors),
`index_map` (Reshape/Transpose/Concat/Pad), `requantize` (fixed-point
rescale, half-to-even rounding, saturation), `clamp` (Relu/Clip and the
constraint system Requantize shares), `table` (function tables),
`pool` (MaxPool, AveragePool and the window-maximum argument), `softmax`,
`argmax`. `combine_*` merges claims that meet at one tensor; `stream`
carries the layer proofs in walk order.

Imports: everything below statements."""

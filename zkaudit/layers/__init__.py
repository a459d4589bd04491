"""One prover/verifier pair per circuit IR op, each reducing claims on the
op's output MLE to claims on its inputs and parameters (GKR over the graph,
from the outputs back to the inputs).

Conventions every layer shares:

* Tensors become tables by `tensor.embed`: per-dimension power-of-two zero
  padding, row-major, signed integers embedded as p - |v|. A point is one
  sub-point per dimension (`tensor.split_point`). Zero points apply on real
  entries only, through `poly.mle.prefix_indicator`, so every relation also
  holds on the padding.
* THE PADDING RULE. Sums run over padded dimensions (MatMul's inner
  dimension, Conv's channels, window slots), so the padding of every tensor
  must be *proven* zero, never merely range-checked -- the vendor picks the
  committed weights and every advice value, and a free padding cell that a
  sum reads moves a real output. Who proves it:
    - public inputs and outputs: the verifier embeds them itself (zeros);
    - committed weights and inputs: `statements.inference.committed_range`
      looks up w - lo I and hi I - w, which forces w = 0 where I = 0;
    - advice tensors: the op's relations, with the real-cell indicator I
      (`clamp.system` adds (1 - I) v = 0 for every advice tensor; the window
      maximum's zero slot; Table's row 0; Softmax and AveragePool's I terms);
    - tensors a sum-check or index map defines (MatMul, Conv, Add/Sub/Mul,
      Reshape...): their relations map zero padding to zero padding.
  A new op states in its docstring which of these holds for each tensor it
  reads or writes, and gets the malicious-prover harness
  (`tests/adversarial`), which varies every padding cell, selector, limb,
  remainder and multiplicity and requires that no other output verifies.
  Selectors are masked the same way: a one-hot over window slots may only
  pick slots wired to an input (ArgMax's index term reads k M').
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
`index_map` (Reshape/Transpose/Concat/Pad/Expand/Gather), `requantize` (fixed-point
rescale, half-to-even rounding, saturation), `clamp` (Relu/Clip and the
constraint system Requantize shares), `table` (function tables),
`pool` (MaxPool, AveragePool and the window-maximum argument), `softmax`,
`argmax`, `gather_rows` (rows of a table at computed indices, one LogUp
against the table as a committed table), `pointer_walk` (D steps along a
successor table from T start rows, all steps in one LogUp: tree ensembles'
paths); `padding_check` is the zero-check both use for an advice tensor's
padding. `combine_*` merges claims that meet at one tensor; `stream`
carries the layer proofs in walk order.

Imports: everything below statements."""

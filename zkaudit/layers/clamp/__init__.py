"""Clip and Relu (Relu is a clip with lo = zero_point and hi = the input's
declared upper bound), proven by the constraint system of `system.py`:
range-checked 16-bit limbs in one LogUp argument plus one zero-check
sum-check over all relations, with public per-channel tables the verifier
evaluates itself. `layers.requantize` reuses the system (`prove_system` /
`verify_system`). The Clip/Relu protocol is stated in `verifier.py`."""

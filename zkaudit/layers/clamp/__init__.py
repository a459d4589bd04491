"""Clip and Relu (Relu is a clip with lo = zero_point and no upper bound
beyond the input's range), proven by the constraint system of `system.py`
(range-checked limbs + one zero-check), which `layers.requantize` reuses.
The protocol is stated in `verifier.py`."""

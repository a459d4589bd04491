"""Requantize: fixed-point rescale with round-half-to-even and saturation,
proven by range-checked limbs and one zero-check over the constraint system
of `layers.clamp.system`. The protocol is stated in `verifier.py`."""

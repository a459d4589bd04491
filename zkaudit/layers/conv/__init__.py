"""Conv (2-D, NCHW, grouped incl. depthwise, stride, padding, dilation, zero
points, optional bias): a claim on the output MLE reduced to claims on X, W
and bias with cost linear in the tensor sizes, never materializing im2col
(see `verifier.py` for the protocol).

Imports: field, poly, sumcheck, transcript, layers (tensor, claim, kernels)."""

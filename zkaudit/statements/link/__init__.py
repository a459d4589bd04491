"""The link statement "link-quant/v1" (design/statements.md §3.8): the int8
weights and int32 biases a compiled model registers (c_W, p2gl8-tree-v2)
are exactly the declared quantization of the theta a training proof
output as c_theta, under the published float32 scales and the parameter
map pi, with the number of clamped weights proven exact.

`prover.prove_link` writes a proof file; `verifier.verify_link` checks one
(and is the registered verifier of statement "link-quant"). Proofs are
zero-knowledge only: theta, the weights and both salts stay hidden."""

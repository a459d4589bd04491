"""One prover/verifier pair per circuit IR op, each reducing a claim on the op's
output MLE to claims on its inputs and parameters.

Imports: everything below statements."""

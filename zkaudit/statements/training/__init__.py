"""The training-policy statement `train-dpsgd/v1` (design/statements.md §3):
a zero-knowledge proof that a run trained logistic regression by the
policy's integer DP-SGD on the committed dataset, with noise and batches
drawn from the committed tape masked by the auditor's coin, and that its
final weights hash to the output commitment c_theta.

    plan.py       the relation as columns, gates, range checks, lookups
    protocol.py   what prover and verifier share (order, shapes, container)
    witness.py    the columns from the reference trainer's trace (prover)
    prover.py     the prover;  run_proof.py  a trained run directory -> proof
    verifier.py   the verifier: `verify_training` -> TrainingVerdict
    expr.py       integer polynomials over named columns (the gates)
"""

"""The inference statement: y = M(x; W), with M the registered circuit
(named by its digest), W opening the registered weight commitment, x and y
public. `prover.prove` writes a proof file; `verifier.verify_inference`
checks one using only public artifacts. Not zero-knowledge yet."""

"""The inference statement: y = M(x; W), with M the registered circuit
(named by its digest), W the weights behind the registered weight commitment
(opened, or for a hashed commitment proven to hash to it: `weights_link`), y
public and x public or committed. `prover.prove` writes a proof file;
`verifier.verify_inference` checks one using only public artifacts.
Zero-knowledge by default (`zk.py`); a plain proof says so in its statement."""

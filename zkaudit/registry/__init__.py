"""The public model registry: SQLAlchemy store, signatures, transparency log, HTTP API.

It verifies proofs through `zkaudit.statements` verifiers and never imports a prover.
Imports: statements (verifier side) and below."""

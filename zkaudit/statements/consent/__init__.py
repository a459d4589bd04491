"""The consent statement (design/statements.md §3.7): every valid record of
a custodian-committed dataset carries a pseudonymous ID that is a row of an
IRB's committed consent table (version v, purpose code), and with
`unique_ids` each table row is used at most once.

`prover.prove_consent` writes a proof file; `verifier.verify_consent`
checks one against the dataset and consent-table records (and is the
registered verifier of statement "consent").

Proofs are zero-knowledge by default (the protocol is at the top of
`verifier.py`, with the machinery of zero-knowledge inference); the plain
protocol (`zero_knowledge=False`) is for synthetic or public data only, and
the registry refuses it unless its prover flags the data as such.
A hiding commitment hides its data through one opening, so the dataset
record holds one consent commitment per consent proof (`commit_dataset(
consent_uses=K)`, `data/dataset.py`): each proof names the one it opens
(`dataset_use`), the verifier takes it from the record, and the prover's
ledger (`prove-consent`) and the registry refuse a second opening of any.

The prover's work on the table side follows the records, not the table:
`sparse.py` (kernels in `kernels.py`) keeps the multiplicities sparse
through the uniqueness zero-check and the LogUp's table tree."""

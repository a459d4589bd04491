"""The consent statement (design/statements.md §3.7): every valid record of
a custodian-committed dataset carries a pseudonymous ID that is a row of an
IRB's committed consent table (version v, purpose code), and with
`unique_ids` each table row is used at most once.

`prover.prove_consent` writes a proof file; `verifier.verify_consent`
checks one against the dataset and consent-table records (and is the
registered verifier of statement "consent").

NOT ZERO-KNOWLEDGE YET: the sum-check messages and the commitment openings
reveal linear combinations of the ID columns, the consent table and the
multiplicities. Until the zero-knowledge wave (issue 15) lands, consent
proofs may be published only over synthetic or public data; the registry
must refuse them over patient data."""

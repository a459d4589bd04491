"""Sealed datasets and consent tables: schemas, commitments, openings.

`schema.py` declares a table (column types, fixed-point scales, ranges,
the pseudonymous ID column); `io.py` reads CSV and Parquet through pyarrow
into validated field columns; `dataset.py` commits a dataset (one
multilinear polynomial per column, rows padded to a power of two with a
`valid` column); `consent_table.py` commits an IRB's sorted ID list with its
distinctness proof, checked by `consent_table_verifier.py`; `records.py`
holds the public records both sides read.

A dataset's commitment is hiding (`dataset.py`: randomness from a secret
opening seed, a bank of pads for zero-knowledge proofs); a consent table's
is plain (`consent_table.py` says why).

Imports: lookup and below (the layer sits between lookup/layers and statements)."""

"""Sealed datasets and consent tables: schemas, commitments, openings.

`schema.py` declares a table (column types, fixed-point scales, ranges,
the pseudonymous ID column); `io.py` reads CSV and Parquet through pyarrow
into validated field columns; `dataset.py` commits a dataset (one
multilinear polynomial per column, rows padded to a power of two with a
`valid` column); `consent_table.py` commits an IRB's sorted ID list with its
distinctness proof, checked by `consent_table_verifier.py`; `records.py`
holds the public records both sides read.

Commitments use the plain (binding, not hiding) tensor-code PCS for now:
the consent proof needs exact claims on the columns' multilinear
extensions, and the hiding commitment's claims are on the masked extension
f^ that only the zero-knowledge GKR (issue 15) can consume.

Imports: lookup and below (the layer sits between lookup/layers and statements)."""

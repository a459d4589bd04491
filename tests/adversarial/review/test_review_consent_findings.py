"""Consent forgeries found in the second review, now refused: a custodian's
valid column that is 0 on a record inside num_rows, and a table whose
distinctness proof is invalid (checked whenever the caller gives it; the
generic path says it did not check it)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from zkaudit.data.consent_table import commit_consent_table, commit_sorted
from zkaudit.data.dataset import commit_dataset
from zkaudit.data.records import DATASET_TYPE, DatasetRecord, default_params
from zkaudit.data.canonical import digest
from zkaudit.data.dataset import DatasetOpening, commit_polynomials
from zkaudit.errors import ProofRejected
from zkaudit.lookup.committed_table_prover import table_multiplicities
from zkaudit.statements.consent.prover import prove_consent
from zkaudit.statements.consent.verifier import verify_consent
from zkaudit.statements.verify import verify_proof

from test_review_consent import SCHEMA, _dataset, _ids, _m

U64 = np.uint64


def test_custodian_valid_zero_hides_a_stranger_among_num_rows():
    """The record says num_rows = 8 ('valid is 1 on the N real rows'), but the
    committed valid column is 0 on row 7, whose ID is not consented."""
    ids = _ids(20)
    tb, top, _ = commit_consent_table(ids, issuer="irb", purpose="p", version=1)
    ds, dop = _dataset(ids[:7] + _ids(1))
    polys = dop.polys.copy()
    polys[-1, 7] = 0
    c, _ = commit_polynomials(polys, dop.seed)
    rec = DatasetRecord.from_json(dict(ds.doc, commitment=c.to_bytes().hex()))
    proof = prove_consent(rec, DatasetOpening(polys, dop.seed), tb, top, unique_ids=True,
                          multiplicities=_m(polys, top, tb))
    with pytest.raises(ProofRejected):
        verify_consent(proof, dataset=rec, table=tb, unique_ids=True)


def test_generic_verify_accepts_unique_ids_over_a_table_with_duplicate_rows():
    """A consent-table record whose distinctness proof is invalid (row 4 = row 3):
    verify_proof / verify_consent never check it, so two records sharing one
    ID pass with unique_ids = True (each copy of the row counted once)."""
    ids = sorted(_ids(10))
    tb0, top0, _ = commit_consent_table(ids, issuer="irb", purpose="p", version=1)
    hi, lo = top0.hi.copy(), top0.lo.copy()
    hi[4], lo[4] = hi[3], lo[3]
    beta, d = np.zeros_like(hi), np.zeros_like(hi)
    tb, top, tproof = commit_sorted(hi, lo, 10, issuer="irb", purpose="p", version=1, supersedes=None,
                                    params=default_params(), beta=beta, d=d)
    ds, dop = _dataset([ids[0], ids[3], ids[3]])
    m = np.zeros(hi.shape[0], dtype=U64)
    m[0], m[3], m[4] = 1, 1, 1
    proof = prove_consent(ds, dop, tb, top, unique_ids=True, multiplicities=m)
    generic = verify_proof(proof, circuit_bin=b"", weight_commitment=b"")
    # the generic path checks the proof against the table as committed and
    # says it did not check the table's distinctness
    assert not generic.valid or generic.output["table_rows_distinct"] != "checked"
    with pytest.raises(ProofRejected):
        verify_consent(proof, dataset=ds, table=tb, unique_ids=True, table_distinctness=tproof)

"""Consent prover (the relation is written at the top of `verifier.py`).

Not zero-knowledge yet (see the package docstring): use on synthetic or
public data only until issue 15 lands."""

from __future__ import annotations

import numpy as np

from zkaudit import pcs
from zkaudit.errors import ZkauditError
from zkaudit.field.scalar import Fp2
from zkaudit.data.consent_table import ConsentOpening
from zkaudit.data.dataset import DatasetOpening
from zkaudit.data.records import ConsentTableRecord, DatasetRecord
from zkaudit.lookup import committed_table_prover
from zkaudit.lookup.committed_table import CommittedTableInstance
from zkaudit.lookup.committed_table_prover import RowNotInTable
from zkaudit.poly.mle import eq_table
from zkaudit.statements.common.statement import bind
from zkaudit.statements.consent.proof import ConsentProof
from zkaudit.statements.consent.verifier import (
    LABEL_UNIQUE_POINT,
    build_statement,
    uniqueness_spec,
)
from zkaudit.statements.consent.proof import STATEMENT
from zkaudit.statements.envelope import encode_envelope
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.transcript import Transcript


class NotConsented(ZkauditError):
    """An honest prover cannot prove consent: a valid record's ID is not in the
    table, or (with unique_ids) two valid records share an ID."""


def prove_consent(dataset: DatasetRecord, dataset_opening: DatasetOpening, table: ConsentTableRecord,
                  table_opening: ConsentOpening, *, unique_ids: bool,
                  multiplicities: np.ndarray | None = None, dataset_data=None, table_data=None) -> bytes:
    """The proof file's bytes. `multiplicities` overrides the honest counts
    (attack tests only); `dataset_data`/`table_data` reuse PCS prover data."""
    hi_i, lo_i = dataset.schema.id_polynomials()
    polys = dataset_opening.polys
    ids, valid = [polys[hi_i], polys[lo_i]], polys[-1]
    tcols = [table_opening.hi, table_opening.lo]
    if multiplicities is None:
        try:
            m = committed_table_prover.table_multiplicities(ids, valid, tcols, table.num_rows)
        except RowNotInTable as exc:
            raise NotConsented(f"dataset row {exc.row + 1}: its ID is not in consent table version "
                               f"{table.doc['version']} ({table.doc['purpose']})") from None
        if unique_ids and m.size and int(m.max()) > 1:
            j = int(np.argmax(m))
            raise NotConsented(f"{int(m[j])} valid records share one consented ID; drop --unique-ids or fix the data")
    else:
        m = multiplicities
    ddata = dataset_data or dataset_opening.prover_data(dataset)
    tdata = table_data or table_opening.prover_data(table)
    params = dataset.params
    mc, mdata = pcs.commit([m], params)
    mc_bytes = mc.to_bytes()

    statement = build_statement(dataset, table, unique_ids)
    transcript = Transcript()
    bind(transcript, statement, commitments={"dataset": dataset.commitment.to_bytes(),
                                             "table": table.commitment.to_bytes(), "multiplicities": mc_bytes})
    inst = CommittedTableInstance(2, dataset.num_vars, table.num_vars, table.num_rows)
    lookup, claims = committed_table_prover.prove(inst, ids, valid, tcols, m, transcript)
    m_claims = [pcs.Claim(0, claims.multiplicities.point, claims.multiplicities.value)]
    uniq = None
    if unique_ids:
        r = transcript.challenge_exts(LABEL_UNIQUE_POINT, table.num_vars)
        uniq, uc, _ = sumcheck_prover.prove([eq_table(r), m], uniqueness_spec(), transcript, claimed_sum=Fp2(0))
        m_claims.append(pcs.Claim(0, uc.point, uc.values[1]))
    d_claims = [pcs.Claim(hi_i, claims.lookup_columns[0].point, claims.lookup_columns[0].value),
                pcs.Claim(lo_i, claims.lookup_columns[1].point, claims.lookup_columns[1].value),
                pcs.Claim(polys.shape[0] - 1, claims.numerators.point, claims.numerators.value)]
    t_claims = [pcs.Claim(c, cl.point, cl.value) for c, cl in enumerate(claims.table_columns)]
    d_open = pcs.open(ddata, d_claims, transcript)
    t_open = pcs.open(tdata, t_claims, transcript)
    m_open = pcs.open(mdata, m_claims, transcript)
    body = ConsentProof(statement, mc_bytes, lookup, uniq, d_open.to_bytes(), t_open.to_bytes(), m_open.to_bytes())
    return encode_envelope(STATEMENT, body.to_bytes())

"""Review attacks on the consent statement (statements/consent, LogUp against
a committed table, sorted distinctness). A cheating prover that is not the
custodian nor the IRB: it holds the openings, changes one witness value and
keeps the rest honest; the unmodified verifier must refuse each proof."""

from __future__ import annotations

import dataclasses
import secrets

import numpy as np
import pyarrow as pa
import pytest

from zkaudit.data.consent_table import commit_consent_table
from zkaudit.data.dataset import DatasetOpening, commit_dataset
from zkaudit.errors import ProofRejected
from zkaudit.field.constants import P
from zkaudit.lookup.committed_table_prover import table_multiplicities
from zkaudit.errors import MalformedProof
from zkaudit.pcs.errors import PcsRejected
from zkaudit.statements.consent.proof import ConsentProof
from zkaudit.statements.consent.prover import prove_consent
from zkaudit.statements.consent.verifier import verify_consent
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.verify import verify_proof

U64 = np.uint64
SCHEMA = {"columns": [{"name": "patient", "type": "id"}, {"name": "encounter", "type": "id"}],
          "id_column": "patient", "population": "synthetic"}


def _ids(n):
    return [secrets.token_hex(16) for _ in range(n)]


def _dataset(patients):
    return commit_dataset({"patient": pa.array(patients), "encounter": pa.array(_ids(len(patients)))}, SCHEMA)


@pytest.fixture(scope="module")
def table():
    ids = _ids(40)  # 64 rows: 24 padding rows
    tb, top, _ = commit_consent_table(ids, issuer="irb-r", purpose="train:review", version=1)
    return ids, tb, top


def _refused(proof, ds, tb, uniq):
    with pytest.raises(ProofRejected):
        verify_consent(proof, dataset=ds, table=tb, unique_ids=uniq)
    assert not verify_proof(proof, circuit_bin=b"", weight_commitment=b"").valid


def _m(polys, top, tb):
    return table_multiplicities([polys[0], polys[1]], polys[-1], [top.hi, top.lo], tb.num_rows)


def test_prover_cannot_clear_valid_on_a_stranger(table):
    """The stranger's row keeps valid = 1 in the custodian's commitment; a
    prover that runs the LogUp with valid = 0 there is refused (the valid
    column's claim is now checked against the public num_rows indicator
    before the opening, which also refuses it)."""
    ids, tb, top = table
    ds, dop = _dataset(ids[:7] + _ids(1))
    fake = dop.polys.copy()
    fake[-1, 7] = 0
    proof = prove_consent(ds, DatasetOpening(fake, dop.seed), tb, top, unique_ids=False, multiplicities=_m(fake, top, tb),
                          dataset_data=dop.prover_data(ds))
    with pytest.raises((PcsRejected, MalformedProof)):
        verify_consent(proof, dataset=ds, table=tb)


@pytest.mark.parametrize("uniq", [False, True])
def test_stranger_counted_on_a_padding_row_of_the_table(table, uniq):
    """Padding rows carry tag 0; even a padding row whose (0, 0) value a
    stranger's limbs are set to cannot absorb the stranger's 1/(alpha - F)."""
    ids, tb, top = table
    ds, dop = _dataset(ids[:7] + _ids(1))
    fake = dop.polys.copy()
    fake[-1, 7] = 0
    m = _m(fake, top, tb)
    m[tb.num_rows + 3] = U64(1)
    _refused(prove_consent(ds, dop, tb, top, unique_ids=uniq, multiplicities=m), ds, tb, uniq)
    # the stranger's limbs as zero (the padding rows' value): still tag 1 vs tag 0
    zeros = dop.polys.copy()
    zeros[0, 7] = zeros[1, 7] = 0
    m = _m(fake, top, tb)
    m[tb.num_rows] = U64(1)
    proof = prove_consent(ds, DatasetOpening(zeros, dop.seed), tb, top, unique_ids=uniq, multiplicities=m,
                          dataset_data=dop.prover_data(ds))
    _refused(proof, ds, tb, uniq)


def test_multiplicities_wrapping_mod_p(table):
    """Counts made to cancel modulo p: a stranger's missing 1 spread as
    p - 1 / +1 over rows, or a duplicate's 2 written as 1 + (p + 1)."""
    ids, tb, top = table
    ds, dop = _dataset(ids[:6] + _ids(1))
    fake = dop.polys.copy()
    fake[-1, 6] = 0
    for uniq in (False, True):
        m = _m(fake, top, tb)
        m[10], m[11] = U64(P - 1), U64(1)
        _refused(prove_consent(ds, dop, tb, top, unique_ids=uniq, multiplicities=m), ds, tb, uniq)
        m = _m(fake, top, tb)
        m[tb.num_rows], m[tb.num_rows + 1] = U64(P - 1), U64(2)
        _refused(prove_consent(ds, dop, tb, top, unique_ids=uniq, multiplicities=m), ds, tb, uniq)
    # a duplicate under unique_ids: row j used twice; m_j = 1 and the second use
    # charged to padding (p - 1 there, +1 to another) fails one of the checks
    ds2, dop2 = _dataset(ids[:5] + [ids[2]])
    m = _m(dop2.polys, top, tb)
    assert int(m[np.flatnonzero(m == 2)[0]]) == 2
    j = int(np.flatnonzero(m == 2)[0])
    m[j] = U64(1)
    m[tb.num_rows] = U64(1)
    _refused(prove_consent(ds2, dop2, tb, top, unique_ids=True, multiplicities=m), ds2, tb, True)


def test_statement_flag_and_records_bound_before_challenges(table):
    """A unique_ids=False proof over duplicated IDs relabelled as unique_ids=True
    (the honest zero-check of another run spliced in), and a proof whose
    embedded table record names a larger num_rows (more rows tagged real)."""
    ids, tb, top = table
    ds, dop = _dataset(ids[:5] + [ids[2]])
    weak = ConsentProof.from_bytes(parse_envelope(prove_consent(ds, dop, tb, top, unique_ids=False)).body)
    ds_ok, dop_ok = _dataset(ids[:6])
    strong = ConsentProof.from_bytes(parse_envelope(prove_consent(ds_ok, dop_ok, tb, top, unique_ids=True)).body)
    st = dict(weak.statement, unique_ids=True)
    forged = dataclasses.replace(weak, statement=st, uniqueness=strong.uniqueness)
    _refused(encode_envelope("consent", forged.to_bytes()), ds, tb, True)
    doc = dict(weak.statement["consent_table"], num_rows=tb.num_rows + 1)
    forged = ConsentProof(dict(weak.statement, consent_table=doc), *list(weak.__dict__.values())[1:])
    with pytest.raises(ProofRejected):
        verify_consent(encode_envelope("consent", forged.to_bytes()))


def test_id_column_limbs_of_another_polynomial_at_the_claimed_indices(table):
    """The encounter column (all consented) looked up while the claims name
    the patient polynomials: the verifier takes the indices from the schema."""
    ids, tb, top = table
    ds = commit_dataset({"patient": pa.array(_ids(4)), "encounter": pa.array(ids[:4])}, SCHEMA)
    ds, dop = ds
    fake = dop.polys.copy()
    fake[[0, 1]] = dop.polys[[2, 3]]
    proof = prove_consent(ds, DatasetOpening(fake, dop.seed), tb, top, unique_ids=True, multiplicities=_m(fake, top, tb),
                          dataset_data=dop.prover_data(ds))
    _refused(proof, ds, tb, True)

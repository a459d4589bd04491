"""Consent verifier.

Relation R_consent (design/statements.md §3.7).
  Public:  the dataset record D (c_D, schema with h_schema naming the ID
           column, N rows padded to 2^n, `valid` polynomial), the consent
           table record C (c_C, version v, issuer, purpose, n_C rows padded
           to 2^k), the flag unique_ids.
  Witness: the ID columns (id_hi, id_lo) and `valid` of D, the rows of C,
           multiplicities m in F^(2^k), committed as c_m.
  Holds iff for all i < 2^n with valid_i = 1: (id_hi_i, id_lo_i) = C_j for
           some j < n_C, and, if unique_ids, every m_j in {0, 1}, where
           m_j = #{i : valid_i = 1, id_i = C_j}.

Proof.  statement (both records, the flag) bound with c_D, c_C, c_m;
  LogUp with numerators `valid` against the committed table
  (`lookup/committed_table.py`): sum_i valid_i/(alpha - F_i) = sum_j m_j/(alpha - T_j),
  which, with C's rows distinct (its distinctness proof, checked at
  publication) and valid in {0, 1} (set by the custodian's commit), makes
  m_j exactly the count above;
  with unique_ids, the zero-check sum_x eq(r, x) (m(x) - m(x)^2) = 0 (r <- K^k);
  openings: c_D at the LogUp point (id_hi, id_lo, valid), c_C (both limb
  columns), c_m (the LogUp point, and the zero-check point).

What it does not show: that record i's ID is record i's patient (that is
the custodian's signature on c_D), nor anything about consent after
version v. Not zero-knowledge yet (package docstring).
"""

from __future__ import annotations

from zkaudit import pcs
from zkaudit.data.errors import DataError
from zkaudit.data.records import ConsentTableRecord, DatasetRecord
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field.scalar import Fp2
from zkaudit.lookup import committed_table_verifier
from zkaudit.lookup.committed_table import CommittedTableInstance
from zkaudit.lookup.errors import GkrLayerMismatch
from zkaudit.pcs.verifier import read_opening
from zkaudit.poly.mle import eq_eval, prefix_indicator
from zkaudit.statements.common.statement import bind
from zkaudit.statements.consent.proof import STATEMENT, STATEMENT_TYPE, WHERE, ConsentProof
from zkaudit.statements.envelope import parse_envelope
from zkaudit.statements.verify import Verified, register_verifier
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.transcript import Transcript

PROTOCOL_VERSION = 1
LABEL_UNIQUE_POINT = b"consent/unique-ids-point"


class ConsentRejected(ProofRejected):
    """Base of the consent statement's own rejections."""


class StatementMismatch(ConsentRejected):
    """The proof is about another dataset, table, purpose or flag than the one asked about."""


def uniqueness_spec() -> SumOfProducts:
    """eq(r, x) m(x) - eq(r, x) m(x)^2: tables [eq, m]."""
    return SumOfProducts.of(2, [(1, (0, 1)), (-1, (0, 1, 1))])


def build_statement(dataset: DatasetRecord, table: ConsentTableRecord, unique_ids: bool) -> dict:
    return {"type": STATEMENT_TYPE, "protocol_version": PROTOCOL_VERSION, "dataset": dataset.doc,
            "consent_table": table.doc, "unique_ids": bool(unique_ids), "zero_knowledge": False}


def _records(statement: dict) -> tuple[DatasetRecord, ConsentTableRecord, bool]:
    keys = {"type", "protocol_version", "dataset", "consent_table", "unique_ids", "zero_knowledge"}
    if set(statement) != keys:
        raise MalformedProof("consent statement has the wrong keys", where=WHERE, expected=sorted(keys),
                             got=sorted(statement))
    if statement["type"] != STATEMENT_TYPE or statement["protocol_version"] != PROTOCOL_VERSION:
        raise MalformedProof("unsupported consent statement", where=WHERE, expected=(STATEMENT_TYPE, PROTOCOL_VERSION),
                             got=(statement["type"], statement["protocol_version"]))
    if not isinstance(statement["unique_ids"], bool) or statement["zero_knowledge"] is not False:
        raise MalformedProof("consent statement flags are malformed", where=WHERE)
    try:
        return (DatasetRecord.from_json(statement["dataset"]), ConsentTableRecord.from_json(statement["consent_table"]),
                statement["unique_ids"])
    except DataError as exc:
        raise MalformedProof(f"consent statement: {exc}", where=WHERE) from None


NOT_CHECKED = ("not checked here: check the table's distinctness proof (zkaudit verify-consent --consent CT, "
               "or the registry, which checks it at publication)")


def summary(dataset: DatasetRecord, table: ConsentTableRecord, unique_ids: bool, *,
            table_distinct: bool = False) -> dict:
    """What a verified proof establishes, in the words a regulator reads.
    "each ID used at most once" means each *table row*; it is about patients
    only when the table's rows are distinct, which its own proof shows."""
    return {"statement": STATEMENT_TYPE, "dataset": dataset.digest.hex(), "dataset_rows": dataset.num_rows,
            "schema_digest": dataset.doc["schema_digest"], "id_column": dataset.schema.id_column,
            "consent_table": table.digest.hex(), "table_issuer": table.doc["issuer"],
            "table_version": table.doc["version"], "purpose": table.doc["purpose"], "table_rows": table.num_rows,
            "table_rows_distinct": "checked" if table_distinct else NOT_CHECKED,
            "unique_ids": unique_ids, "zero_knowledge": False}


def verify_consent_body(body: bytes, *, dataset: DatasetRecord | None = None,
                        table: ConsentTableRecord | None = None, unique_ids: bool | None = None,
                        table_distinctness: bytes | None = None) -> Verified:
    """Check a consent proof body; with `dataset`/`table`/`unique_ids` the proof
    must be about exactly those; with `table_distinctness` (the table's
    distinctness proof) the table's rows are checked distinct too. Raises a
    `ProofRejected` subclass."""
    proof = ConsentProof.from_bytes(body)
    ds, tb, uniq = _records(proof.statement)
    if dataset is not None and ds.digest != dataset.digest:
        field = "schema (ID column)" if ds.doc["schema_digest"] != dataset.doc["schema_digest"] else "dataset"
        raise StatementMismatch(f"the proof is about another {field}", where=WHERE, expected=dataset.digest.hex(),
                                got=ds.digest.hex())
    if table is not None and tb.digest != table.digest:
        raise StatementMismatch("the proof is about another consent table or version", where=WHERE,
                                expected=(table.doc["version"], table.digest.hex()),
                                got=(tb.doc["version"], tb.digest.hex()))
    if unique_ids is not None and uniq != unique_ids:
        raise StatementMismatch("the proof's unique_ids flag differs", where=WHERE, expected=unique_ids, got=uniq)
    if table_distinctness is not None:  # tb is the caller's table here, if one was given
        from zkaudit.data.consent_table_verifier import verify_consent_table

        verify_consent_table(tb, table_distinctness)
    if (proof.uniqueness is None) == uniq:
        raise MalformedProof("uniqueness zero-check present iff unique_ids", where=WHERE, expected=uniq,
                             got=proof.uniqueness is not None)
    try:
        mc = pcs.Commitment.from_bytes(proof.multiplicity_commitment)
    except pcs.PcsRejected as exc:
        raise MalformedProof(f"multiplicity commitment: {exc}", where=WHERE) from None
    if mc.num_vars != (tb.num_vars,):
        raise MalformedProof("multiplicity commitment has the wrong shape", where=WHERE, expected=(tb.num_vars,),
                             got=mc.num_vars)
    params = ds.params
    d_open = read_opening(proof.dataset_opening, ds.commitment, params)
    t_open = read_opening(proof.table_opening, tb.commitment, tb.params)
    m_open = read_opening(proof.multiplicity_opening, mc, params)

    transcript = Transcript()
    bind(transcript, proof.statement, commitments={"dataset": ds.commitment.to_bytes(),
                                                   "table": tb.commitment.to_bytes(),
                                                   "multiplicities": proof.multiplicity_commitment})
    inst = CommittedTableInstance(2, ds.num_vars, tb.num_vars, tb.num_rows)
    claims = committed_table_verifier.verify(inst, proof.lookup, transcript)
    # The LogUp numerator is the dataset's `valid` column; it must be 1 on
    # exactly the record's num_rows real rows and 0 on the padding (the MLE of
    # that prefix indicator, which the verifier computes): otherwise a
    # custodian could commit valid = 0 on a non-consented record and still
    # publish num_rows records.
    expected_valid = prefix_indicator(ds.num_rows, claims.numerators.point)
    if claims.numerators.value != expected_valid:
        raise MalformedProof("the dataset's valid column is not 1 on exactly its num_rows rows", where=WHERE,
                             expected=expected_valid, got=claims.numerators.value)
    m_claims = [pcs.Claim(0, claims.multiplicities.point, claims.multiplicities.value)]
    if uniq:
        r = transcript.challenge_exts(LABEL_UNIQUE_POINT, tb.num_vars)  # zero-check: (k + 3 k) / p^2 with the rounds
        uc = sumcheck_verifier.verify(proof.uniqueness, Fp2(0), tb.num_vars, uniqueness_spec(), transcript,
                                      where=f"{WHERE}/unique-ids")
        if uc.values[0] != eq_eval(r, uc.point):
            raise GkrLayerMismatch("uniqueness zero-check eq value is not eq(r, s)", where=f"{WHERE}/unique-ids")
        m_claims.append(pcs.Claim(0, uc.point, uc.values[1]))
    hi_i, lo_i = ds.schema.id_polynomials()  # from the schema, never from the proof
    valid_i = len(ds.doc["polynomials"]) - 1
    d_claims = [pcs.Claim(hi_i, claims.lookup_columns[0].point, claims.lookup_columns[0].value),
                pcs.Claim(lo_i, claims.lookup_columns[1].point, claims.lookup_columns[1].value),
                pcs.Claim(valid_i, claims.numerators.point, claims.numerators.value)]
    t_claims = [pcs.Claim(c, cl.point, cl.value) for c, cl in enumerate(claims.table_columns)]
    pcs.verify(ds.commitment, d_claims, d_open, transcript, params)
    pcs.verify(tb.commitment, t_claims, t_open, transcript, tb.params)
    pcs.verify(mc, m_claims, m_open, transcript, params)
    return Verified(summary(ds, tb, uniq, table_distinct=table_distinctness is not None),
                    soundness_bits=transcript.soundness_bits())


def verify_consent(proof_bytes: bytes, *, dataset: DatasetRecord | None = None,
                   table: ConsentTableRecord | None = None, unique_ids: bool | None = None,
                   table_distinctness: bytes | None = None) -> Verified:
    """Check a whole consent proof file (envelope included)."""
    env = parse_envelope(proof_bytes)
    if env.statement != STATEMENT:
        raise MalformedProof("not a consent proof", where="envelope.statement", expected=STATEMENT, got=env.statement)
    return verify_consent_body(env.body, dataset=dataset, table=table, unique_ids=unique_ids,
                               table_distinctness=table_distinctness)


@register_verifier(STATEMENT)
def verify_registered(body: bytes, *, circuit_bin: bytes | None = None, weight_commitment: bytes | None = None,
                      **_expected) -> Verified:
    """Entry point for `verify_proof`: a consent proof needs no circuit or
    weights; it is checked against the records it embeds, whose digests the
    output names (compare them with the signed records)."""
    return verify_consent_body(body)


__all__ = ["ConsentRejected", "StatementMismatch", "verify_consent", "verify_consent_body"]

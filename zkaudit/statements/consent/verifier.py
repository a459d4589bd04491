"""Consent verifier.

Relation R_consent (design/statements.md §3.7).
  Public:  the dataset record D (c_D: its consent commitment number
           `dataset_use`, see below; schema with h_schema naming the ID
           column, N rows padded to 2^n), the consent table record C (c_C,
           version v, issuer, purpose, n_C rows padded to 2^k), the flag
           unique_ids.
  Witness: the ID columns (id_hi, id_lo) of D, the rows of C,
           multiplicities m in F^(2^k), committed as c_m.
  Holds iff for all i < N: (id_hi_i, id_lo_i) = C_j for some j < n_C, and,
           if unique_ids, every m_j in {0, 1}, where
           m_j = #{i < N : id_i = C_j}.

Proof.  statement (both records, the flag, zero_knowledge) bound with c_D,
  c_C, c_m; LogUp with numerators valid = ind_[0, N) against the committed
  table (`lookup/committed_table.py`):
  sum_i valid_i/(alpha - F_i) = sum_j m_j/(alpha - T_j), which, with C's
  rows distinct (its distinctness proof, checked at publication), makes m_j
  exactly the count above. The numerators' claim is checked against the
  verifier's own ind~_[0, N) (the records are rows 0..N-1 by definition; a
  committed `valid` column is not trusted for it).
  With unique_ids, the zero-check sum_x eq(r, x) (m(x) - m(x)^2) = 0 (r <- K^k).
  Openings: c_D at the LogUp point (id_hi, id_lo), c_C (both limb columns),
  c_m (the LogUp point, and the zero-check point).

Zero knowledge (the default; `zero_knowledge` in the statement), with the
machinery of zero-knowledge inference (`statements/inference/zk.py`):
  * c_m is the hiding commitment of m and the proof's bank of randomness
    (`sumcheck.zk`), committed before the statement is bound;
  * the LogUp runs zero-knowledge (padded roots, root tree, masked GKR
    layers, padded leaf values), as does the zero-check: every claim it
    leaves is `Hidden`, its public part uniform;
  * claims on m are discharged on c_m by `LinearClaim`s (m~(z) minus its
    pads = public part); claims on id_hi, id_lo are first re-padded from the
    dataset's own bank (one zero-knowledge sum-check per column,
    sum_x T(x) eq(r_f, x), whose T takes its pad from the dataset bank) and
    then discharged on c_D by a `LinearClaim` (inference's committed input);
  * the consent table is a plain commitment (`data/consent_table.py` says
    why): its two evaluations at the table point are sent in the clear and a
    deferred check ties each to its Hidden claim;
  * every deferred check folds into one claim on the bank, opened with c_m.
  What a zero-knowledge proof reveals: the records' digests and N, the
  table's evaluations at one random point (about the pseudonym list, not
  the dataset), uniform padded values, and the hiding openings.
  The plain protocol (`zero_knowledge: false`, for synthetic or public data
  only) reveals id_hi~, id_lo~ at r_f, m~ at r_t (and at the zero-check
  point), and the plain commitment's columns of m.

Which commitment (`dataset_use`).  A hiding commitment hides its data
  through one opening (`data/dataset.py`), so a dataset record holds one
  consent commitment per consent proof: use 0 is the record's `commitment`,
  use i >= 1 its `consent_commitments[i - 1]`. The statement names the use
  (key `dataset_use`, written only when it is not 0, so a use-0 statement is
  the one written before uses existed); the verifier takes c_D from the
  record by that number, rejecting a use the record does not hold, binds it
  and checks every opening against it. The summary names the use and the
  SHA-256 of c_D (`dataset_commitment`): the registry refuses a second
  published proof opening the same commitment.

What it does not show: that record i's ID is record i's patient (that is
the custodian's signature on c_D), nor anything about consent after
version v.
"""

from __future__ import annotations

from zkaudit import pcs
from zkaudit.data.errors import DataError
from zkaudit.data.records import ConsentTableRecord, DatasetRecord, hiding_params
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field.scalar import Fp2
from zkaudit.lookup import committed_table_verifier
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.committed_table import CommittedTableInstance
from zkaudit.lookup.errors import GkrLayerMismatch
from zkaudit.pcs.hiding_claims import LinearClaim
from zkaudit.pcs.hiding_verifier import read_hiding_opening
from zkaudit.pcs.verifier import read_opening
from zkaudit.poly.mle import eq_eval, prefix_indicator
from zkaudit.statements.common.statement import bind, require_protocol
from zkaudit.statements.consent.proof import STATEMENT, STATEMENT_TYPE, WHERE, ConsentProof
from zkaudit.statements.envelope import parse_envelope
from zkaudit.statements.inference.zk import ADVICE_BANK, REPAD, bank_elements, bank_linear_claim, linear_claim
from zkaudit.statements.verify import Verified, register_verifier
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.sumcheck.errors import FinalEvaluationMismatch
from zkaudit.sumcheck.zk import ZkSession, bank_claim
from zkaudit.transcript import Transcript

PROTOCOL_VERSION = 3  # 3: the hiding openings batch their claims one pair per row point
LABEL_UNIQUE_POINT = b"consent/unique-ids-point"
LABEL_TABLE_VALUES = b"consent/zk/table-values"
DATASET_BANK = "dataset"  # the dataset commitment's pads (`data/dataset.py`)
MAX_BANK_VARS = 24  # a proof's bank far beyond any consent proof's need is malformed, not slow


class ConsentRejected(ProofRejected):
    """Base of the consent statement's own rejections."""


class StatementMismatch(ConsentRejected):
    """The proof is about another dataset, table, purpose or flag than the one asked about."""


def uniqueness_spec() -> SumOfProducts:
    """eq(r, x) m(x) - eq(r, x) m(x)^2: tables [eq, m]."""
    return SumOfProducts.of(2, [(1, (0, 1)), (-1, (0, 1, 1))])


class UnknownDatasetUse(ConsentRejected):
    """The proof names a consent commitment the dataset record does not hold."""


def build_statement(dataset: DatasetRecord, table: ConsentTableRecord, unique_ids: bool,
                    zero_knowledge: bool, dataset_use: int = 0) -> dict:
    st = {"type": STATEMENT_TYPE, "protocol_version": PROTOCOL_VERSION, "dataset": dataset.doc,
          "consent_table": table.doc, "unique_ids": bool(unique_ids), "zero_knowledge": bool(zero_knowledge)}
    if dataset_use:
        st["dataset_use"] = int(dataset_use)  # absent for use 0: one encoding per statement
    return st


def _records(statement: dict) -> tuple[DatasetRecord, ConsentTableRecord, bool, bool, int]:
    require_protocol(statement, STATEMENT_TYPE, PROTOCOL_VERSION, what="consent", where=WHERE,
                     command="zkaudit prove-consent")
    keys = {"type", "protocol_version", "dataset", "consent_table", "unique_ids", "zero_knowledge"}
    use = statement.get("dataset_use", 0)
    if "dataset_use" in statement:
        keys.add("dataset_use")
        if isinstance(use, bool) or not isinstance(use, int) or use < 1:
            raise MalformedProof("consent statement: dataset_use is an integer >= 1 (use 0 is written as no key)",
                                 where=WHERE, got=use)
    if set(statement) != keys:
        raise MalformedProof("consent statement has the wrong keys", where=WHERE, expected=sorted(keys),
                             got=sorted(statement))
    if not isinstance(statement["unique_ids"], bool) or not isinstance(statement["zero_knowledge"], bool):
        raise MalformedProof("consent statement flags are malformed", where=WHERE)
    try:
        ds = DatasetRecord.from_json(statement["dataset"])
        tb = ConsentTableRecord.from_json(statement["consent_table"])
    except DataError as exc:
        raise MalformedProof(f"consent statement: {exc}", where=WHERE) from None
    if use >= ds.consent_uses:
        raise UnknownDatasetUse("the proof names a consent commitment the dataset record does not hold",
                                where=WHERE, expected=f"0..{ds.consent_uses - 1}", got=use)
    return ds, tb, statement["unique_ids"], statement["zero_knowledge"], use


NOT_CHECKED = ("not checked here: check the table's distinctness proof (zkaudit verify-consent --consent CT, "
               "or the registry, which checks it at publication)")


def summary(dataset: DatasetRecord, table: ConsentTableRecord, unique_ids: bool, *,
            table_distinct: bool = False, zero_knowledge: bool, dataset_use: int = 0) -> dict:
    """What a verified proof establishes, in the words a regulator reads.
    "each ID used at most once" means each *table row*; it is about patients
    only when the table's rows are distinct, which its own proof shows.
    `dataset_commitment` is the SHA-256 of the consent commitment opened."""
    import hashlib

    opened = hashlib.sha256(dataset.consent_commitment(dataset_use).to_bytes()).hexdigest()
    return {"statement": STATEMENT_TYPE, "dataset": dataset.digest.hex(), "dataset_rows": dataset.num_rows,
            "dataset_use": dataset_use, "dataset_uses": dataset.consent_uses, "dataset_commitment": opened,
            "schema_digest": dataset.doc["schema_digest"], "id_column": dataset.schema.id_column,
            "consent_table": table.digest.hex(), "table_issuer": table.doc["issuer"],
            "table_version": table.doc["version"], "purpose": table.doc["purpose"], "table_rows": table.num_rows,
            "table_rows_distinct": "checked" if table_distinct else NOT_CHECKED,
            "unique_ids": unique_ids, "zero_knowledge": zero_knowledge}


def privacy(zero_knowledge: bool) -> dict:
    """What the proof hides and reveals (`Verified.privacy`)."""
    if not zero_knowledge:
        return {"zero_knowledge": False,
                "revealed": ["evaluations of the dataset's ID columns and of the multiplicities (which table rows "
                             "the dataset uses) at random points", "columns of the multiplicities' commitment"]}
    return {"zero_knowledge": True,
            "hidden": ["the dataset's ID columns", "the multiplicities (which consented IDs the dataset uses)"],
            "revealed": ["the records' digests and row counts", "two evaluations of the consent table's limb "
                         "columns at a random point (the table commitment is plain)"],
            "note": "each of the dataset record's consent commitments hides its data through one opening: this "
                    "proof opens the one it names (dataset_use), and the prover's ledger and the registry refuse a "
                    "second opening of it"}


def _commitment(data: bytes, what: str) -> pcs.Commitment:
    try:
        return pcs.Commitment.from_bytes(data)
    except pcs.PcsRejected as exc:
        raise MalformedProof(f"{what} commitment: {exc}", where=WHERE) from None


def verify_consent_body(body: bytes, *, dataset: DatasetRecord | None = None,
                        table: ConsentTableRecord | None = None, unique_ids: bool | None = None,
                        table_distinctness: bytes | None = None) -> Verified:
    """Check a consent proof body; with `dataset`/`table`/`unique_ids` the proof
    must be about exactly those; with `table_distinctness` (the table's
    distinctness proof) the table's rows are checked distinct too. Raises a
    `ProofRejected` subclass."""
    proof = ConsentProof.from_bytes(body)
    ds, tb, uniq, zk, use = _records(proof.statement)
    c_d = ds.consent_commitment(use)
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
    if bool(proof.repad) != zk or len(proof.table_values) != (2 if zk else 0):
        raise MalformedProof("re-padding sum-checks and table values present iff zero-knowledge", where=WHERE,
                             expected=zk, got=(len(proof.repad), len(proof.table_values)))
    mc = _commitment(proof.multiplicity_commitment, "multiplicity")
    session = None
    if zk:
        if len(mc.num_vars) != 2 or mc.num_vars[0] != tb.num_vars or not 1 <= mc.num_vars[1] <= MAX_BANK_VARS:
            raise MalformedProof("the multiplicity commitment is not m and a bank", where=WHERE,
                                 expected=(tb.num_vars, "bank"), got=mc.num_vars)
        m_params = hiding_params()
        session = ZkSession({ADVICE_BANK: bank_elements(mc.num_vars[1]),
                             DATASET_BANK: len(ds.doc["polynomials"])})
        m_open = read_hiding_opening(proof.multiplicity_opening, mc, m_params)
    else:
        if mc.num_vars != (tb.num_vars,):
            raise MalformedProof("multiplicity commitment has the wrong shape", where=WHERE,
                                 expected=(tb.num_vars,), got=mc.num_vars)
        m_params = tb.params
        m_open = read_opening(proof.multiplicity_opening, mc, m_params)
    d_open = read_hiding_opening(proof.dataset_opening, c_d, ds.params)
    t_open = read_opening(proof.table_opening, tb.commitment, tb.params)

    transcript = Transcript()
    bind(transcript, proof.statement, commitments={"dataset": c_d.to_bytes(),
                                                   "table": tb.commitment.to_bytes(),
                                                   "multiplicities": proof.multiplicity_commitment})
    transcript.zk = session
    inst = CommittedTableInstance(2, ds.num_vars, tb.num_vars, tb.num_rows)
    claims = committed_table_verifier.verify(inst, proof.lookup, transcript)
    # The LogUp numerators must be 1 on exactly the record's num_rows rows
    # and 0 on the padding: the MLE of that prefix indicator, which the
    # verifier computes (deferred when the claim is Hidden).
    check_numerators(transcript, ds, claims.numerators)
    m_claims = [claims.multiplicities]
    if uniq:
        r = transcript.challenge_exts(LABEL_UNIQUE_POINT, tb.num_vars)  # zero-check: (k + 3 k) / p^2 with the rounds
        uc = sumcheck_verifier.verify(proof.uniqueness, Fp2(0), tb.num_vars, uniqueness_spec(), transcript,
                                      where=f"{WHERE}/unique-ids", public=(0,))
        if uc.values[0] != eq_eval(r, uc.point):
            raise GkrLayerMismatch("uniqueness zero-check eq value is not eq(r, s)", where=f"{WHERE}/unique-ids")
        m_claims.append(PointClaim(uc.point, uc.values[1]))
    hi_i, lo_i = ds.schema.id_polynomials()  # from the schema, never from the proof
    if zk:
        d_claims, t_claims, m_claims = _discharge_zk(proof, ds, (hi_i, lo_i), claims, m_claims, transcript)
        transcript.zk = None  # the openings' own sum-checks are masked by the hiding commitments themselves
    else:
        d_claims = [exact_claim(hi_i, claims.lookup_columns[0]), exact_claim(lo_i, claims.lookup_columns[1])]
        t_claims = [pcs.Claim(c, cl.point, cl.value) for c, cl in enumerate(claims.table_columns)]
        m_claims = [pcs.Claim(0, c.point, c.value) for c in m_claims]
    pcs.verify(c_d, d_claims, d_open, transcript, ds.params)
    pcs.verify(tb.commitment, t_claims, t_open, transcript, tb.params)
    pcs.verify(mc, m_claims, m_open, transcript, m_params)
    return Verified(summary(ds, tb, uniq, table_distinct=table_distinctness is not None, zero_knowledge=zk,
                            dataset_use=use),
                    soundness_bits=transcript.soundness_bits(), privacy=privacy(zk))


def check_numerators(transcript, ds: DatasetRecord, claim: PointClaim) -> None:
    expected = prefix_indicator(ds.num_rows, claim.point)
    zk = transcript.zk
    if zk is not None:
        zk.require_equal(claim.value, expected, where=f"{WHERE}/valid", error=MalformedProof)
    elif claim.value != expected:
        raise MalformedProof("the LogUp numerators are not 1 on exactly the dataset's num_rows rows", where=WHERE,
                             expected=expected, got=claim.value)


def exact_claim(table: int, claim: PointClaim) -> LinearClaim:
    """A plain proof's claim on the hiding dataset commitment: the column's
    own evaluation, revealed exactly."""
    return LinearClaim(((table, tuple(claim.point), Fp2(1)),), (), claim.value)


def repad_claim(sc, claim: PointClaim, num_vars: int, transcript, where: str) -> PointClaim:
    """The verifier's side of `prover.repad`: sum_x T(x) eq(r_f, x) = T~(r_f)
    (Hidden), T's final value padded from the dataset bank. Returns the
    claim on T, Hidden over the dataset bank only."""
    reduced = sumcheck_verifier.verify(sc, claim.value, num_vars, REPAD, transcript, where=where, public=(1,),
                                       pad_bank={0: DATASET_BANK})
    e = eq_eval(list(claim.point), reduced.point)
    if reduced.values[1] != e:
        raise FinalEvaluationMismatch("re-padding weight is not eq(r_f, s)", where=where, expected=e,
                                      got=reduced.values[1])
    return PointClaim(reduced.point, reduced.values[0])


def table_value_checks(transcript, claims, values) -> list:
    """The table's evaluations in the clear, each tied to its Hidden claim."""
    transcript.absorb_exts(LABEL_TABLE_VALUES, list(values))
    for c, v in zip(claims.table_columns, values):
        transcript.zk.require_equal(c.value, v, where=f"{WHERE}/table-values")
    return [pcs.Claim(c, cl.point, v) for c, (cl, v) in enumerate(zip(claims.table_columns, values))]


def finish_zk(transcript, ds: DatasetRecord, id_claims, m_claims) -> tuple[list, list]:
    """Linear claims on c_D and c_m, and the bank's folded deferred checks."""
    d_claims = [linear_claim(i, ds.bank_index, DATASET_BANK, c) for i, c in id_claims]
    m_linear = [linear_claim(0, 1, ADVICE_BANK, c) for c in m_claims]
    folded = bank_linear_claim(1, bank_claim(transcript.zk, ADVICE_BANK, transcript))
    if folded is not None:
        m_linear.append(folded)
    if bank_claim(transcript.zk, DATASET_BANK, transcript) is not None:  # only the dataset's pads live there
        raise MalformedProof("a deferred check on the dataset commitment's bank", where=WHERE)
    return d_claims, m_linear


def _discharge_zk(proof: ConsentProof, ds: DatasetRecord, id_polys, claims, m_claims, transcript):
    id_claims = []
    for name, i, sc, c in zip(("id_hi", "id_lo"), id_polys, proof.repad, claims.lookup_columns):
        id_claims.append((i, repad_claim(sc, c, ds.num_vars, transcript, f"{WHERE}/re-pad {name}")))
    t_claims = table_value_checks(transcript, claims, proof.table_values)
    d_claims, m_linear = finish_zk(transcript, ds, id_claims, m_claims)
    return d_claims, t_claims, m_linear


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


__all__ = ["ConsentRejected", "StatementMismatch", "UnknownDatasetUse", "verify_consent", "verify_consent_body"]

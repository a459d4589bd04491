"""Consent prover (the relation and both protocols are written at the top of
`verifier.py`). Zero-knowledge by default; `zero_knowledge=False` makes the
plain proof, for synthetic or public data only (the registry refuses it
unless told the data is not patient data)."""

from __future__ import annotations

import numpy as np

from zkaudit import pcs
from zkaudit.data.consent_table import ConsentOpening
from zkaudit.data.dataset import DatasetOpening
from zkaudit.data.records import ConsentTableRecord, DatasetRecord, hiding_params
from zkaudit.errors import ZkauditError
from zkaudit.gc_pause import pausing
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import committed_table_prover
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.committed_table import CommittedTableInstance
from zkaudit.lookup.committed_table_prover import RowNotInTable
from zkaudit.poly.mle import eq_table
from zkaudit.statements.common.statement import bind
from zkaudit.statements.consent import sparse
from zkaudit.statements.consent.proof import STATEMENT, ConsentProof
from zkaudit.statements.consent.verifier import (
    DATASET_BANK,
    LABEL_UNIQUE_POINT,
    build_statement,
    check_numerators,
    exact_claim,
    finish_zk,
    table_value_checks,
    uniqueness_spec,
)
from zkaudit.statements.envelope import encode_envelope
from zkaudit.statements.inference.zk import ADVICE_BANK, REPAD, bank_words
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.transcript import Transcript


class NotConsented(ZkauditError):
    """An honest prover cannot prove consent: a valid record's ID is not in the
    table, or (with unique_ids) two valid records share an ID."""


# (dataset vars, table vars, unique_ids) -> advice bank elements a proof used
_BANK_SIZES: dict[tuple[int, int, bool], int] = {}


@pausing
def prove_consent(dataset: DatasetRecord, dataset_opening: DatasetOpening, table: ConsentTableRecord,
                  table_opening: ConsentOpening, *, unique_ids: bool, zero_knowledge: bool = True,
                  multiplicities: np.ndarray | None = None, dataset_data=None, table_data=None,
                  dataset_use: int = 0) -> bytes:
    """The proof file's bytes. `dataset_use`: which of the record's consent
    commitments the proof opens (0: the main one; each hides the data through
    one proof, so the caller keeps a ledger: `data.dataset.choose_consent_use`).
    `multiplicities` overrides the honest counts (attack tests only);
    `dataset_data`/`table_data` reuse PCS prover data (of that use)."""
    dataset.consent_commitment(dataset_use)  # RecordRejected for a use the record does not hold
    hi_i, lo_i = dataset.schema.id_polynomials()
    polys = dataset_opening.polys
    ids, valid = [polys[hi_i], polys[lo_i]], polys[-1]
    tcols = [table_opening.hi, table_opening.lo]
    if multiplicities is None:
        try:
            m = sparse.multiplicities(ids, valid, tcols, table.num_rows)
        except RowNotInTable as exc:
            raise NotConsented(f"dataset row {exc.row + 1}: its ID is not in consent table version "
                               f"{table.doc['version']} ({table.doc['purpose']})") from None
        if unique_ids and m.size and int(m.max()) > 1:
            j = int(np.argmax(m))
            raise NotConsented(f"{int(m[j])} valid records share one consented ID; drop --unique-ids or fix the data")
    else:
        m = multiplicities
    ddata = dataset_data or dataset_opening.consent_prover_data(dataset, dataset_use)
    tdata = table_data or table_opening.prover_data(table)
    run = _Run(dataset, dataset_opening, table, unique_ids, ids, valid, tcols, m, ddata, tdata, (hi_i, lo_i),
               dataset_use)
    if not zero_knowledge:
        return run.prove(None)
    from zkaudit.sumcheck.zk import BankExhausted

    key = (dataset.num_vars, table.num_vars, bool(unique_ids))
    size = _BANK_SIZES.get(key) or estimate_bank(dataset.num_vars, table.num_vars, unique_ids)
    while True:
        try:
            out = run.prove(size)
            _BANK_SIZES[key] = run.used
            return out
        except BankExhausted:
            size *= 2


def estimate_bank(lookup_vars: int, table_vars: int, unique_ids: bool) -> int:
    """Advice-bank elements for a first try (the prover doubles it when a
    proof needs more, then remembers the exact figure). A zero-knowledge
    sum-check of n variables and degree d takes n d + d + 1 mask elements
    and a pad per padded table: each GKR layer k (degree 3, 4 padded tables)
    about 3 k + 11, the zero-check 3 k + 5, each re-padding 2 n + 4."""
    total = 64
    for nv in (lookup_vars, table_vars):
        total += sum(3 * k + 11 for k in range(nv + 1))
    if unique_ids:
        total += 3 * table_vars + 8
    return total + 2 * (2 * lookup_vars + 6)


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


class _Run:
    """One proof's inputs; `prove(bank_size)` makes it (plain when None)."""

    def __init__(self, dataset, dataset_opening, table, unique_ids, ids, valid, tcols, m, ddata, tdata, id_polys,
                 use=0):
        self.dataset, self.opening, self.table, self.unique_ids = dataset, dataset_opening, table, unique_ids
        self.ids, self.valid, self.tcols, self.m = ids, valid, tcols, m
        self.ddata, self.tdata, self.id_polys = ddata, tdata, id_polys
        self.use = use
        self.used = 0

    def prove(self, bank_size: int | None) -> bytes:
        from zkaudit.sumcheck.zk import ZkProver

        dataset, table = self.dataset, self.table
        zk = None
        if bank_size is None:
            mc, mdata = pcs.commit([self.m], table.params)
        else:
            zk = ZkProver({ADVICE_BANK: bank_size, DATASET_BANK: self.opening.polys.shape[0]},
                          {DATASET_BANK: self.opening.consent_bank(self.use)})
            bank = np.zeros(bank_words(bank_size), dtype=np.uint64)
            bank[: 2 * bank_size] = zk.table(ADVICE_BANK)
            mc, mdata = pcs.commit([self.m, bank], hiding_params())
        mc_bytes = mc.to_bytes()
        statement = build_statement(dataset, table, self.unique_ids, zk is not None, self.use)
        transcript = Transcript()
        bind(transcript, statement, commitments={"dataset": dataset.consent_commitment(self.use).to_bytes(),
                                                 "table": table.commitment.to_bytes(), "multiplicities": mc_bytes})
        transcript.zk = zk
        inst = CommittedTableInstance(2, dataset.num_vars, table.num_vars, table.num_rows)
        lookup, claims = committed_table_prover.prove(inst, self.ids, self.valid, self.tcols, self.m, transcript,
                                                      layer_prove=sparse.layer_prove,
                                                      evaluate_multiplicities=sparse.sparse_evaluate)
        check_numerators(transcript, dataset, claims.numerators)
        m_claims = [claims.multiplicities]
        uniq = None
        if self.unique_ids:
            r = transcript.challenge_exts(LABEL_UNIQUE_POINT, table.num_vars)
            uniq, uc, _ = sparse.prove_zero_check(r, self.m, uniqueness_spec(), transcript, claimed_sum=Fp2(0))
            m_claims.append(PointClaim(uc.point, uc.values[1]))
        hi_i, lo_i = self.id_polys
        repads, tvals = (), ()
        if zk is None:
            d_claims = [exact_claim(hi_i, claims.lookup_columns[0]), exact_claim(lo_i, claims.lookup_columns[1])]
            t_claims = [pcs.Claim(c, cl.point, cl.value) for c, cl in enumerate(claims.table_columns)]
            m_claims = [pcs.Claim(0, c.point, c.value) for c in m_claims]
        else:
            id_claims = []
            for i, c in zip(self.id_polys, claims.lookup_columns):
                sc, reduced = repad(self.opening.polys[i], c, transcript)
                repads += (sc,)
                id_claims.append((i, reduced))
            tvals = tuple(zk.value(c.value) for c in claims.table_columns)  # t_c~(r_t): the LogUp evaluated it
            t_claims = table_value_checks(transcript, claims, tvals)
            d_claims, m_claims = finish_zk(transcript, dataset, id_claims, m_claims)
            self.used = zk.banks_used()[ADVICE_BANK]
            transcript.zk = None  # the openings' own sum-checks are masked by the hiding commitments themselves
        d_open = pcs.open(self.ddata, d_claims, transcript)
        t_open = pcs.open(self.tdata, t_claims, transcript)
        m_open = pcs.open(mdata, m_claims, transcript)
        body = ConsentProof(statement, mc_bytes, lookup, uniq, repads, tvals, d_open.to_bytes(), t_open.to_bytes(),
                            m_open.to_bytes())
        return encode_envelope(STATEMENT, body.to_bytes())


def repad(column: np.ndarray, claim: PointClaim, transcript):
    """Move a Hidden claim T~(r_f) (padded from the proof's bank) onto the
    dataset's bank: a zero-knowledge sum-check of sum_x T(x) eq(r_f, x) whose
    T takes its final pad from the dataset bank, so the claim it leaves can
    be discharged on c_D alone (`verifier.repad_claim`; inference re-pads a
    committed input the same way)."""
    sc, reduced, _ = sumcheck_prover.prove([column, eq_table(list(claim.point))], REPAD, transcript,
                                           claimed_sum=claim.value, public=(1,), pad_bank={0: DATASET_BANK})
    return sc, PointClaim(reduced.point, reduced.values[0])

"""Public records (what a custodian or IRB signs and a verifier reads), and
the private openings that stay with the data holder.

    dataset/v1        {type, schema, schema_digest, num_rows, num_vars,
                       polynomials, commitment, pcs[, training_commitments]
                       [, consent_commitments]}
    consent-table/v1  {type, issuer, purpose, version, supersedes, num_rows,
                       num_vars, commitment, pcs, distinctness_proof}

`commitment` is the hex of the PCS commitment's canonical bytes, `pcs` the
parameters it was made under ({log_blowup, num_queries, hiding}), and a
record is named by `canonical.digest(record)`. A dataset's commitment is
the *hiding* one (`pcs: {..., hiding: true}`): its tables are the record's
polynomials and, last, the dataset's bank of pads (`dataset.py`), so the
commitment has one more table than `polynomials` names. A consent table's
is the plain one (why: `consent_table.py`). `supersedes` is the digest
of the version it replaces (null for the first), `distinctness_proof` the
SHA-256 of the proof file that the rows are distinct. Parsing is strict:
unknown or missing keys, wrong types, a schema digest or polynomial list
that does not follow from the schema, a commitment whose shape disagrees --
each a `MalformedRecord`.

A hiding commitment hides its data through ONE opening, so a dataset record
holds one commitment per proof that may open it: `commitment` is consent
use 0 (the first consent proof's), `consent_commitments` consent uses
1..K-1 (re-attestations against later consent-table versions), and
`training_commitments` training uses 0..T-1. The two optional lists are
absent when empty (one encoding per record), so a record written before
`consent_commitments` existed is unchanged: it has one consent use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zkaudit import pcs
from zkaudit.data.canonical import digest
from zkaudit.data.errors import DataError, MalformedRecord, RecordRejected
from zkaudit.data.schema import Schema

DATASET_TYPE = "dataset/v1"
CONSENT_TYPE = "consent-table/v1"
_HEX = re.compile(r"(?:[0-9a-f]{2})*")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")


def default_params() -> pcs.PcsParams:
    """The plain commitment parameters of a consent table (and of a plain
    consent proof's multiplicities)."""
    # 3 bits above the statement target, so the union bound over a whole
    # consent proof (three openings, lookups, sum-checks) stays >= 100 bits
    return pcs.PcsParams.for_security(103)


def hiding_params() -> pcs.PcsParams:
    """The hiding commitment of a dataset (and of a zero-knowledge consent
    proof's multiplicities and bank): the parameters of a zero-knowledge
    inference proof's committed input (`statements/inference/commitment.py:
    zk_params`, restated here because data sits below statements). Every
    claim on it is a `LinearClaim` hidden by a bank pad, so each table's own
    mask is a single entry (mask_vars = 0)."""
    import dataclasses

    return dataclasses.replace(pcs.PcsParams.for_security(103, hiding=True), mask_vars=0)


def params_json(params: pcs.PcsParams) -> dict:
    return {"log_blowup": params.log_blowup, "num_queries": params.num_queries, "hiding": params.hiding}


def _require(doc, keys: dict, what: str) -> None:
    if not isinstance(doc, dict):
        raise MalformedRecord(f"{what}: expected a JSON object", where=what)
    if set(doc) != set(keys):
        raise MalformedRecord(f"{what}: wrong keys", where=what, expected=sorted(keys), got=sorted(doc))
    for k, t in keys.items():
        types, v = t if isinstance(t, tuple) else (t,), doc[k]
        if (isinstance(v, bool) and bool not in types) or not isinstance(v, types):
            raise MalformedRecord(f"{what}.{k}: wrong type", where=what, got=type(v).__name__)


def _commitment(hexstr: str, what: str) -> pcs.Commitment:
    if not _HEX.fullmatch(hexstr):
        raise MalformedRecord(f"{what}.commitment: not lowercase hex", where=what)
    try:
        return pcs.Commitment.from_bytes(bytes.fromhex(hexstr))
    except pcs.PcsRejected as exc:
        raise MalformedRecord(f"{what}.commitment: {exc}", where=what) from None


def _check_params(doc, what: str, params: pcs.PcsParams) -> pcs.PcsParams:
    if doc != params_json(params):
        if isinstance(doc, dict) and doc.get("hiding") is False and params.hiding:
            raise RecordRejected(f"{what}: a plain (non-hiding) dataset commitment is no longer accepted: its "
                                 "commitment can be tested against guesses; re-commit the data with `zkaudit data "
                                 "commit`", where=what, expected=params_json(params), got=doc)
        raise RecordRejected(f"{what}: commitment parameters are not the supported ones", where=what,
                             expected=params_json(params), got=doc)
    return params


def bank_vars(num_polys: int) -> int:
    """Variables of a dataset's bank table: one GF(p^2) pad (two base words)
    per polynomial, zero-padded to a power of two >= 2 words."""
    return max(1, (2 * num_polys - 1).bit_length())


def padded_vars(num_rows: int) -> int:
    """Rows pad to the next power of two, at least 2 (the PCS needs >= 1 variable)."""
    return max(1, (num_rows - 1).bit_length())


class _Signed:
    """What every record shares: its canonical document and the sizes in it."""

    doc: dict

    @property
    def digest(self) -> bytes:
        return digest(self.doc)

    @property
    def num_rows(self) -> int:
        return self.doc["num_rows"]

    @property
    def num_vars(self) -> int:
        return self.doc["num_vars"]


MAX_TRAINING_USES = 64
MAX_CONSENT_USES = 64  # the main commitment and at most 63 consent_commitments
_OPTIONAL = ("training_commitments", "consent_commitments")


@dataclass(frozen=True)
class DatasetRecord(_Signed):
    doc: dict
    schema: Schema
    commitment: pcs.Commitment
    params: pcs.PcsParams
    # Further hiding commitments of the same polynomials, one per training
    # proof: a hiding commitment hides its data through ONE opening (its
    # blinding rows and pads are used once), and `commitment` is consent use
    # 0's. The custodian's signature over the record is what says they hold
    # the same data, as it says the data is the patients'.
    training_commitments: tuple = ()
    # Consent uses 1..K-1 (use 0 is `commitment`): one per consent proof, so a
    # re-attestation against a new consent-table version opens a fresh one.
    consent_commitments: tuple = ()

    @classmethod
    def from_json(cls, doc) -> DatasetRecord:
        what = "dataset record"
        optional = {k: doc[k] for k in _OPTIONAL if isinstance(doc, dict) and k in doc}
        if isinstance(doc, dict) and optional:
            doc_core = {k: v for k, v in doc.items() if k not in optional}
        else:
            doc_core = doc
        _require(doc_core, {"type": str, "schema": dict, "schema_digest": str, "num_rows": int, "num_vars": int,
                            "polynomials": list, "commitment": str, "pcs": dict}, what)
        if doc["type"] != DATASET_TYPE:
            raise MalformedRecord(f"{what}: not a dataset record", where=what, expected=DATASET_TYPE, got=doc["type"])
        try:
            schema = Schema.from_json(doc["schema"])
        except DataError as exc:
            raise MalformedRecord(f"{what}: {exc}", where=what) from None
        if schema.to_json() != doc["schema"]:
            raise MalformedRecord(f"{what}: schema is not in canonical form", where=what)
        if doc["schema_digest"] != digest(doc["schema"]).hex():
            raise RecordRejected(f"{what}: schema digest does not match the schema", where=what,
                                 expected=digest(doc["schema"]).hex(), got=doc["schema_digest"])
        if doc["polynomials"] != schema.polynomial_names():
            raise MalformedRecord(f"{what}: polynomial list does not follow from the schema", where=what,
                                  expected=schema.polynomial_names(), got=doc["polynomials"])
        params = _check_params(doc["pcs"], what, hiding_params())
        c = _commitment(doc["commitment"], what)
        if doc["num_vars"] != padded_vars(doc["num_rows"]) or doc["num_rows"] < 1:
            raise MalformedRecord(f"{what}: num_vars does not follow from num_rows", where=what,
                                  expected=padded_vars(max(doc["num_rows"], 1)), got=doc["num_vars"])
        expected = (doc["num_vars"],) * len(doc["polynomials"]) + (bank_vars(len(doc["polynomials"])),)
        if c.num_vars != expected:
            raise MalformedRecord(f"{what}: commitment shape disagrees with the record (its polynomials, then the "
                                  "bank)", where=what, expected=expected, got=c.num_vars)
        lists = {}
        for key, limit in (("training_commitments", MAX_TRAINING_USES), ("consent_commitments", MAX_CONSENT_USES - 1)):
            uses = optional.get(key, [])
            if key in optional and uses == []:
                raise MalformedRecord(f"{what}: an empty {key} list is written as no key (one encoding per record)",
                                      where=what)
            if not isinstance(uses, list) or len(uses) > limit or not all(isinstance(u, str) for u in uses):
                raise MalformedRecord(f"{what}: {key} must be a list of at most {limit} hex commitments", where=what)
            lists[key] = tuple(_commitment(u, f"{what} {key}") for u in uses)
            for i, e in enumerate(lists[key]):
                if e.num_vars != expected:
                    raise MalformedRecord(f"{what}: {key}[{i}] has another shape", where=what, expected=expected,
                                          got=e.num_vars)
        extra, consent = lists["training_commitments"], lists["consent_commitments"]
        if len({e.to_bytes() for e in (c, *extra, *consent)}) != 1 + len(extra) + len(consent):
            raise MalformedRecord(f"{what}: a commitment repeats another commitment", where=what)
        return cls(doc, schema, c, params, extra, consent)

    def use_commitment(self, use: int | None) -> pcs.Commitment:
        """The main commitment (use None: consent use 0) or training use `use`."""
        return self.commitment if use is None else self.training_commitments[use]

    @property
    def consent_uses(self) -> int:
        """How many consent proofs may open the data: the main commitment and `consent_commitments`."""
        return 1 + len(self.consent_commitments)

    def consent_commitment(self, use: int) -> pcs.Commitment:
        """Consent use `use`'s commitment: 0 the main one, i >= 1 consent_commitments[i - 1]."""
        if isinstance(use, bool) or not isinstance(use, int) or not 0 <= use < self.consent_uses:
            raise RecordRejected(f"the dataset record has {self.consent_uses} consent commitment(s), not a consent "
                                 f"use {use!r}", where="dataset", expected=f"0..{self.consent_uses - 1}", got=use)
        return self.commitment if use == 0 else self.consent_commitments[use - 1]

    def all_commitments(self) -> tuple[pcs.Commitment, ...]:
        """Every commitment the record holds (each may be opened once)."""
        return (self.commitment, *self.consent_commitments, *self.training_commitments)

    @property
    def bank_index(self) -> int:
        """The bank's table in the commitment: after the polynomials."""
        return len(self.doc["polynomials"])


@dataclass(frozen=True)
class ConsentTableRecord(_Signed):
    doc: dict
    commitment: pcs.Commitment
    params: pcs.PcsParams

    def statement(self) -> dict:
        """What the distinctness proof is bound to: the record without the proof's own hash."""
        return {k: v for k, v in self.doc.items() if k != "distinctness_proof"}

    @classmethod
    def from_json(cls, doc) -> ConsentTableRecord:
        what = "consent-table record"
        _require(doc, {"type": str, "issuer": str, "purpose": str, "version": int, "supersedes": (str, type(None)),
                       "num_rows": int, "num_vars": int, "commitment": str, "pcs": dict,
                       "distinctness_proof": str}, what)
        if doc["type"] != CONSENT_TYPE:
            raise MalformedRecord(f"{what}: not a consent-table record", where=what, expected=CONSENT_TYPE,
                                  got=doc["type"])
        for key in ("issuer", "purpose"):
            if not _CODE.fullmatch(doc[key]):
                raise MalformedRecord(f"{what}.{key}: 1-64 characters of [A-Za-z0-9_.:/-]", where=what, got=doc[key])
        if doc["version"] < 1:
            raise MalformedRecord(f"{what}.version: versions start at 1", where=what, got=doc["version"])
        if doc["supersedes"] is not None and not _DIGEST.fullmatch(doc["supersedes"]):
            raise MalformedRecord(f"{what}.supersedes: a record digest (64 hex digits) or null", where=what)
        if (doc["supersedes"] is None) != (doc["version"] == 1):
            raise MalformedRecord(f"{what}: version 1 supersedes nothing; every later version names the one it "
                                  "replaces", where=what, got=(doc["version"], doc["supersedes"]))
        if not _DIGEST.fullmatch(doc["distinctness_proof"]):
            raise MalformedRecord(f"{what}.distinctness_proof: a SHA-256 (64 hex digits)", where=what)
        params = _check_params(doc["pcs"], what, default_params())
        c = _commitment(doc["commitment"], what)
        if doc["num_rows"] < 1 or doc["num_vars"] != padded_vars(doc["num_rows"]):
            raise MalformedRecord(f"{what}: num_vars does not follow from num_rows", where=what)
        if c.num_vars != (doc["num_vars"],) * 2:
            raise MalformedRecord(f"{what}: commitment must hold the two ID limb columns", where=what,
                                  expected=(doc["num_vars"],) * 2, got=c.num_vars)
        return cls(doc, c, params)

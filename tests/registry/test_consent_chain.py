"""The consent chain in the registry (design/statements.md §5), on SQLite and
PostgreSQL: dataset -> consent table versions -> consent proofs. Publication
order violations are refused, a superseded table flags its proofs "consent
changed" (also with the newer version's row deleted), tampered records and
signatures are refused, a proof that is not zero-knowledge is refused unless
its prover signed the synthetic-data flag, a proof reopening a consent
commitment another published proof opened is refused (a re-attestation
opens the record's next consent use), and nothing is written on failure.
All proofs, signatures and records are real (no mocks)."""

from __future__ import annotations

import secrets

import numpy as np
import pyarrow as pa
import pytest
from registry_helpers import key
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from zkaudit.data.consent_table import commit_consent_table, commit_sorted
from zkaudit.data.dataset import commit_dataset
from zkaudit.data.records import default_params
from zkaudit.registry import records
from zkaudit.registry.chain import NOT_ZERO_KNOWLEDGE, NotZeroKnowledge, OutOfOrder, RecordRefused
from zkaudit.registry.client import (consent_proof_statement, publish_consent_local, publish_consent_proof_local,
                                     publish_dataset_local)
from zkaudit.registry.errors import AlreadyExists, BadSignature, Forbidden
from zkaudit.registry.models import ConsentProof, ConsentTable, LogEntry
from zkaudit.statements.consent.prover import prove_consent

SCHEMA = {"columns": [{"name": "patient", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
          "id_column": "patient", "population": "synthetic"}
HOSPITAL, IRB, VENDOR = key("hospital"), key("irb-a"), key("acme")


def _dataset(patients, consent_uses=1):
    cols = {"patient": pa.array(patients), "age": pa.array([str(30 + i % 50) for i in range(len(patients))])}
    return commit_dataset(cols, SCHEMA, consent_uses=consent_uses)


@pytest.fixture(scope="module")
def chain():
    """v1 (40 IDs), v2 superseding v1 (ID 39 withdrawn), a 12-record dataset using
    IDs 0..11 with 3 consent commitments, proofs against v1 (use 0; zero-knowledge:
    use 2) and v2 (use 1, the re-attestation; and p2_reopen on use 0), and a
    second dataset."""
    ids = [secrets.token_hex(16) for _ in range(40)]
    t1, o1, d1 = commit_consent_table(ids, issuer="irb-a", purpose="train:sepsis", version=1)
    t2, o2, d2 = commit_consent_table(ids[:39], issuer="irb-a", purpose="train:sepsis", version=2,
                                      supersedes=t1.digest.hex())
    ds, dop = _dataset(ids[:12], consent_uses=3)
    ds2, _ = _dataset(ids[12:20])
    p1 = prove_consent(ds, dop, t1, o1, unique_ids=True, zero_knowledge=False)
    p2 = prove_consent(ds, dop, t2, o2, unique_ids=True, zero_knowledge=False, dataset_use=1)
    p1_zk = prove_consent(ds, dop, t1, o1, unique_ids=True, dataset_use=2)
    p2_reopen = prove_consent(ds, dop, t2, o2, unique_ids=True, dataset_use=0)
    p1_reopen = prove_consent(ds, dop, t1, o1, unique_ids=False, dataset_use=0)
    return {"ids": ids, "t1": (t1, d1), "t2": (t2, d2), "ds": ds, "ds2": ds2, "p1": p1, "p2": p2, "p1_zk": p1_zk,
            "p2_reopen": p2_reopen, "p1_reopen": p1_reopen}


def _pub_ds(reg, ds, k=HOSPITAL):
    return publish_dataset_local(reg, k, ds.doc, None)


def _pub_table(reg, t, k=IRB):
    rec, proof = t
    return publish_consent_local(reg, k, rec.doc, None, proof)


def _pub_proof(reg, proof, k=VENDOR, allow=True):
    return publish_consent_proof_local(reg, k, proof, allow_not_zero_knowledge=allow)


def _rows(reg):
    with Session(reg.engine) as s:
        return s.scalar(select(func.count()).select_from(LogEntry))


def test_honest_chain_and_superseded_table_flagged(registry, chain):
    d = _pub_ds(registry, chain["ds"])
    assert d["custodian"] == "hospital" and d["rows"] == 12
    t1 = _pub_table(registry, chain["t1"])
    assert t1["version"] == 1 and t1["supersedes"] is None
    p1 = _pub_proof(registry, chain["p1"])
    assert p1["table_version"] == 1 and p1["unique_ids"] and p1["zero_knowledge"] is False
    assert p1["allow_not_zero_knowledge"] is True
    shown = registry.show_record(p1["proof_digest"][:12])
    assert shown["record"]["status"] == "current" and shown["record"]["consent_changed"] is None
    assert registry.show_record(d["record_digest"])["consent"] == "attested against a current consent-table version"

    t2 = _pub_table(registry, chain["t2"])
    assert t2["version"] == 2 and t2["supersedes"] == t1["record_digest"]
    # the proof against v1 and every record that depends on it now say "consent changed"
    proof_view = registry.show_record(p1["proof_digest"])
    assert proof_view["record"]["status"] == "consent changed"
    assert "superseded by v2" in proof_view["record"]["consent_changed"]
    ds_view = registry.show_record(d["record_digest"])
    assert ds_view["consent"] == "consent changed"
    assert [c["consent_proof"]["status"] for c in ds_view["chains"]] == ["consent changed"]
    t1_view = registry.show_record(t1["record_digest"])
    assert t1_view["record"]["current"] is False
    assert t1_view["chains"][0]["consent_proof"]["status"] == "consent changed"
    # a new proof against v1 is refused (not current); re-attesting against v2 clears the dataset's flag
    registry.verify_log()
    # the re-attestation may not reopen consent use 0 (p1's): refused, nothing written
    before = _rows(registry)
    with pytest.raises(AlreadyExists, match=r"consent use 0\) is already opened by consent proof "
                                            f"{p1['proof_digest'][:16]}"):
        _pub_proof(registry, chain["p2_reopen"])
    assert _rows(registry) == before
    p2 = _pub_proof(registry, chain["p2"])  # on consent use 1
    assert p2["table_version"] == 2 and (p1["dataset_use"], p2["dataset_use"]) == (0, 1)
    ds_view = registry.show_record(d["record_digest"])
    assert ds_view["consent"] == "attested against a current consent-table version"
    assert sorted(c["consent_proof"]["status"] for c in ds_view["chains"]) == ["consent changed", "current"]
    rep = registry.verify_log()
    assert rep.ok, rep.problems
    assert rep.rows_checked >= 7


def test_reopening_refused_for_proofs_published_before_consent_uses(registry, chain):
    """A row published before proofs named their use (no dataset_commitment in
    its output) opened its record's main commitment: a new proof on use 0 is
    refused, one on another use is not."""
    import json

    _pub_ds(registry, chain["ds"])
    _pub_table(registry, chain["t1"])
    p1 = _pub_proof(registry, chain["p1"])
    with Session(registry.engine) as s, s.begin():
        row = s.scalars(select(ConsentProof).where(ConsentProof.proof_digest == p1["proof_digest"])).one()
        out = json.loads(row.output_json)
        for k in ("dataset_use", "dataset_uses", "dataset_commitment"):
            out.pop(k)
        row.output_json = json.dumps(out, sort_keys=True)
    assert registry.show_record(p1["proof_digest"])["record"]["dataset_use"] == 0
    _pub_table(registry, chain["t2"])
    before = _rows(registry)
    with pytest.raises(AlreadyExists, match="already opened"):
        _pub_proof(registry, chain["p2_reopen"])
    assert _rows(registry) == before
    assert _pub_proof(registry, chain["p2"])["dataset_use"] == 1


def test_concurrent_proofs_on_one_consent_use_one_wins(registry, chain):
    """Two provers publish proofs opening the same consent commitment at once:
    the check is repeated inside the locked write, so exactly one is logged."""
    import threading

    _pub_ds(registry, chain["ds"])
    _pub_table(registry, chain["t1"])
    before = _rows(registry)
    proofs = [chain["p1"], chain["p1_reopen"]]
    results: list = [None, None]
    start = threading.Barrier(2)

    def run(i):
        start.wait()
        try:
            results[i] = _pub_proof(registry, proofs[i], k=key(f"vendor-{i}"))
        except Exception as exc:  # collected and checked below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if not isinstance(r, dict)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], AlreadyExists) and "already opened" in str(losses[0])
    assert _rows(registry) == before + 2  # the winner's proof and its prover's key
    with Session(registry.engine) as s:
        assert s.scalar(select(func.count()).select_from(ConsentProof)) == 1
    assert registry.verify_log().ok


def test_a_record_reusing_a_consent_commitment_is_refused(registry, chain):
    """Two records holding one consent commitment would let two proofs open it."""
    ds = chain["ds"]
    _pub_ds(registry, ds)
    other, _ = _dataset(chain["ids"][20:32])
    doc = dict(other.doc, consent_commitments=[ds.doc["consent_commitments"][1]])
    before = _rows(registry)
    with pytest.raises(RecordRefused, match="reuses a commitment of published record"):
        publish_dataset_local(registry, HOSPITAL, doc, None)
    assert _rows(registry) == before


def test_flag_survives_a_deleted_newer_version_row(registry, chain):
    """"consent changed" is read from the log too: deleting v2's row does not clear it."""
    _pub_ds(registry, chain["ds"])
    _pub_table(registry, chain["t1"])
    p1 = _pub_proof(registry, chain["p1"])
    _pub_table(registry, chain["t2"])
    with Session(registry.engine) as s, s.begin():
        s.execute(delete(ConsentTable).where(ConsentTable.version == 2))
    assert registry.show_record(p1["proof_digest"])["record"]["status"] == "consent changed"
    rep = registry.verify_log()
    assert not rep.ok and "consent-table whose row is missing" in rep.first[1]


def test_publication_order_violations_refused(registry, chain):
    before = _rows(registry)
    # a proof before its dataset and table are published
    with pytest.raises(OutOfOrder, match="dataset record .* is not published"):
        _pub_proof(registry, chain["p1"])
    _pub_ds(registry, chain["ds"])
    with pytest.raises(OutOfOrder, match="consent table .* is not published"):
        _pub_proof(registry, chain["p1"])
    # v2 before v1
    with pytest.raises(OutOfOrder, match="supersedes .* which is not published"):
        _pub_table(registry, chain["t2"])
    _pub_table(registry, chain["t1"])
    # v2 signed by another IRB key than v1's
    with pytest.raises(OutOfOrder, match="another IRB key or purpose"):
        _pub_table(registry, chain["t2"], k=key("irb-b"))
    # a second version 1 for the same IRB key and purpose
    other_v1 = commit_consent_table(chain["ids"][:30], issuer="irb-a", purpose="train:sepsis", version=1)
    with pytest.raises(OutOfOrder, match="already published consent table v1"):
        _pub_table(registry, other_v1[::2])
    _pub_table(registry, chain["t2"])
    # a second successor of v1 (a fork) and a skipped version number
    fork = commit_consent_table(chain["ids"][:38], issuer="irb-a", purpose="train:sepsis", version=2,
                                supersedes=chain["t1"][0].digest.hex())
    with pytest.raises(OutOfOrder, match="already superseded"):
        _pub_table(registry, fork[::2])
    skip = commit_consent_table(chain["ids"][:38], issuer="irb-a", purpose="train:sepsis", version=4,
                                supersedes=chain["t2"][0].digest.hex())
    with pytest.raises(OutOfOrder, match="versions go up by one"):
        _pub_table(registry, skip[::2])
    # a proof against the superseded v1 (stale at submission)
    with pytest.raises(OutOfOrder, match="superseded by v2"):
        _pub_proof(registry, chain["p1"])
    # duplicates
    with pytest.raises(AlreadyExists):
        _pub_ds(registry, chain["ds"])
    _pub_proof(registry, chain["p2"])
    with pytest.raises(AlreadyExists):
        _pub_proof(registry, chain["p2"])
    # wrong roles: an IRB key sealing a dataset, a custodian publishing a consent table
    with pytest.raises(Forbidden, match="irb-a is a irb"):
        _pub_ds(registry, chain["ds2"], k=IRB)
    with pytest.raises(Forbidden):
        _pub_table(registry, commit_consent_table(chain["ids"], issuer="x", purpose="audit:y")[::2], k=HOSPITAL)
    assert _rows(registry) == before + 1 + 1 + 1 + 1 + 1 + 1 + 1  # ds, custodian, v1, irb, v2, p2, vendor
    assert registry.verify_log().ok


def test_tampered_records_refused(registry, chain):
    ds = chain["ds"]
    sig = HOSPITAL.sign(records.data_record_message(records.DATASET_RECORD, ds.digest))
    pop = HOSPITAL.proof_of_possession()
    before = _rows(registry)
    # a record changed after signing (one record fewer claimed): the signature no longer covers it
    with pytest.raises(BadSignature, match="invalid signature on dataset record"):
        registry.publish_dataset(dict(ds.doc, num_rows=ds.doc["num_rows"] - 1), signer=HOSPITAL.public_key,
                                 signature=sig, signer_name="hospital", pop=pop)
    # a record that no longer parses: refused before any signature work
    with pytest.raises(RecordRefused, match="num_vars"):
        registry.publish_dataset(dict(ds.doc, num_vars=99), signer=HOSPITAL.public_key, signature=sig,
                                 signer_name="hospital", pop=pop)
    schema = dict(ds.doc["schema"], population="synthetic, edited")
    forged = dict(ds.doc, schema=schema)
    with pytest.raises(RecordRefused, match="schema digest"):
        registry.publish_dataset(forged, signer=HOSPITAL.public_key, signature=sig, signer_name="hospital", pop=pop)
    other = chain["ds2"]
    with pytest.raises(BadSignature, match="invalid signature on dataset record"):
        registry.publish_dataset(other.doc, signer=HOSPITAL.public_key, signature=sig, signer_name="hospital",
                                 pop=pop)
    # a signature by another key than the one named
    with pytest.raises(BadSignature):
        registry.publish_dataset(ds.doc, signer=IRB.public_key, signature=sig, signer_name="irb-a",
                                 pop=IRB.proof_of_possession())
    # a consent table whose distinctness proof is another table's
    t1, d1 = chain["t1"]
    _, d2 = chain["t2"]
    with pytest.raises(RecordRefused, match="distinctness proof"):
        _pub_table(registry, (t1, d2))
    # a tampered consent proof: the registry's own verification refuses it
    _pub_ds(registry, ds)
    _pub_table(registry, chain["t1"])
    mid = len(chain["p1"]) * 2 // 3
    bad = bytearray(chain["p1"])
    bad[mid] ^= 1
    with pytest.raises(RecordRefused, match="consent proof rejected|not a consent proof"):
        _pub_proof(registry, bytes(bad))
    # a prover signature over another proof's statement
    stmt = consent_proof_statement(chain["p2"], allow_not_zero_knowledge=True)
    with pytest.raises(BadSignature):
        registry.publish_consent_proof(chain["p1"], signer=VENDOR.public_key,
                                       signature=VENDOR.sign(records.consent_proof_message(stmt)),
                                       allow_not_zero_knowledge=True, signer_name="acme",
                                       pop=VENDOR.proof_of_possession())
    assert _rows(registry) == before + 4  # only ds, custodian, v1, irb
    assert registry.verify_log().ok


def test_duplicate_table_rows_refused(registry, chain):
    """§3.9 item 25: an IRB that forges the distinctness witness around a
    duplicate row gets a table record whose proof fails: publication refused."""
    ids = sorted(chain["ids"][:10])
    _, opening, _ = commit_consent_table(ids, issuer="irb-a", purpose="train:dup", version=1)
    hi, lo = opening.hi.copy(), opening.lo.copy()
    hi[4], lo[4] = hi[3], lo[3]
    beta, d = np.zeros_like(hi), np.zeros_like(hi)
    for j in range(9):
        up = hi[j + 1] > hi[j]
        beta[j] = np.uint64(up)
        diff = int(hi[j + 1]) - int(hi[j]) - 1 if up else int(lo[j + 1]) - int(lo[j]) - 1
        d[j] = np.uint64(diff) if 0 <= diff < 1 << 62 else np.uint64(0)
    rec, _, proof = commit_sorted(hi, lo, 10, issuer="irb-a", purpose="train:dup", version=1, supersedes=None,
                                  params=default_params(), beta=beta, d=d)
    before = _rows(registry)
    with pytest.raises(RecordRefused, match="distinctness proof does not verify"):
        _pub_table(registry, (rec, proof))
    assert _rows(registry) == before


def test_not_zero_knowledge_refused_unless_allowed(registry, chain):
    _pub_ds(registry, chain["ds"])
    _pub_table(registry, chain["t1"])
    before = _rows(registry)
    with pytest.raises(NotZeroKnowledge) as err:
        _pub_proof(registry, chain["p1"], allow=False)
    assert str(err.value).startswith(f"consent proof refused: {NOT_ZERO_KNOWLEDGE}")
    assert _rows(registry) == before
    # the zero-knowledge proof of the same statement needs no flag
    zk = _pub_proof(registry, chain["p1_zk"], allow=False)
    assert zk["zero_knowledge"] is True and zk["allow_not_zero_knowledge"] is False
    before = _rows(registry)
    # the flag is part of the prover's signed statement: a signature without it does not cover it
    stmt = consent_proof_statement(chain["p1"], allow_not_zero_knowledge=False)
    with pytest.raises(BadSignature):
        registry.publish_consent_proof(chain["p1"], signer=VENDOR.public_key,
                                       signature=VENDOR.sign(records.consent_proof_message(stmt)),
                                       allow_not_zero_knowledge=True, signer_name="acme",
                                       pop=VENDOR.proof_of_possession())
    out = _pub_proof(registry, chain["p1"], allow=True)
    with Session(registry.engine) as s:
        row = s.scalars(select(ConsentProof).where(ConsentProof.proof_digest == out["proof_digest"])).one()
        assert (row.zero_knowledge, row.allow_not_zero_knowledge, row.valid) == (False, True, True)
    view = registry.show_record(out["proof_digest"])["record"]
    assert view["allow_not_zero_knowledge"] is True and view["zero_knowledge"] is False


def test_concurrent_publishers_never_fork_the_log(registry, chain):
    """Five publishers at once: three custodians sealing datasets and two
    successors of the same table version (a would-be fork). Every write gets
    its own contiguous log entries, exactly one successor wins, and the log
    audits clean."""
    import threading

    _pub_table(registry, chain["t1"])
    ids = chain["ids"]
    datasets = [_dataset(ids[k:k + 4])[0] for k in (0, 4, 8)]
    forks = [commit_consent_table(ids[:n], issuer="irb-a", purpose="train:sepsis", version=2,
                                  supersedes=chain["t1"][0].digest.hex())[::2] for n in (39, 38)]
    jobs = [lambda d=d, k=key(f"hospital-{i}"): _pub_ds(registry, d, k) for i, d in enumerate(datasets)]
    jobs += [lambda f=f: _pub_table(registry, f) for f in forks]
    results: list = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(i):
        start.wait()
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # collected and checked below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, dict) for r in results[:3]), results
    wins = [r for r in results[3:] if isinstance(r, dict)]
    losses = [r for r in results[3:] if not isinstance(r, dict)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], (OutOfOrder, AlreadyExists)), losses
    with Session(registry.engine) as s:
        idx = list(s.scalars(select(LogEntry.idx).order_by(LogEntry.idx)))
        assert idx == list(range(len(idx)))
        assert s.scalar(select(func.count()).select_from(ConsentTable)) == 2
    rep = registry.verify_log()
    assert rep.ok, rep.problems


def test_cli_publish_and_show_chain(tmp_path, capsys, monkeypatch):
    """The CLI journey on a SQLite registry: one line and exit 2 for each refusal,
    nothing written then; `registry show` prints the chain and the flags."""
    import json

    from zkaudit.cli.main import main
    from zkaudit.registry.keys import write_keystore

    monkeypatch.chdir(tmp_path)
    for name, k in (("hospital", HOSPITAL), ("irb", IRB), ("vendor", VENDOR), ("other", key("other"))):
        write_keystore(tmp_path / f"{name}.key", k)
    ids = [secrets.token_hex(16) for _ in range(30)]
    (tmp_path / "ids.csv").write_text("pid\n" + "\n".join(ids) + "\n")
    (tmp_path / "ids2.csv").write_text("pid\n" + "\n".join(ids[:-1]) + "\n")
    (tmp_path / "schema.json").write_text(json.dumps(
        {"columns": [{"name": "pid", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
         "id_column": "pid", "population": "synthetic"}))
    (tmp_path / "data.csv").write_text("pid,age\n" + "\n".join(f"{i},{40 + k}" for k, i in enumerate(ids[:8])) + "\n")
    assert main(["data", "commit", "data.csv", "--schema", "schema.json", "--key", "hospital.key", "--out", "DS",
                 "--consent-uses", "2"]) == 0
    assert main(["consent", "commit", "ids.csv", "--key", "irb.key", "--purpose", "train:x", "--out", "CT1"]) == 0
    assert main(["consent", "commit", "ids2.csv", "--key", "irb.key", "--purpose", "train:x", "--supersedes", "CT1",
                 "--out", "CT2"]) == 0
    assert main(["prove-consent", "--dataset", "DS", "--consent", "CT1", "--out", "p.zkp", "--unique-ids",
                 "--no-zero-knowledge"]) == 0
    assert main(["prove-consent", "--dataset", "DS", "--consent", "CT1", "--out", "pz.zkp"]) == 0
    assert main(["registry", "init"]) == 0
    capsys.readouterr()

    def fails(args, needle):
        size = log_size()
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err
        assert log_size() == size

    def log_size():
        from zkaudit.registry.store import Registry

        reg = Registry("zkaudit-registry.db")
        try:
            return reg.log_size()
        finally:
            reg.close()

    assert main(["registry", "publish-dataset", "DS", "--key", "hospital.key", "--json"]) == 0
    ds = json.loads(capsys.readouterr().out)
    fails(["registry", "publish-consent-proof", "p.zkp", "--key", "vendor.key", "--allow-not-zero-knowledge"],
          "is not published")
    fails(["registry", "publish-consent", "CT2", "--key", "irb.key"], "which is not published")
    fails(["registry", "publish-consent", "CT1", "--key", "other.key"], "not by --key 'other'")
    assert main(["registry", "publish-consent", "CT1", "--key", "irb.key"]) == 0
    fails(["registry", "publish-consent-proof", "p.zkp", "--key", "vendor.key"], "not zero-knowledge")
    assert main(["registry", "publish-consent-proof", "pz.zkp", "--key", "vendor.key", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["zero_knowledge"] is True
    assert main(["registry", "publish-consent-proof", "p.zkp", "--key", "vendor.key", "--allow-not-zero-knowledge",
                 "--json"]) == 0
    proof = json.loads(capsys.readouterr().out)
    assert proof["allow_not_zero_knowledge"] is True and proof["table_version"] == 1
    assert main(["registry", "show", proof["proof_digest"][:16]]) == 0
    out = capsys.readouterr().out
    assert "consent: current table version" in out and "--allow-not-zero-knowledge" in out
    assert main(["registry", "publish-consent", "CT2", "--key", "irb.key"]) == 0
    capsys.readouterr()
    assert main(["registry", "show", proof["proof_digest"]]) == 0
    out = capsys.readouterr().out
    assert "CONSENT CHANGED: table v1 (train:x) is superseded by v2" in out
    assert f"dataset {ds['record_digest']}" in out and "SUPERSEDED by v2" in out
    assert main(["registry", "show", ds["record_digest"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["consent"] == "consent changed"
    # a tampered dataset record (re-digested so the file parses): the custodian's signature no longer covers it
    doc = json.loads((tmp_path / "DS" / "dataset.json").read_text())
    doc["record"]["schema"]["population"] = "edited"
    from zkaudit.data.canonical import digest

    doc["record"]["schema_digest"] = digest(doc["record"]["schema"]).hex()
    doc["record_digest"] = digest(doc["record"]).hex()
    (tmp_path / "DS" / "dataset.json").write_text(json.dumps(doc))
    fails(["registry", "publish-dataset", "DS", "--key", "hospital.key"], "invalid signature on dataset record")
    assert main(["registry", "verify-log"]) == 0


def test_record_tags_match_what_the_data_cli_signs():
    """The registry checks the signatures `zkaudit data commit` / `consent commit`
    write; their tags must be the same strings."""
    from zkaudit.cli._records import TAGS

    assert TAGS == {"dataset/v1": records.DATASET_RECORD, "consent-table/v1": records.CONSENT_TABLE_RECORD}


def test_distinctness_check_in_a_verifier_worker(chain):
    """`registry serve` checks distinctness proofs in its worker processes."""
    from zkaudit.registry.sandbox import VerifierPool

    pool = VerifierPool(1)
    try:
        (t1, d1), (_, d2) = chain["t1"], chain["t2"]
        assert pool.check_table(t1.doc, d1) is None
        assert "not the one the record names" in pool.check_table(t1.doc, d2)
    finally:
        pool.close()

"""Review of per-use dataset training commitments (DatasetRecord.training_commitments,
`commit_dataset(training_uses=K)`, the training statement's `dataset_use`):

* parsing: a malformed `training_commitments` is a MalformedRecord, never another
  exception; an old record without the key parses (and a training proof then
  refuses with a clear message);
* the derived seeds: each use's commitment and bank differ from the consent
  commitment's and from each other, and all follow from the secret seed only;
* soundness: a proof cannot name a use outside the record (a bool, -1, K) nor
  open the consent commitment under a training use's name; a record edited to
  add a training commitment is another record (the run record's digest).
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_training_proof import forget_proofs, make_run  # noqa: E402

from zkaudit.data.canonical import canonical_json, parse_canonical  # noqa: E402
from zkaudit.data.dataset import DatasetOpening, commit_dataset, use_seed  # noqa: E402
from zkaudit.data.errors import MalformedRecord  # noqa: E402
from zkaudit.data.records import MAX_TRAINING_USES, DatasetRecord  # noqa: E402
from zkaudit.errors import MalformedProof, ProofRejected, ZkauditError  # noqa: E402

SCHEMA = {"columns": [{"name": "pid", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120},
                      {"name": "x", "type": "fixed", "scale": 8, "min": -4, "max": 4}],
          "id_column": "pid", "population": "synthetic adults"}
SEED = bytes(range(32))


def _commit(rows: int = 5, uses: int = 3, seed: bytes = SEED):
    table = {"pid": [f"{i + 1:08x}" + "0" * 24 for i in range(rows)], "age": [20 + i for i in range(rows)],
             "x": [0.5 * (i % 3) for i in range(rows)]}
    return commit_dataset(table, SCHEMA, seed=seed, training_uses=uses)


@pytest.fixture(scope="module")
def committed():
    return _commit()


# -- parsing -----------------------------------------------------------------------------


def _with(doc: dict, value) -> dict:
    out = dict(doc)
    out["training_commitments"] = value
    return out


def _malformed_cases(doc: dict) -> dict:
    tc = doc["training_commitments"]
    other = _commit(rows=40, uses=1)[0].doc["training_commitments"][0]  # another num_vars: another shape
    raw = bytes.fromhex(tc[0])
    return {
        "null": None,
        "a string": tc[0],
        "a dict": {"0": tc[0]},
        "an int": 3,
        "ints": [1, 2],
        "a bool entry": [True],
        "a nested list": [[tc[0]]],
        "a null entry": [None],
        "upper-case hex": [tc[0].upper()],
        "odd-length hex": [tc[0] + "0"],
        "empty hex": [""],
        "not hex": ["zz" * 10],
        "truncated": [raw[:-1].hex()],
        "trailing bytes": [(raw + b"\x00").hex()],
        "a wrong magic": [(bytes([raw[0] ^ 1]) + raw[1:]).hex()],
        "another shape": [other],
        "a repeat": [tc[0], tc[0]],
        "the consent commitment": [doc["commitment"]],
        "the consent commitment later": [tc[0], doc["commitment"]],
        "too many": [tc[0]] * (MAX_TRAINING_USES + 1),
    }


CASES = ["null", "a string", "a dict", "an int", "ints", "a bool entry", "a nested list", "a null entry",
         "upper-case hex", "odd-length hex", "empty hex", "not hex", "truncated", "trailing bytes",
         "a wrong magic", "another shape", "a repeat", "the consent commitment", "the consent commitment later",
         "too many"]


@pytest.mark.parametrize("case", CASES)
def test_malformed_training_commitments_are_malformed_records(committed, case):
    record, _ = committed
    bad = _with(record.doc, _malformed_cases(record.doc)[case])
    with pytest.raises(MalformedRecord):
        DatasetRecord.from_json(bad)


def test_more_than_the_maximum_distinct_commitments_is_refused():
    """65 distinct, well-formed commitments (not one repeated): still refused by count."""
    record, opening = _commit(uses=MAX_TRAINING_USES)
    assert len(record.training_commitments) == MAX_TRAINING_USES
    DatasetRecord.from_json(record.doc)  # 64 is fine
    from zkaudit.data.dataset import commit_polynomials

    extra = commit_polynomials(opening.polys, b"\x07" * 32)[0].to_bytes().hex()
    with pytest.raises(MalformedRecord, match="at most 64"):
        DatasetRecord.from_json(_with(record.doc, record.doc["training_commitments"] + [extra]))


def test_a_non_dict_record_is_still_a_malformed_record():
    for doc in (None, [], "dataset", 3):
        with pytest.raises(MalformedRecord):
            DatasetRecord.from_json(doc)


def test_an_unknown_extra_key_is_still_refused(committed):
    record, _ = committed
    bad = dict(record.doc, training_commitment=record.doc["training_commitments"])
    with pytest.raises(MalformedRecord, match="wrong keys"):
        DatasetRecord.from_json(bad)


def test_an_old_record_without_the_key_parses_and_has_no_training_use(committed):
    record, opening = committed
    old = {k: v for k, v in record.doc.items() if k != "training_commitments"}
    parsed = DatasetRecord.from_json(old)
    assert parsed.training_commitments == ()
    assert parsed.use_commitment(None) == record.commitment
    assert "training_commitments" not in _commit(uses=0)[0].doc
    from zkaudit.data.errors import RecordRejected

    with pytest.raises(RecordRejected, match="not a use 0"):
        opening.prover_data(parsed, 0)
    opening.prover_data(parsed)  # the consent commitment still opens


def test_an_explicit_empty_list_is_not_a_second_encoding(committed):
    record, _ = committed
    old = {k: v for k, v in record.doc.items() if k != "training_commitments"}
    with pytest.raises(MalformedRecord):
        DatasetRecord.from_json(_with(old, []))


def test_a_consent_proof_over_a_record_with_training_commitments_opens_the_consent_one(committed):
    """The consent statement embeds the whole record (training commitments
    included); its proof opens `commitment`, so it verifies against that
    record and not against the record with training commitment 0 as its
    consent commitment."""
    from zkaudit.data.consent_table import commit_consent_table
    from zkaudit.statements.consent.prover import prove_consent
    from zkaudit.statements.consent.verifier import verify_consent

    record, opening = committed
    ids = [f"{i + 1:08x}" + "0" * 24 for i in range(5)]
    table, topen, _ = commit_consent_table(ids, issuer="irb-a", purpose="train:test", version=1)
    proof = prove_consent(record, opening, table, topen, unique_ids=True, zero_knowledge=True)
    verify_consent(proof, dataset=record, table=table)
    swapped = dict(record.doc, commitment=record.doc["training_commitments"][0],
                   training_commitments=[record.doc["commitment"]] + record.doc["training_commitments"][1:])
    with pytest.raises(ProofRejected):
        verify_consent(proof, dataset=DatasetRecord.from_json(swapped), table=table)


# -- the derived seeds ----------------------------------------------------------------------------


def test_each_use_has_its_own_commitment_bank_and_seed(committed):
    record, opening = committed
    seeds = [opening.seed] + [use_seed(opening.seed, u) for u in range(3)]
    assert len(set(seeds)) == 4 and all(len(s) == 32 for s in seeds)
    assert use_seed(opening.seed, None) == opening.seed
    banks = [opening.bank()] + [opening.bank(u) for u in range(3)]
    assert len({b.tobytes() for b in banks}) == 4
    # every pad of every bank differs from every other (independent uniform pads, not shifted copies)
    words = np.concatenate([b.reshape(-1) for b in banks])
    assert len(set(words.tolist())) == words.shape[0]
    commitments = [record.commitment] + list(record.training_commitments)
    assert len({c.to_bytes() for c in commitments}) == 4
    for u in range(3):  # each use's prover data is the record's training commitment u
        assert opening.prover_data(record, u).commitment == record.training_commitments[u]


def test_the_derived_seeds_follow_from_the_secret_seed_only(committed):
    """Same data and seed: the same record (the custodian can recompute it). The
    same data with another seed: every training commitment changes, so none is
    computable from the public data (which a guesser has) without the seed."""
    record, opening = committed
    again, _ = _commit()
    assert again.doc == record.doc
    other, _ = _commit(seed=bytes(32))
    assert not set(record.doc["training_commitments"]) & set(other.doc["training_commitments"])
    text = canonical_json(record.doc).decode()
    for s in [opening.seed] + [use_seed(opening.seed, u) for u in range(3)]:
        assert s.hex() not in text


def test_the_seed_derivation_is_domain_separated_from_the_opening_seeds_streams(committed):
    """The seed's SHAKE inputs: the commitment's stream (DOMAIN 0x00 seed), the
    bank's (DOMAIN/bank 0x00 seed) and each use's (DOMAIN/training-use u seed).
    A use's derived seed is none of the 32-byte blocks those streams give out
    (a collision of inputs would make them equal)."""
    import hashlib

    from zkaudit.data.dataset import SEED_DOMAIN

    _, opening = committed
    s = opening.seed
    blocks = set()
    for domain in (SEED_DOMAIN, SEED_DOMAIN + b"/bank"):
        out = hashlib.shake_256(domain + b"\x00" + s).digest(32 * 64)
        blocks |= {out[i:i + 32] for i in range(0, len(out), 8)}
    for u in range(MAX_TRAINING_USES):
        assert use_seed(s, u) not in blocks
    assert len({use_seed(s, u) for u in range(MAX_TRAINING_USES)}) == MAX_TRAINING_USES


def test_a_recommit_with_the_same_seed_shares_commitments():
    """Re-committing with the SAME seed re-derives the same commitments under a
    new record digest (the seed is what makes a commitment recomputable): the
    registry refuses such a record, and a training proof opening a commitment
    any published proof opened (test below); a fresh seed shares nothing."""
    first, _ = _commit(uses=1)
    more, _ = _commit(uses=3)  # same seed
    assert first.digest != more.digest
    shared = {first.doc["commitment"], *first.doc["training_commitments"]} \
        & {more.doc["commitment"], *more.doc["training_commitments"]}
    assert shared
    fresh, _ = _commit(uses=3, seed=b"\x07" * 32)
    assert not shared & {fresh.doc["commitment"], *fresh.doc["training_commitments"]}


# -- soundness: which commitment a proof opens -------------------------------------------------------


@pytest.fixture(scope="module")
def run2(tmp_path_factory):
    """One run on a dataset committed for two training uses, and its honest proof on use 0."""
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.train.run import load_run, read_coin

    d = make_run(tmp_path_factory.mktemp("uses"), training_uses=2)
    run, coin = load_run(d / "RUN"), read_coin(d / "RUN" / "coin.json")
    proof = prove_training(run, coin, dataset_use=0)
    forget_proofs(d)
    return d, run, coin, proof


def _restate(proof: bytes, change) -> bytes:
    """The proof with its statement blob replaced by change(statement)."""
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.training import protocol as pr

    env = parse_envelope(proof)
    body = env.body
    (n,) = struct.unpack("<I", body[:4])
    st = parse_canonical(body[4:4 + n], "statement")
    st = change(st)
    blob = canonical_json(st)
    return encode_envelope(pr.STATEMENT, struct.pack("<I", len(blob)) + blob + body[4 + n:])


@pytest.mark.parametrize("use", [-1, 2, True, "0", None, [0], 2 ** 40])
def test_a_proof_naming_no_training_use_is_malformed(run2, use):
    from zkaudit.statements.training.verifier import verify_training

    *_, proof = run2
    bad = _restate(proof, lambda st: {**st, "dataset_use": use})
    with pytest.raises(MalformedProof, match="names no training commitment"):
        verify_training(bad)


def test_the_other_use_does_not_verify(run2):
    """The statement says use 1, the opening is of use 0: the transcript and the PCS check refuse."""
    from zkaudit.statements.training.verifier import verify_training

    *_, proof = run2
    assert verify_training(proof).dataset_use == 0
    with pytest.raises(ProofRejected):
        verify_training(_restate(proof, lambda st: {**st, "dataset_use": 1}))


def test_a_record_without_training_commitments_is_refused_clearly(run2):
    """An old record (no key) named by the statement: the verifier says so; the
    run record names the signed record, so that is also a statement mismatch."""
    from zkaudit.statements.training.verifier import verify_training

    *_, proof = run2

    def strip(st):
        ds = {k: v for k, v in st["dataset"].items() if k != "training_commitments"}
        return {**st, "dataset": ds}

    with pytest.raises(MalformedProof, match="names no training commitment"):
        verify_training(_restate(proof, strip))


def test_an_edited_record_is_another_record(run2):
    """A record edited to add (or swap in) a training commitment the custodian did
    not sign: its digest is not the one the run record names."""
    from zkaudit.data.dataset import commit_polynomials, load_dataset
    from zkaudit.statements.training.verifier import StatementMismatch, verify_training

    d, run, coin, proof = run2
    record, _, opening = load_dataset(d / "DS", with_opening=True)
    forged = commit_polynomials(opening.polys, b"\x05" * 32)[0].to_bytes().hex()
    for tc in (record.doc["training_commitments"] + [forged], [forged, record.doc["training_commitments"][1]]):
        edited = _with(record.doc, tc)
        DatasetRecord.from_json(edited)  # well-formed: only the digest tells
        with pytest.raises(StatementMismatch, match="another policy or dataset"):
            verify_training(_restate(proof, lambda st: {**st, "dataset": edited, "dataset_use": 0}))
        with pytest.raises(StatementMismatch, match="another dataset"):  # what the registry passes
            verify_training(_restate(proof, lambda st: {**st, "dataset": edited}), dataset_doc=record.doc)


def test_a_prover_opening_the_consent_commitment_as_a_use_is_rejected(run2, monkeypatch):
    """A malicious prover that opens the consent proofs' commitment (and its bank)
    while its statement names training use 0: the verifier binds and checks
    training commitment 0, so the proof is rejected."""
    from zkaudit.data import dataset as dsmod
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.statements.training.verifier import verify_training

    d, run, coin, _ = run2
    forget_proofs(d)
    monkeypatch.setattr(dsmod, "use_seed", lambda seed, use: seed)
    monkeypatch.setattr(DatasetRecord, "use_commitment", lambda self, use: self.commitment)
    bad = prove_training(run, coin, dataset_use=0)
    monkeypatch.undo()
    forget_proofs(d)
    with pytest.raises(ProofRejected):
        verify_training(bad)


def test_a_record_without_training_commitments_is_refused_at_train_init(tmp_path):
    """A run on it could never be proved (nor should it count in later runs' epsilon):
    `train init` refuses it with the hint, and writes nothing."""
    from zkaudit.train.errors import TrainingError

    with pytest.raises((AssertionError, TrainingError)):
        make_run(tmp_path, training_uses=0)
    assert not (tmp_path / "RUN").exists()


def test_a_corrupt_uses_ledger_is_a_clear_error(run2):
    """DS/training-uses.json that is not a JSON object: a ZkauditError naming the
    file, not a traceback (bad local state is bad user input)."""
    from zkaudit.statements.training.run_proof import USES_FILE, prove_training

    d, run, coin, _ = run2
    forget_proofs(d)
    ledger = d / "DS" / USES_FILE
    try:
        for text in ("not json", "[1, 2]", '{"0": 5}'):
            ledger.write_text(text)
            with pytest.raises(ZkauditError, match="training-uses"):
                prove_training(run, coin, dataset_use=1)
    finally:
        forget_proofs(d)


def test_dataset_opening_bank_refuses_a_use_outside_the_record(committed):
    """bank(use) is called before prover_data's range check in the prover; a negative
    use must not silently derive a seed (it raises, whatever the type)."""
    _, opening = committed
    assert isinstance(opening, DatasetOpening)
    with pytest.raises((OverflowError, ValueError)):
        opening.bank(-1)


# -- the registry: one opening per commitment, not per (record, use) --------------------------------


def test_the_registry_refuses_a_second_opening_of_one_commitment_across_records(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "registry"))
    from training_chain_helpers import (N, TRAINER, _pid, coin, publish_coin, publish_dataset, publish_run)
    from training_chain_helpers import SCHEMA as TSCHEMA
    from training_chain_helpers import make_run as reg_make_run

    from zkaudit.data.dataset import load_dataset, write_dataset
    from zkaudit.registry import training_records as tr
    from zkaudit.registry.chain import RecordRefused
    from zkaudit.registry.encoding import sha256_hex
    from zkaudit.registry.errors import AlreadyExists
    from zkaudit.registry.store import Registry
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.train.run import train_run

    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, N), rng.uniform(-1, 1, N)
    cols = {"pid": [_pid(0, i) for i in range(N)], "a": [f"{v:.4f}" for v in a],
            "b": [f"{v:.4f}" for v in b], "y": [str(int(x + y > 0)) for x, y in zip(a, b)]}
    seed = b"\x42" * 32
    dirs = []
    for name, uses in (("d1", 1), ("d2", 2)):  # the custodian re-commits for one more training use
        rec, op = commit_dataset(cols, TSCHEMA, seed=seed, training_uses=uses)
        (tmp_path / name).mkdir()
        write_dataset(tmp_path / name / "DS", rec, op, None)
        dirs.append(tmp_path / name / "DS")
    r1, r2 = (load_dataset(d)[0] for d in dirs)
    assert r1.digest != r2.digest and r1.training_commitments[0] == r2.training_commitments[0]

    reg, _, _ = Registry.init(str(tmp_path / "registry.db"), tmp_path / "registry.key")
    try:
        publish_dataset(reg, dirs[0])
        run_a = reg_make_run(dirs[0], tmp_path / "A", seed=1)
        publish_run(reg, run_a)
        try:
            publish_dataset(reg, dirs[1])  # refusing the record that repeats a published commitment: a fix
        except (RecordRefused, AlreadyExists):
            return
        run_b = reg_make_run(dirs[1], tmp_path / "B", seed=2)
        publish_run(reg, run_b)
        proofs = []
        for run in (run_a, run_b):
            c = coin(run)
            publish_coin(reg, c)
            (run.path / "coin.json").write_text(json.dumps(c))
            train_run(run, c)
            proofs.append(prove_training(run, c, dataset_use=0))

        def publish(proof, run):
            rid = run.run_id.hex()
            sig = TRAINER.sign(tr.training_proof_message(tr.training_proof(proof_digest=sha256_hex(proof),
                                                                            run_id=rid)))
            return reg.publish_training_proof(proof, run_id=rid, signer=TRAINER.public_key, signature=sig)

        publish(proofs[0], run_a)
        with pytest.raises((AlreadyExists, RecordRefused)):
            publish(proofs[1], run_b)  # opens the same commitment as run A's proof
    finally:
        reg.close()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A registry with a dataset committed for two training uses, run A's proof
    on use 1 published and run B coined and trained (not yet proved)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "registry"))
    from training_chain_helpers import coin, dataset_dir, publish_coin, publish_dataset, publish_run
    from training_chain_helpers import make_run as reg_make_run

    from zkaudit.data.dataset import load_dataset, write_dataset
    from zkaudit.registry.store import Registry
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.train.run import train_run

    root = tmp_path_factory.mktemp("published-uses")
    ds = dataset_dir(root / "d", 0)
    import shutil

    from training_chain_helpers import SCHEMA as TSCHEMA

    assert len(load_dataset(ds)[0].training_commitments) == 1  # the helper commits one use: re-commit for two
    cols = _columns_of_dataset_dir_0()
    shutil.rmtree(ds)
    rec2, op2 = commit_dataset(cols, TSCHEMA, training_uses=2)
    write_dataset(ds, rec2, op2, None)
    reg, _, _ = Registry.init(str(root / "registry.db"), root / "registry.key")
    publish_dataset(reg, ds)
    runs = {}
    for name, seed in (("A", 1), ("B", 2)):
        run = reg_make_run(ds, root / name, seed=seed)
        publish_run(reg, run)
        c = coin(run)
        publish_coin(reg, c)
        (run.path / "coin.json").write_text(json.dumps(c))
        train_run(run, c)
        runs[name] = (run, c)
    proof_a = prove_training(*runs["A"], dataset_use=1)
    out_a = _publish_proof(reg, proof_a, runs["A"][0])
    yield {"reg": reg, "ds": ds, "runs": runs, "out_a": out_a, "proof_a": proof_a}
    reg.close()


def _columns_of_dataset_dir_0() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "registry"))
    from training_chain_helpers import N, _pid

    rng = np.random.default_rng(0)  # dataset_dir(root, 0)'s rows
    a, b = rng.uniform(-1, 1, N), rng.uniform(-1, 1, N)
    return {"pid": [_pid(0, i) for i in range(N)], "a": [f"{v:.4f}" for v in a],
            "b": [f"{v:.4f}" for v in b], "y": [str(int(x + y > 0)) for x, y in zip(a, b)]}


def _publish_proof(reg, proof: bytes, run) -> dict:
    from training_chain_helpers import TRAINER

    from zkaudit.registry import training_records as tr
    from zkaudit.registry.encoding import sha256_hex

    rid = run.run_id.hex()
    sig = TRAINER.sign(tr.training_proof_message(tr.training_proof(proof_digest=sha256_hex(proof), run_id=rid)))
    return reg.publish_training_proof(proof, run_id=rid, signer=TRAINER.public_key, signature=sig)


def test_the_registry_refuses_use_1_twice_and_takes_use_0(published):
    """Use 1 (not only 0): the second opening is refused with nothing written,
    the other use is accepted, and `registry show` names each proof's use."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from zkaudit.registry.errors import AlreadyExists
    from zkaudit.registry.models import LogEntry, TrainingProof
    from zkaudit.statements.training.run_proof import PROVED_FILE, USES_FILE, prove_training

    reg, ds = published["reg"], published["ds"]
    run_b, coin_b = published["runs"]["B"]
    (ds / USES_FILE).unlink()  # a trainer who bypasses the local ledger (another copy of DS)
    proof_b1 = prove_training(run_b, coin_b, dataset_use=1)

    def sizes():
        with Session(reg.engine) as s:
            return (s.scalar(select(func.count()).select_from(LogEntry)),
                    s.scalar(select(func.count()).select_from(TrainingProof)))

    before = sizes()
    with pytest.raises(AlreadyExists, match=r"this proof opens \(training use 1\) is already opened"):
        _publish_proof(reg, proof_b1, run_b)
    assert sizes() == before
    (run_b.path / "private" / PROVED_FILE).unlink()  # B's use-1 proof never left this test
    proof_b0 = prove_training(run_b, coin_b, dataset_use=0)
    out_b = _publish_proof(reg, proof_b0, run_b)
    uses = {reg.show_training(o["proof_digest"])["training_proof"]["output"]["dataset_use"]
            for o in (published["out_a"], out_b)}
    assert uses == {0, 1}


def test_the_use_is_in_the_publish_result_and_the_plain_chain(published):
    from zkaudit.cli._registry_training import chain_lines

    reg, out_a = published["reg"], published["out_a"]
    doc = reg.show_training(out_a["proof_digest"])
    text = "\n".join(chain_lines(doc))
    assert out_a.get("dataset_use") == 1 and "use 1" in text

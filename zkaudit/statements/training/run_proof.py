"""`prove_training(run, coin_doc)`: a trained run directory to a training proof.

Loads the public records (run, policy, dataset, coin), the private opening
(tape and its seed, the dataset's opening, the trace), commits theta_T with
a fresh salt (c_theta, the proof's output; the salt goes to
RUN/private/theta.salt for the link proof) and proves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zkaudit.errors import ZkauditError
from zkaudit.gc_pause import pausing
from zkaudit.statements.training import protocol as pr


def statement(run, coin_doc: dict, dataset_doc: dict, theta_commitment: bytes, dataset_use: int) -> dict:
    return {"type": pr.STATEMENT_TYPE, "protocol_version": pr.PROTOCOL_VERSION, "run_record": run.record,
            "policy": run.policy.doc, "dataset": dataset_doc, "dataset_use": dataset_use,
            "coin_signature": coin_doc["signature"], "theta_commitment": theta_commitment.hex()}


PROVED_FILE = "training-proof.json"  # in RUN/private: the run's tape has been opened
USES_FILE = "training-uses.json"  # in the dataset directory: which training commitments are opened, by which run


def _opened(run, ddir: Path, dataset_use: int) -> None:
    """One proof per run and per training commitment: each proof opens the
    tape commitment and one dataset commitment, whose pads hide through ONE
    opening; a second proof would give away linear combinations of the
    tape (the noise) and of the data. Refused unless the marker is removed
    on purpose (e.g. the first proof was lost before anyone saw it)."""
    marker = run.path / "private" / PROVED_FILE
    if marker.exists():
        raise ZkauditError(f"{run.path} already has its training proof ({marker}): a second proof would reopen the "
                           "tape and reveal a linear combination of the noise",
                           hint="publish the proof you have; delete the marker only if no one ever saw that proof")
    uses = _read_uses(Path(ddir) / USES_FILE)
    ledger = Path(ddir) / USES_FILE
    owner = uses.get(str(dataset_use))
    if owner is not None and owner != run.run_id.hex():
        raise ZkauditError(f"training commitment {dataset_use} of the dataset is already opened by run {owner[:16]}... "
                           f"({ledger}): a second opening would reveal linear combinations of the data",
                           hint="prove with another --dataset-use, or have the custodian re-commit with more "
                                "--training-uses")


def _read_uses(ledger: Path) -> dict:
    """The dataset directory's ledger of opened training commitments: use -> run id."""
    if not ledger.exists():
        return {}
    try:
        uses = json.loads(ledger.read_text())
    except (OSError, ValueError) as exc:
        raise ZkauditError(f"{ledger} is unreadable ({exc}): it records which training commitments of the dataset "
                           "are opened; restore it rather than delete it") from None
    if not isinstance(uses, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in uses.items()):
        raise ZkauditError(f"{ledger} is not a ledger of training uses (use -> run id)")
    return uses


def _record_opening(run, ddir: Path, dataset_use: int, proof: bytes) -> None:
    import hashlib

    from zkaudit.train.run import _write_private

    ledger = Path(ddir) / USES_FILE
    uses = _read_uses(ledger)
    uses[str(dataset_use)] = run.run_id.hex()
    tmp = ledger.with_name(ledger.name + ".tmp")
    tmp.write_text(json.dumps(uses, sort_keys=True, indent=1) + "\n")
    tmp.replace(ledger)
    _write_private(run.path / "private" / PROVED_FILE,
                   json.dumps({"proof_sha256": hashlib.sha256(proof).hexdigest(), "dataset_use": dataset_use},
                              sort_keys=True).encode())


@pausing  # the collector off, as for every prover: a full collection took 50-200 ms of a 0.5 s proof when it struck
def prove_training(run, coin_doc: dict, *, dataset_dir: Path | None = None, dataset_use: int = 0,
                   workers: int | None = None, progress=None) -> bytes:
    """`dataset_use`: which of the dataset record's training commitments the
    proof opens (each hides the data through one proof; the registry refuses
    a second published proof on the same use). One proof per run: a second
    call is refused (`_opened`). `workers`: processes proving a chunked
    run's chunks side by side (default: `chunked_prover.default_workers`);
    `progress(done, total)`: chunks proven so far (a chunked run only)."""
    from zkaudit.data.dataset import load_dataset
    from zkaudit.hash import commitment as hc
    from zkaudit.statements.training import prover
    from zkaudit.statements.training.protocol import theta_layouts
    from zkaudit.train import randomness, tape
    from zkaudit.train.run import _write_private, load_trace, training_data
    from zkaudit.train.trainer import Semantics

    policy = run.policy
    ddir = run.dataset_dir(dataset_dir)
    _opened(run, ddir, dataset_use)
    data = training_data(policy, ddir)
    record, _, opening = load_dataset(Path(ddir), with_opening=True)
    if not 0 <= dataset_use < len(record.training_commitments):
        raise ZkauditError(f"the dataset record has {len(record.training_commitments)} training commitment(s); "
                           f"use {dataset_use} does not exist",
                           hint="the custodian re-commits with `zkaudit data commit --training-uses K`: each "
                                "training proof opens its own commitment, so the data stays hidden")
    trace = load_trace(run.path / "private" / "trace.npz")
    t = run.tape()
    shape = tape.TapeShape.of(policy)
    if coin_doc.get("run_id") != run.run_id.hex():
        raise ZkauditError("the coin was issued for another run record")
    randomness.check_words_shape(t, shape)
    tc, tdata = tape.commit(t.words, t.salt, shape)  # opens c_R: the same check as the trainer's
    if tape.digest(tc.to_bytes()) != run.tape_commitment:
        raise ZkauditError("the run's private tape does not open its tape commitment c_R (the tape was changed)")
    # The trainer checked the coin's signature; a wrong one only yields a proof the verifier rejects.
    coin = randomness.coin_value(bytes.fromhex(coin_doc["signature"]))
    mask = randomness.mask(coin, run.tape_commitment, policy.digest, shape.num_words)
    words = randomness.masked_words(t.words, mask)[0]
    if not np.array_equal(words.reshape(trace.words.shape), trace.words):
        raise ZkauditError("the run's trace was not made with this coin and tape (retrain the run)")
    salt = hc.fresh_salt()
    layouts = theta_layouts(policy)
    c_theta, salt = hc.commit_weights(layouts, [trace.theta[-1]], salt)
    c_bytes = c_theta.to_bytes()
    st = statement(run, coin_doc, record.doc, c_bytes, dataset_use)
    inp = prover.Inputs(policy=policy, sem=Semantics.of(policy, data.X.shape[0]), statement=st, dataset=record,
                        dataset_use=dataset_use,
                        dataset_opening=opening, tape_words=t.words, tape_seed=t.salt, tape_commitment=tc,
                        tape_data=tdata, mask_words=mask, trace=trace, X=data.X, y=data.y,
                        theta_commitment=c_bytes, theta_salt=salt, theta0=trace.theta[0])
    inp.tape_tables = shape.split(t.words)
    if shape.chunked:
        from zkaudit.statements.training import chunked_prover

        out = chunked_prover.prove(inp, workers, progress)
    else:
        out = prover.prove(inp)
    _record_opening(run, ddir, dataset_use, out)
    _write_private(run.path / "private" / "theta.salt", hc.salt_to_bytes(salt))
    (run.path / "theta.commitment").write_bytes(c_bytes)
    return out

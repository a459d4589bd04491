"""What signers sign to publish the training chain (design/statements.md §5),
one tag per record type, like `records.py` for the rest of the registry.

* A trainer registers a run by signing `training_run(run_id)` under
  TRAINING_RUN; run_id is the canonical digest of run.json, which holds the
  policy digest, the dataset, the tape commitment c_R and the auditor key,
  so the signature covers them all.
* The coin is the auditor's own BLS signature over the run
  (`zkaudit.train.randomness.coin_message`): it is the record, nothing else
  is signed.
* A trainer publishing a training proof signs `training_proof(...)` under
  TRAINING_PROOF; a vendor publishing a link proof from it to one of its
  model versions signs `link_proof(...)` under LINK_PROOF.

Each tag is part of the signed bytes (`encoding.message`), so no signature
moves from one record type to another. Plain values only, so the CLI and the
server build byte-identical statements."""

from __future__ import annotations

from typing import Any

from zkaudit.registry.encoding import message

TRAINING_RUN = "training-run"
TRAINING_PROOF = "training-proof"
LINK_PROOF = "link-proof"


def training_run(*, run_id: str) -> dict[str, Any]:
    return {"run_id": run_id}


def training_run_message(stmt: dict[str, Any]) -> bytes:
    return message(TRAINING_RUN, stmt)


def training_proof(*, proof_digest: str, run_id: str) -> dict[str, Any]:
    """The proof (by SHA-256) and the registered run it is about."""
    return {"proof_digest": proof_digest, "run_id": run_id}


def training_proof_message(stmt: dict[str, Any]) -> bytes:
    return message(TRAINING_PROOF, stmt)


def link_proof(*, proof_digest: str, run_id: str, model: str, version: str) -> dict[str, Any]:
    """The link proof (by SHA-256), the run whose training proof it starts
    from, and the model version whose registered weights it ends at."""
    return {"proof_digest": proof_digest, "run_id": run_id, "model": model, "version": version}


def link_proof_message(stmt: dict[str, Any]) -> bytes:
    return message(LINK_PROOF, stmt)

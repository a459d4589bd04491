"""Helpers shared by the registry tests: compiled-model directories with real
files, and a few cached signing keys (BLS signing costs ~0.3 s, so tests
sign as little as they can)."""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import card_from, publish_local
from zkaudit.registry.keys import KeyPair
from zkaudit.statements.envelope import encode_envelope


def make_model_dir(root: Path, seed: int = 0) -> Path:
    """A compiled-model directory as `zkaudit compile` lays it out."""
    pub, priv = root / "public", root / "private"
    pub.mkdir(parents=True)
    priv.mkdir()
    circuit = b"ZKCIRCUIT\x00" + hashlib.sha256(f"circuit-{seed}".encode()).digest() * 8
    (pub / "circuit.bin").write_bytes(circuit)
    (pub / "weights.commitment").write_bytes(b"ZKCOMMIT" + hashlib.sha256(f"weights-{seed}".encode()).digest())
    summary = {
        "digest": hashlib.sha256(circuit).hexdigest(),
        "inputs": [{"name": "x", "shape": [1, 4], "dtype": "int8"}],
        "outputs": [{"name": "y", "shape": [1, 2], "dtype": "int8"}],
        "ops": {"Gemm": 2, "Relu": 1},
        "fidelity": {"float_accuracy": 0.91, "quantized_accuracy": 0.9, "max_lsb_error": 1},
    }
    (pub / "summary.json").write_text(json.dumps(summary, indent=2))
    (priv / "weights.bin").write_bytes(os.urandom(64))
    return root


class _MemoKeyPair(KeyPair):
    """BLS signing is deterministic, so a signature computed once for a
    message is the signature; remembering it saves ~0.3 s per repeat.
    (Only the signer side is memoised: every verification runs for real.)"""

    @lru_cache(maxsize=None)
    def sign(self, msg: bytes) -> bytes:
        return super().sign(msg)

    @lru_cache(maxsize=None)
    def proof_of_possession(self) -> bytes:
        return super().proof_of_possession()


@lru_cache(maxsize=None)
def key(name: str) -> KeyPair:
    ikm = hashlib.sha256(b"zkaudit-test-key/" + name.encode()).digest()
    from py_ecc.bls import G2ProofOfPossession as bls

    sk = bls.KeyGen(ikm)
    return _MemoKeyPair(name=name, secret_key=sk, public_key=bytes(bls.SkToPk(sk)))


CARD = card_from("triage of chest X-rays (decision support only)", "NIH ChestX-ray14 subset, 2019-2021",
                 {"auroc": 0.91, "sensitivity": 0.88})


def publish(reg, root: Path, name: str, version: str, seed: int = 0, signer: str = "acme"):
    art = read_model_dir(make_model_dir(root / f"{name}-{version}-{seed}", seed))
    return publish_local(reg, key(signer), art, name, version, CARD)


def bad_proofs() -> dict[str, bytes]:
    """Real proof files the verifier must reject, with what each one gets wrong."""
    return {
        "bad magic": b"NOTAPROOF" + bytes(8),
        "truncated": b"ZKAUDIT\x00\x01",
        "unknown statement": encode_envelope("telepathy", b"\x00" * 16),
    }

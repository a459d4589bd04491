"""Helpers shared by the registry tests: compiled-model directories with real
files, and a few cached signing keys (BLS signing costs ~0.3 s, so tests
sign as little as they can)."""

from __future__ import annotations

import contextlib
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


def real_model(root: Path) -> tuple[Path, bytes]:
    """A compiled directory of a small real circuit (one MatMul) and a valid
    proof of one prediction: what a hospital sends to the check endpoint."""
    import numpy as np

    from zkaudit.circuit import CIRCUIT_FILE, SUMMARY_FILE, WEIGHTS_FILE, Circuit, Node, TensorSpec, encode_circuit
    from zkaudit.circuit.weights import Weights
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE
    from zkaudit.statements.inference.prover import commit_weights, prove

    x = TensorSpec("x", (1, 6), -128, 127, 0.5, 0)
    w = TensorSpec("w", (6, 3), -127, 127)
    y = TensorSpec("y", (1, 3), -97536, 97536, 0.25, 0)
    circuit = Circuit("tiny", (x,), (y,), (w,), (Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0,
                                                                      b_zero_point=0),), (y,))
    weights = Weights({"w": np.random.default_rng(1).integers(-127, 128, (6, 3))})
    circuit_bin = encode_circuit(circuit)
    commitment = commit_weights(circuit, weights)[0].to_bytes()
    for rel, data in ((CIRCUIT_FILE, circuit_bin), (WEIGHTS_FILE, weights.encode()), (COMMITMENT_FILE, commitment),
                      (SUMMARY_FILE, json.dumps({"digest": hashlib.sha256(circuit_bin).hexdigest()}).encode())):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    proof = prove(circuit, weights, {"x": np.array([[2, -4, 7, 0, 20, -15]])}, weight_commitment=commitment)
    return root, proof


class RawSql:
    """Direct SQL on a registry database, bypassing the registry: what someone
    with write access to the database (but not the registry key) can do.
    Statements use `?` placeholders on both backends."""

    def __init__(self, url: str):
        from zkaudit.registry import db

        resolved = db.resolve_url(url)
        self.postgres = not db.is_sqlite(resolved)
        if self.postgres:
            import psycopg
            from sqlalchemy.engine import make_url

            u = make_url(resolved)
            self.conn = psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                                        dbname=u.database, autocommit=True, **dict(u.query))
        else:
            import sqlite3

            self.conn = sqlite3.connect(str(db.sqlite_path(resolved)))

    def execute(self, sql: str, params: tuple = ()):
        return self.conn.execute(sql.replace("?", "%s") if self.postgres else sql, params)

    def commit(self) -> None:
        if not self.postgres:
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def copy_registry(src_url: str, dst_url: str) -> None:
    """Copy every row of an initialised registry into a fresh database (the
    schema made by the migrations, as always), ids and all."""
    from sqlalchemy import insert, select, text

    from zkaudit.registry import db
    from zkaudit.registry.models import Base

    src, dst = db.make_engine(db.resolve_url(src_url)), db.make_engine(db.resolve_url(dst_url))
    db.upgrade(dst)
    with src.connect() as r, dst.begin() as w:
        for table in Base.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in r.execute(select(table))]
            if rows:
                w.execute(insert(table), rows)
        if dst.dialect.name == "postgresql":
            # rows inserted with their ids leave PostgreSQL's serial sequences at
            # 1: move each past the copied ids, or the copy's next insert collides
            for table in Base.metadata.sorted_tables:
                for column in table.primary_key.columns:
                    seq = w.execute(text("select pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
                    if seq is not None:
                        w.execute(text(f"select setval('{seq}', coalesce((select max({column.name}) "
                                       f"from {table.name}), 0) + 1, false)"))
    src.dispose()
    dst.dispose()


@contextlib.contextmanager
def known_heads_at(path):
    """ZKAUDIT known-heads file set to `path` for the block, then restored
    (what `Registry.init` and the clients read to pin the first head)."""
    from zkaudit.registry.known_heads import ENV as KNOWN_HEADS_ENV

    old = os.environ.get(KNOWN_HEADS_ENV)
    os.environ[KNOWN_HEADS_ENV] = str(path)
    try:
        yield
    finally:
        if old is None:
            del os.environ[KNOWN_HEADS_ENV]
        else:
            os.environ[KNOWN_HEADS_ENV] = old

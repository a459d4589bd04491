"""The public half of a compiled model directory, as the registry reads it.

    DIR/public/circuit.bin          canonical circuit; sha256 hex = circuit digest
    DIR/public/summary.json         JSON object; its "digest" must equal that digest
    DIR/public/weights.commitment   the weight commitment (opaque bytes; a hashed one
                                    is parsed and checked against the circuit)
    DIR/private/                    never read, never uploaded

Only these three files are opened, so nothing under `private/` can leak into
the registry by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkaudit.errors import ZkauditError
from zkaudit.registry.encoding import sha256_hex
from zkaudit.registry.models import canonical_json

MAX_CIRCUIT_BYTES = 12 * 1024 * 1024
# A tensor-code commitment is a few hundred bytes, a hashed one 91
# (`hash.commitment.MAGIC` + 72): both far below this.
MAX_COMMITMENT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PublicArtifacts:
    circuit_bin: bytes
    summary: dict[str, Any]
    weight_commitment: bytes

    @property
    def circuit_digest(self) -> str:
        return sha256_hex(self.circuit_bin)

    @property
    def weight_commitment_digest(self) -> str:
        return sha256_hex(self.weight_commitment)

    @property
    def summary_json(self) -> str:
        return canonical_json(self.summary)

    def check(self) -> None:
        """Every problem at once, one line."""
        problems = []
        if not self.circuit_bin:
            problems.append("circuit.bin is empty")
        if len(self.circuit_bin) > MAX_CIRCUIT_BYTES:
            problems.append(f"circuit.bin is {len(self.circuit_bin)} bytes (limit {MAX_CIRCUIT_BYTES})")
        if not self.weight_commitment:
            problems.append("weights.commitment is empty")
        if len(self.weight_commitment) > MAX_COMMITMENT_BYTES:
            problems.append(f"weights.commitment is {len(self.weight_commitment)} bytes (limit {MAX_COMMITMENT_BYTES})")
        if self.weight_commitment and len(self.weight_commitment) <= MAX_COMMITMENT_BYTES and self.circuit_bin:
            from zkaudit.registry.weight_commitments import problems_with

            problems += problems_with(self.weight_commitment, self.circuit_bin)
        if not isinstance(self.summary, dict):
            problems.append("summary.json is not a JSON object")
        elif self.summary.get("digest") != self.circuit_digest:
            problems.append(
                f"summary.json digest {self.summary.get('digest')!r} does not match sha256(circuit.bin) {self.circuit_digest}"
            )
        if problems:
            raise ZkauditError("invalid model artifacts: " + "; ".join(problems))


def read_model_dir(path: Path) -> PublicArtifacts:
    pub = Path(path) / "public"
    if not pub.is_dir():
        raise ZkauditError(f"{path} is not a compiled model directory: no public/ folder",
                           hint="write one with `zkaudit compile MODEL.onnx --out DIR`")
    files = {n: pub / n for n in ("circuit.bin", "summary.json", "weights.commitment")}
    missing = [n for n, p in files.items() if not p.is_file()]
    if missing:
        raise ZkauditError(f"{pub} is missing {', '.join(missing)}")
    try:
        summary = json.loads(files["summary.json"].read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ZkauditError(f"{files['summary.json']} is not valid JSON: {exc}") from None
    art = PublicArtifacts(files["circuit.bin"].read_bytes(), summary, files["weights.commitment"].read_bytes())
    art.check()
    return art

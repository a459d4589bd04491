"""Sum-check proof: the wire type and its canonical encoding.

    u32 num_rounds | u8 num_evals | num_rounds * num_evals * Fp2   (g_i(0..d))
    | u32 num_tables | num_tables * Fp2                            (f_i~(r))

Parsing is strict: exact lengths, canonical elements, no trailing bytes.
Shape checks against the expected statement happen in the verifier.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2, exts_from_bytes


@dataclass(frozen=True)
class SumcheckProof:
    round_evals: tuple[tuple[Fp2, ...], ...]  # round i: g_i(0), ..., g_i(d)
    final_values: tuple[Fp2, ...]  # f_j~(r_1..r_n) for each table j

    def to_bytes(self) -> bytes:
        num_evals = len(self.round_evals[0]) if self.round_evals else 0
        if any(len(r) != num_evals for r in self.round_evals):
            raise ValueError("all rounds must have the same number of evaluations")
        parts = [struct.pack("<IB", len(self.round_evals), num_evals)]
        parts += [e.to_bytes() for r in self.round_evals for e in r]
        parts.append(struct.pack("<I", len(self.final_values)))
        parts += [v.to_bytes() for v in self.final_values]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> SumcheckProof:
        proof, used = cls.read(data, 0)
        if used != len(data):
            raise MalformedProof("sum-check proof has trailing bytes", expected=used, got=len(data))
        return proof

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[SumcheckProof, int]:
        """Parse at `offset`; returns the proof and the offset after it (so
        enclosing formats can embed sum-check proofs)."""

        def need(n: int, what: str) -> None:
            if offset + n > len(data):
                raise MalformedProof(f"sum-check proof truncated in {what}", expected=offset + n, got=len(data))

        need(5, "header")
        num_rounds, num_evals = struct.unpack_from("<IB", data, offset)
        offset += 5
        need(num_rounds * num_evals * BYTES_EXT, "round polynomials")
        flat = exts_from_bytes(data, offset, num_rounds * num_evals)
        offset += num_rounds * num_evals * BYTES_EXT
        rounds = [tuple(flat[i * num_evals : (i + 1) * num_evals]) for i in range(num_rounds)]
        need(4, "final value count")
        (num_tables,) = struct.unpack_from("<I", data, offset)
        offset += 4
        need(num_tables * BYTES_EXT, "final values")
        finals = exts_from_bytes(data, offset, num_tables)
        offset += num_tables * BYTES_EXT
        return cls(tuple(rounds), tuple(finals)), offset

"""Sum-check proof: the wire type and its canonical encoding.

    u32 num_rounds | u8 num_evals | num_rounds * num_evals * Fp2   (g_i(0..d))
    | u32 num_tables | num_tables * Fp2                            (f_i~(r))

Parsing is strict: exact lengths, canonical elements, no trailing bytes,
and exactly one encoding per proof:

* every count is bounded before anything is allocated, by the protocol's
  maxima (`MAX_ROUNDS`, `MAX_EVALS`, `MAX_FINAL_VALUES`) and by the bytes
  actually present, so parsing costs time and memory linear in the input;
* a proof with rounds has 2 <= num_evals <= MAX_DEGREE + 1 (a round
  polynomial of degree d >= 1 is sent as d + 1 values); a zero-round proof
  carries num_evals = 0 (any other byte there would be a second encoding of
  the same proof);
* a proof carries at least one final value (a sum-check has a table).

A caller that knows the shape it expects (rounds, evaluations per round,
tables) passes it to `read`, which then rejects a mismatch before reading
any element. The verifier checks the shape against the statement again.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2, exts_from_bytes
from zkaudit.sumcheck.claim import MAX_DEGREE

# Protocol maxima. No table in zkaudit has more than 2^40 entries (the PCS
# caps a codeword at 2^32, memory far earlier); the PCS batching sum-check
# has two tables per claim and at most 2^16 claims, plus mask tables.
MAX_ROUNDS = 40
MAX_EVALS = MAX_DEGREE + 1
MAX_FINAL_VALUES = (1 << 17) + 64


ZK_FLAG = 0x80  # in the evaluations byte: a zero-knowledge run (`zkaudit.sumcheck.zk`)


@dataclass(frozen=True)
class SumcheckProof:
    round_evals: tuple[tuple[Fp2, ...], ...]  # round i: g_i(0), ..., g_i(d)
    final_values: tuple[Fp2, ...]  # f_j~(r_1..r_n) for each table j (padded in a zero-knowledge run)
    # A zero-knowledge run: its Libra mask's cube sum G. Its last round has
    # 2d + 1 values (the padded tables are quadratic in the last variable).
    mask_sum: Fp2 | None = None

    @property
    def zero_knowledge(self) -> bool:
        return self.mask_sum is not None

    def to_bytes(self) -> bytes:
        num_evals = len(self.round_evals[0]) if self.round_evals else 0
        plain = self.round_evals
        if self.zero_knowledge:
            if not self.round_evals:
                raise ValueError("a zero-knowledge sum-check has at least one round")
            num_evals = (len(self.round_evals[-1]) + 1) // 2
            plain = self.round_evals[:-1]
            if len(self.round_evals[-1]) != 2 * num_evals - 1:
                raise ValueError("a zero-knowledge last round has 2d + 1 evaluations")
        if any(len(r) != num_evals for r in plain):
            raise ValueError("all rounds must have the same number of evaluations")
        flag = ZK_FLAG if self.zero_knowledge else 0
        parts = [struct.pack("<IB", len(self.round_evals), num_evals | flag)]
        if self.zero_knowledge:
            parts.append(self.mask_sum.to_bytes())
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
    def read(
        cls,
        data: bytes,
        offset: int,
        *,
        num_rounds: int | None = None,
        num_evals: int | None = None,
        num_tables: int | None = None,
    ) -> tuple[SumcheckProof, int]:
        """Parse at `offset`; returns the proof and the offset after it (so
        enclosing formats can embed sum-check proofs). `num_rounds`,
        `num_evals`, `num_tables`, when given, are the shape the caller
        expects; a different one is rejected before any element is read."""

        def need(n: int, what: str) -> None:
            if offset + n > len(data):
                raise MalformedProof(f"sum-check proof truncated in {what}", expected=offset + n, got=len(data))

        def expect(name: str, wanted: int | None, got: int) -> None:
            if wanted is not None and got != wanted:
                raise MalformedProof(f"sum-check proof has the wrong {name}", expected=wanted, got=got)

        need(5, "header")
        rounds_n, evals_n = struct.unpack_from("<IB", data, offset)
        offset += 5
        zk = bool(evals_n & ZK_FLAG)
        evals_n &= ~ZK_FLAG
        mask_sum = None
        if zk:
            if rounds_n == 0:
                raise MalformedProof("a zero-round sum-check proof cannot be a zero-knowledge one", expected=1, got=0)
            need(BYTES_EXT, "mask sum")
            (mask_sum,) = exts_from_bytes(data, offset, 1)
            offset += BYTES_EXT
        if rounds_n > MAX_ROUNDS:
            raise MalformedProof("sum-check proof has more rounds than any table allows", expected=MAX_ROUNDS,
                                 got=rounds_n)
        if rounds_n == 0 and evals_n != 0:
            raise MalformedProof("a zero-round sum-check proof must say 0 evaluations per round", expected=0,
                                 got=evals_n)
        if rounds_n > 0 and not 2 <= evals_n <= MAX_EVALS:
            raise MalformedProof("evaluations per round outside 2..MAX_DEGREE + 1", expected=MAX_EVALS, got=evals_n)
        expect("round count", num_rounds, rounds_n)
        if rounds_n > 0:
            expect("evaluations per round", num_evals, evals_n)
        total = rounds_n * evals_n + (evals_n - 1 if zk else 0)  # a zero-knowledge last round: 2d + 1 values
        need(total * BYTES_EXT, "round polynomials")
        flat = exts_from_bytes(data, offset, total)
        offset += total * BYTES_EXT
        rounds = [tuple(flat[i * evals_n : (i + 1) * evals_n]) for i in range(rounds_n - (1 if zk else 0))]
        if zk:
            rounds.append(tuple(flat[(rounds_n - 1) * evals_n :]))
        need(4, "final value count")
        (tables_n,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if not 1 <= tables_n <= MAX_FINAL_VALUES:
            raise MalformedProof("final value count outside 1..MAX_FINAL_VALUES", expected=MAX_FINAL_VALUES,
                                 got=tables_n)
        expect("final value count", num_tables, tables_n)
        need(tables_n * BYTES_EXT, "final values")
        finals = exts_from_bytes(data, offset, tables_n)
        offset += tables_n * BYTES_EXT
        return cls(tuple(rounds), tuple(finals), mask_sum), offset


@dataclass(frozen=True)
class MaskedSumcheckProof:
    """A Libra-masked sum-check (`zkaudit.sumcheck.mask`):

        Fp2 G (the mask's cube sum) | SumcheckProof (of f + rho g) | Fp2 g(r)
    """

    mask_sum: Fp2
    inner: SumcheckProof
    mask_value: Fp2

    def to_bytes(self) -> bytes:
        return self.mask_sum.to_bytes() + self.inner.to_bytes() + self.mask_value.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> MaskedSumcheckProof:
        proof, used = cls.read(data, 0)
        if used != len(data):
            raise MalformedProof("masked sum-check proof has trailing bytes", expected=used, got=len(data))
        return proof

    @classmethod
    def read(cls, data: bytes, offset: int, **shape) -> tuple[MaskedSumcheckProof, int]:
        if offset + BYTES_EXT > len(data):
            raise MalformedProof("masked sum-check proof truncated in the mask sum", expected=offset + BYTES_EXT,
                                 got=len(data))
        (mask_sum,) = exts_from_bytes(data, offset, 1)
        inner, offset = SumcheckProof.read(data, offset + BYTES_EXT, **shape)
        if offset + BYTES_EXT > len(data):
            raise MalformedProof("masked sum-check proof truncated in the mask value", expected=offset + BYTES_EXT,
                                 got=len(data))
        (mask_value,) = exts_from_bytes(data, offset, 1)
        return cls(mask_sum, inner, mask_value), offset + BYTES_EXT

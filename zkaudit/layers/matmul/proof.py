"""Wire type of one MatMul reduction:
    u8 has_bias | [Fp2 bias~(r_n)] | sum-check proof."""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.sumcheck.proof import SumcheckProof


@dataclass(frozen=True)
class MatMulShape:
    """Everything public about one MatMul node that its proof depends on."""

    rows: int  # M
    inner: int  # K
    cols: int  # N
    a_zero_point: int
    b_zero_point: int
    has_bias: bool


@dataclass(frozen=True)
class MatMulProof:
    bias_value: Fp2 | None
    sumcheck: SumcheckProof

    def to_bytes(self) -> bytes:
        head = b"\x00" if self.bias_value is None else b"\x01" + self.bias_value.to_bytes()
        return head + self.sumcheck.to_bytes()

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[MatMulProof, int]:
        if offset >= len(data):
            raise MalformedProof("matmul proof truncated at its header", expected=offset + 1, got=len(data))
        flag = data[offset]
        offset += 1
        if flag not in (0, 1):
            raise MalformedProof("matmul proof has a bad bias flag", expected="0 or 1", got=flag)
        bias = None
        if flag:
            if offset + BYTES_EXT > len(data):
                raise MalformedProof("matmul proof truncated in its bias value", expected=offset + BYTES_EXT, got=len(data))
            bias = Fp2.from_bytes(data[offset : offset + BYTES_EXT])
            offset += BYTES_EXT
        sc, offset = SumcheckProof.read(data, offset)
        return cls(bias, sc), offset

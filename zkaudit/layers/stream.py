"""Layer proofs travel as one byte stream in walk order; the verifier reads
them back with each wire type's strict `read(data, offset)`."""

from __future__ import annotations

from zkaudit.errors import MalformedProof


class ProofReader:
    def __init__(self, data: bytes):
        self.data = data
        self.offset = 0

    def read(self, wire_type):
        obj, self.offset = wire_type.read(self.data, self.offset)
        return obj

    def read_flag(self, what: str) -> bool:
        if self.offset >= len(self.data):
            raise MalformedProof(f"layer proofs truncated at the {what} flag", expected=self.offset + 1, got=len(self.data))
        flag = self.data[self.offset]
        self.offset += 1
        if flag not in (0, 1):
            raise MalformedProof(f"bad {what} flag", expected="0 or 1", got=flag)
        return bool(flag)

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise MalformedProof("layer proofs have trailing bytes", expected=self.offset, got=len(self.data))

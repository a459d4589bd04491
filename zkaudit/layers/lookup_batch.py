"""One LogUp argument for the range checks of every constraint system in a proof.

Every Clip, Relu and Requantize node proves its limbs in range by a LogUp
argument (`layers.clamp.system`). Run per node, each argument is a handful of
fractional-sum GKR trees of its own, and a tree of n leaf variables is n
sum-checks of 1..n rounds: a two-layer transformer's 50 Requantize nodes made
337 trees, whose rounds (Python work on both sides, each round a few
transcript calls and a mask in a zero-knowledge run) were most of its proving
time and of every CNN's verification.

Nothing ties a node's lookup to its place in the walk. The looked-up limbs
and the multiplicities are committed advice, bound by the statement before
any challenge, and the lookup's claims land on that advice only (never on a
tensor the walk carries further down). So, on both sides, a system met in
the walk only registers its lookup here (`LookupBatch.add`, in walk order),
runs its zero-check, and its proof's lookup part is empty; after the walk one
LogUp argument proves the union of the registered instances (`union`), and
its claims go back to the registered advice names (`claims`).

The union instance lists every registered system's tables in order, then
every lookup with its table index shifted by the tables before it. A range
table of w bits appears once per system that uses it: the tag (the table's
index, folded into each row) keeps each system's multiplicities its own, so
the committed advice is exactly that of the per-node arguments. Soundness is
that of one LogUp argument over the union (`lookup.protocol.soundness`):
alpha and beta together (#leaves * width) / p^2, where #leaves is the sum of
the per-node leaves, and each GKR layer's, of which there are far fewer
than the per-node arguments had.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zkaudit.errors import MalformedProof
from zkaudit.layers.claim import TensorClaim
from zkaudit.lookup.claim import LookupClaims
from zkaudit.lookup.protocol import Lookup, LookupInstance


@dataclass(frozen=True)
class Registered:
    where: str
    instance: LookupInstance
    columns: tuple[tuple[str, ...], ...]  # per lookup, the advice tensor of each of its columns
    mults: tuple[str, ...]  # per table, the advice tensor of its multiplicities


@dataclass
class LookupBatch:
    """The lookups registered so far, in walk order (both sides build the
    same list from the public circuit)."""

    items: list[Registered] = field(default_factory=list)

    def add(self, where: str, instance: LookupInstance, columns, mults) -> None:
        columns = tuple(tuple(c) for c in columns)
        if len(columns) != len(instance.lookups) or len(mults) != len(instance.tables):
            raise ValueError(f"{where}: one name per lookup column and per table's multiplicities")
        for lk, cols in zip(instance.lookups, columns):
            if len(cols) != instance.tables[lk.table].width:
                raise ValueError(f"{where}: a lookup names {len(cols)} columns, its table has "
                                 f"{instance.tables[lk.table].width}")
        self.items.append(Registered(where, instance, columns, tuple(mults)))

    def union(self) -> LookupInstance | None:
        if not self.items:
            return None
        tables, lookups = [], []
        for item in self.items:
            shift = len(tables)
            tables += item.instance.tables
            lookups += [Lookup(lk.table + shift, lk.num_rows) for lk in item.instance.lookups]
        return LookupInstance(tuple(tables), tuple(lookups))

    def column_names(self) -> list[tuple[str, ...]]:
        return [cols for item in self.items for cols in item.columns]

    def mult_names(self) -> list[str]:
        return [m for item in self.items for m in item.mults]

    def claims(self, claims: LookupClaims) -> list[TensorClaim]:
        """The union argument's claims, on the registered advice names."""
        names, mults = self.column_names(), self.mult_names()
        if len(claims.columns) != len(names) or len(claims.multiplicities) != len(mults):
            raise MalformedProof("the batched lookup's claims do not match the registered lookups",
                                 where="inference.lookups", expected=(len(names), len(mults)),
                                 got=(len(claims.columns), len(claims.multiplicities)))
        out = []
        for cols, cl in zip(names, claims.columns):
            out += [TensorClaim(name, tuple(c.point), c.value) for name, c in zip(cols, cl, strict=True)]
        out += [TensorClaim(name, tuple(c.point), c.value) for name, c in zip(mults, claims.multiplicities)]
        return out


@dataclass(frozen=True)
class BatchSection:
    """Wire: u32 n | n bytes of the union's LogUp proof (n = 0: nothing was
    registered; then no proof)."""

    proof: object  # LookupProof | None

    def to_bytes(self) -> bytes:
        import struct

        data = b"" if self.proof is None else self.proof.to_bytes()
        return struct.pack("<I", len(data)) + data

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[BatchSection, int]:
        import struct

        from zkaudit.lookup.proof import LookupProof

        if offset + 4 > len(data):
            raise MalformedProof("batched lookup truncated (length)", where="inference.lookups",
                                 expected=offset + 4, got=len(data))
        (n,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if offset + n > len(data):
            raise MalformedProof("batched lookup truncated", where="inference.lookups", expected=offset + n,
                                 got=len(data))
        proof = LookupProof.from_bytes(data[offset : offset + n]) if n else None
        return cls(proof), offset + n


def verify(batch: LookupBatch, reader, transcript) -> list[TensorClaim]:
    """The union argument after the walk (the prover's side is
    `lookup_batch_prover.prove`)."""
    from zkaudit.lookup import verifier as lookup_verifier

    section = reader.read(BatchSection)
    instance = batch.union()
    if (instance is None) != (section.proof is None):
        raise MalformedProof("batched lookup present/absent contrary to the circuit", where="inference.lookups",
                             expected=instance is not None, got=section.proof is not None)
    if instance is None:
        return []
    return batch.claims(lookup_verifier.verify(instance, section.proof, transcript))

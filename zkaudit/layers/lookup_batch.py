"""One LogUp argument for the range checks of every constraint system in a proof
(and, registered last by the inference statement, its committed tensors'
range checks: `statements.inference.committed_range.register`).

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
    columns: tuple[tuple[str, ...], ...] | None  # per lookup, the advice tensor of each of its columns
    mults: tuple[str, ...]  # per table, the advice tensor of its multiplicities
    # A lookup whose columns are not advice tensors as they are (an affine
    # function of some, say) gives instead: the column arrays (prover) and
    # the map from its claims to claims on advice (both sides).
    arrays: object = None  # tables -> per lookup, its column arrays
    to_claims: object = None  # LookupClaims -> list[TensorClaim]


@dataclass
class LookupBatch:
    """The lookups registered so far, in walk order (both sides build the
    same list from the public circuit). `advice`: the statement's committed
    advice tensors, for a layer to check that every claim its lookup makes
    lands on one (`defers`)."""

    advice: frozenset = frozenset()
    items: list[Registered] = field(default_factory=list)

    def defers(self, *names: str) -> bool:
        """Whether a lookup whose claims land on `names` may wait for the
        batch: only when each is committed advice (a claim on a tensor the
        walk carries further down would arrive after the walk has passed it)."""
        return all(n in self.advice for n in names)

    def add(self, where: str, instance: LookupInstance, columns, mults) -> None:
        columns = tuple(tuple(c) for c in columns)
        if len(columns) != len(instance.lookups) or len(mults) != len(instance.tables):
            raise ValueError(f"{where}: one name per lookup column and per table's multiplicities")
        for lk, cols in zip(instance.lookups, columns):
            if len(cols) != instance.tables[lk.table].width:
                raise ValueError(f"{where}: a lookup names {len(cols)} columns, its table has "
                                 f"{instance.tables[lk.table].width}")
        self.items.append(Registered(where, instance, columns, tuple(mults)))

    def add_mapped(self, where: str, instance: LookupInstance, mults, to_claims, arrays=None) -> None:
        """A lookup of computed columns: `arrays(tables)` gives them (prover
        side), `to_claims(claims)` maps the argument's claims on them to
        claims on advice (both sides)."""
        if len(mults) != len(instance.tables):
            raise ValueError(f"{where}: one name per table's multiplicities")
        self.items.append(Registered(where, instance, None, tuple(mults), arrays, to_claims))

    def union(self) -> LookupInstance | None:
        if not self.items:
            return None
        tables, lookups = [], []
        for item in self.items:
            shift = len(tables)
            tables += item.instance.tables
            lookups += [Lookup(lk.table + shift, lk.num_rows) for lk in item.instance.lookups]
        return LookupInstance(tuple(tables), tuple(lookups))

    def column_arrays(self, tables) -> list:
        """Per lookup of the union, its column arrays (prover side)."""
        out = []
        for item in self.items:
            if item.columns is None:
                out += item.arrays(tables)
            else:
                out += [[tables[name] for name in cols] for cols in item.columns]
        return out

    def mult_names(self) -> list[str]:
        return [m for item in self.items for m in item.mults]

    def claims(self, claims: LookupClaims) -> list[TensorClaim]:
        """The union argument's claims, on the registered advice names."""
        num_lookups = sum(len(item.instance.lookups) for item in self.items)
        mults = self.mult_names()
        if len(claims.columns) != num_lookups or len(claims.multiplicities) != len(mults):
            raise MalformedProof("the batched lookup's claims do not match the registered lookups",
                                 where="inference.lookups", expected=(num_lookups, len(mults)),
                                 got=(len(claims.columns), len(claims.multiplicities)))
        out, at_l, at_t = [], 0, 0
        for item in self.items:
            nl, nt = len(item.instance.lookups), len(item.instance.tables)
            cols, ms = claims.columns[at_l : at_l + nl], claims.multiplicities[at_t : at_t + nt]
            at_l, at_t = at_l + nl, at_t + nt
            if item.columns is None:
                out += item.to_claims(LookupClaims(tuple(cols), tuple(ms)))
                continue
            for names, cl in zip(item.columns, cols):
                out += [TensorClaim(name, tuple(c.point), c.value) for name, c in zip(names, cl, strict=True)]
            out += [TensorClaim(name, tuple(c.point), c.value) for name, c in zip(item.mults, ms)]
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

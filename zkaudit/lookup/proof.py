"""LogUp-GKR proof: wire type and canonical encoding.

    magic 'ZKLU' | u8 version | u32 num_tables | num_tables * 32-byte digest
    | u32 num_trees | per tree: Fp2 p_t | Fp2 q_t | u32 num_layers | num_layers * SumcheckProof
    | u32 num_lookups | per lookup: u8 width | width * Fp2   (f_c~ at the leaf point)
    | u32 num_tables  | num_tables * Fp2                    (m~ at the leaf point)

Parsing is strict (exact lengths, canonical elements, no trailing bytes);
shape checks against the instance happen in the verifier.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.sumcheck.proof import SumcheckProof

MAGIC = b"ZKLU"
FORMAT_VERSION = 1
ZK_VERSION = 3  # a zero-knowledge proof: roots padded, the root tree after the values, then the trees' layers
# proven in lock step (`protocol.py`): each tree's own layer list is empty
# (2: trees proven one by one; no longer made or accepted)
DIGEST_BYTES = 32
_MIN_SUMCHECK = 9  # an empty sum-check: u32 rounds, u8 evals, u32 finals
_MIN_TREE = 2 * BYTES_EXT + 4  # (p_t, q_t) and a layer count


@dataclass(frozen=True)
class LookupProof:
    table_digests: tuple[bytes, ...]
    roots: tuple[tuple[Fp2, Fp2], ...]  # per tree (p_t, q_t)
    layers: tuple[tuple[SumcheckProof, ...], ...]  # per tree; layer k = 1..n reduces layer k-1 to k
    column_values: tuple[tuple[Fp2, ...], ...]  # per lookup, per column
    multiplicity_values: tuple[Fp2, ...]  # per table
    root_q: Fp2 | None = None  # zero-knowledge: the padded denominator of the roots' sum
    root_layers: tuple[SumcheckProof, ...] = ()  # zero-knowledge: the root tree's GKR layers
    joint_layers: tuple[SumcheckProof, ...] = ()  # zero-knowledge: layer k of every tree, in lock step

    def to_bytes(self) -> bytes:
        version = FORMAT_VERSION if self.root_q is None else ZK_VERSION
        out = [MAGIC, bytes([version]), struct.pack("<I", len(self.table_digests))]
        out += list(self.table_digests)
        if len(self.roots) != len(self.layers):
            raise ValueError("one root per tree")
        out.append(struct.pack("<I", len(self.roots)))
        for (p, q), layers in zip(self.roots, self.layers):
            out += [p.to_bytes(), q.to_bytes(), struct.pack("<I", len(layers))]
            out += [layer.to_bytes() for layer in layers]
        out.append(struct.pack("<I", len(self.column_values)))
        for vals in self.column_values:
            out.append(bytes([len(vals)]))
            out += [v.to_bytes() for v in vals]
        out.append(struct.pack("<I", len(self.multiplicity_values)))
        out += [v.to_bytes() for v in self.multiplicity_values]
        if self.root_q is not None:
            out += [self.root_q.to_bytes(), struct.pack("<I", len(self.root_layers))]
            out += [layer.to_bytes() for layer in self.root_layers]
            out.append(struct.pack("<I", len(self.joint_layers)))
            out += [layer.to_bytes() for layer in self.joint_layers]
        elif self.joint_layers:
            raise ValueError("lock-step layers belong to a zero-knowledge proof")
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> LookupProof:
        r = _Reader(data)
        if r.take(4, "magic") != MAGIC:
            raise MalformedProof("not a lookup proof (bad magic)")
        version = r.take(1, "version")[0]
        if version not in (FORMAT_VERSION, ZK_VERSION):
            raise MalformedProof("unsupported lookup proof version", expected=(FORMAT_VERSION, ZK_VERSION), got=version)
        digests = tuple(r.take(DIGEST_BYTES, "table digest") for _ in range(r.u32("table count", DIGEST_BYTES)))
        roots, layers = [], []
        for _ in range(r.u32("tree count", _MIN_TREE)):
            roots.append((r.ext(), r.ext()))
            tree = []
            for _ in range(r.u32("layer count", _MIN_SUMCHECK)):
                proof, r.pos = SumcheckProof.read(data, r.pos)
                tree.append(proof)
            layers.append(tuple(tree))
        cols = []
        for _ in range(r.u32("lookup count", 1)):
            width = r.take(1, "width")[0]
            if width * BYTES_EXT > r.left:
                raise MalformedProof("lookup proof truncated in column values", expected=r.pos + width * BYTES_EXT,
                                     got=len(data))
            cols.append(tuple(r.ext() for _ in range(width)))
        mults = tuple(r.ext() for _ in range(r.u32("multiplicity count", BYTES_EXT)))
        root_q, root_layers, joint = None, [], []
        if version == ZK_VERSION:
            root_q = r.ext()
            for _ in range(r.u32("root tree layer count", _MIN_SUMCHECK)):
                proof, r.pos = SumcheckProof.read(data, r.pos)
                root_layers.append(proof)
            for _ in range(r.u32("lock-step layer count", _MIN_SUMCHECK)):
                proof, r.pos = SumcheckProof.read(data, r.pos)
                joint.append(proof)
        if r.pos != len(data):
            raise MalformedProof("lookup proof has trailing bytes", expected=r.pos, got=len(data))
        return cls(digests, tuple(roots), tuple(layers), tuple(cols), mults, root_q, tuple(root_layers), tuple(joint))


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise MalformedProof(f"lookup proof truncated in {what}", expected=self.pos + n, got=len(self.data))
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def u32(self, what: str, item_bytes: int) -> int:
        """A count of items that take at least `item_bytes` each: refused
        unless the bytes left can hold them, so no loop or allocation runs
        ahead of the input (parse cost stays linear in its length)."""
        n = struct.unpack("<I", self.take(4, what))[0]
        if n * item_bytes > self.left:
            raise MalformedProof(f"implausible {what}: more items than the bytes left can hold",
                                 expected=f"<= {self.left // item_bytes}", got=n)
        return n

    def ext(self) -> Fp2:
        return Fp2.from_bytes(self.take(BYTES_EXT, "field element"))

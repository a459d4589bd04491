"""LogUp with numerators against a committed third-party table: what prover
and verifier share (statement, layout, proof format).

Relation.  Looked-up rows f_i (w columns, i < 2^n_f) carry a numerator
e_i (e.g. a dataset's `valid` column); the table has w committed columns
t_j of which the first `num_rows` rows are real (j < 2^n_t). For random
alpha, beta:

    sum_i e_i / (alpha - F_i)  -  sum_j m_j / (alpha - T_j)  =  0,
    F_i = sum_c beta^c f_{i,c} + beta^w * 1,
    T_j = sum_c beta^c t_{j,c} + beta^w * ind_{[0, num_rows)}(j).

The tag beta^w marks a table row as real: a looked-up row carries tag 1,
a padding row of the table tag 0, so no looked-up row can match padding,
and a multiplicity on a padding row leaves a pole nothing cancels. When the
looked-up values are distinct rows of the table and e_i in {0, 1} with
2^n_f < p, m_j is exactly the number of i with e_i = 1 and f_i = t_j
(Haboeck, "Multivariate lookups based on logarithmic derivatives").

Leaves.  Two segments: the lookup (p = e_i, q = alpha - F_i) and the table
(p = -m_j, q = alpha - T_j), packed into fractional-sum GKR trees exactly
as in `protocol.py` (sizes descending, one tree per set bit of the total).
Unlike the public tables of `protocol.py`, *every* leaf input is a claim
the caller discharges: f_c~, e~ at the lookup's point, t_c~ and m~ at the
table's point (against the dataset's, the table's and the multiplicities'
commitments). The verifier computes only ind~ and the tags itself.

Zero knowledge.  When the transcript carries a zero-knowledge session
(`sumcheck.zk`), the run is the one `protocol.py` describes for public
tables: the trees' roots are sent padded and their sum is proven zero by
one more fractional-sum GKR over the roots (`root_tree_leaves_check`);
every GKR layer's sum-check is masked; every leaf value (f_c~, e~, t_c~,
m~) is sent padded, so the claims handed back are `Hidden`, and the leaf
checks are deferred to the bank's opening (`leaf_sums` is linear in those
values). The proof then carries root_q and the root tree's layers; a plain
run carries neither (version 1). A zero-knowledge run proves its trees
either one after the other (version 2, each tree's layers after its root)
or in lock step (version 3, `gkr.prove_joint` as in `protocol.py`: layer k
of every tree at least k deep in one sum-check, so a lookup of 2^11 rows
into a 2^11-row table runs 11 layer sum-checks instead of 22). Version 3
is what the provers make; version 2 remains for a prover with its own
per-tree layer prover (the consent prover's sparse table tree). The
verifier takes either: each is sound on its own, and version 3 absorbs its
own label before the first tree challenge, so the two runs' challenges are
never the same.

Soundness: the LogUp identity at (alpha, beta) costs (#leaves * (w + 1)) / p^2
(Schwartz-Zippel over the pair, as in `protocol.soundness`); each GKR layer
the same as there.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.constants import EXT_BITS
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.lookup.proof import _Reader
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

LABEL_INSTANCE = b"lookup/committed-table/instance"
LABEL_BETA = b"lookup/committed-table/beta"
LABEL_ALPHA = b"lookup/committed-table/alpha"
LABEL_VALUES = b"lookup/committed-table/leaf-values"

LABEL_JOINT = b"lookup/committed-table/trees-in-lock-step"

MAGIC = b"ZKCT"
FORMAT_VERSION = 1
ZK_VERSION = 2
JOINT_VERSION = 3
_MIN_SUMCHECK = 9


@dataclass(frozen=True)
class CommittedTableInstance:
    """Public shape: `width` columns, 2^lookup_vars looked-up rows, a table
    of 2^table_vars rows of which `table_rows` are real."""

    width: int
    lookup_vars: int
    table_vars: int
    table_rows: int

    def __post_init__(self):
        if not 1 <= self.width <= 64:  # a training fetch reads a whole record: index, features, label
            raise ValueError(f"width must be in 1..64, got {self.width}")
        if not 0 <= self.lookup_vars <= 40 or not 0 <= self.table_vars <= 40:
            raise ValueError("lookup_vars and table_vars must be in 0..40")
        if not 1 <= self.table_rows <= 1 << self.table_vars:
            raise ValueError(f"table_rows must be in 1..2^{self.table_vars}, got {self.table_rows}")

    def encode(self) -> bytes:
        return struct.pack("<BBBQ", self.width, self.lookup_vars, self.table_vars, self.table_rows)

    def absorb(self, transcript: Transcript) -> None:
        transcript.absorb_bytes(LABEL_INSTANCE, self.encode())

    def layout(self) -> tuple[tuple[int, ...], tuple[tuple[str, int, int, int], ...]]:
        """(leaf variables of each tree, segments (kind, num_vars, tree, offset))."""
        segs = sorted([("lookup", self.lookup_vars), ("table", self.table_vars)], key=lambda s: -s[1])
        total = sum(1 << nv for _, nv in segs)
        tree_vars = tuple(b for b in range(total.bit_length() - 1, -1, -1) if total >> b & 1)
        out, tree, offset = [], 0, 0
        for kind, nv in segs:
            out.append((kind, nv, tree, offset))
            offset += 1 << nv
            if offset == 1 << tree_vars[tree]:
                tree, offset = tree + 1, 0
        return tree_vars, tuple(out)

    def soundness_log2(self) -> float:
        """log2 of the LogUp identity's error at (alpha, beta)."""
        leaves = (1 << self.lookup_vars) + (1 << self.table_vars)
        return math.log2(leaves) + math.log2(self.width + 1) - EXT_BITS


def combiners(beta: Fp2, width: int) -> list[Fp2]:
    """beta^0 .. beta^width: column c gets beta^c, the real-row tag beta^width."""
    out = [Fp2(1)]
    for _ in range(width):
        out.append(out[-1] * beta)
    return out


def leaf_sums(instance: CommittedTableInstance, ends, lookup_values, numerator, table_values, multiplicity,
              alpha, beta):
    """(p~, q~) of every tree's leaves at its GKR end point (ends[t][0]), from
    the leaf values and the verifier's own ind~ and tags; also each segment's
    point. Linear in the leaf values, so it holds for `Hidden` ones too (the
    Hidden operand is kept on the left of every product and sum)."""
    from zkaudit.poly.mle import eq_bits, prefix_indicator

    tree_vars, segments = instance.layout()
    w = instance.width
    comb = combiners(beta, w)
    p_leaf: list = [Fp2(0)] * len(tree_vars)
    q_leaf: list = [Fp2(0)] * len(tree_vars)
    points = {}
    for kind, nv, tree, offset in segments:
        point = ends[tree][0]
        cut = tree_vars[tree] - nv
        hi, lo = point[:cut], point[cut:]
        points[kind] = tuple(lo)
        sel = eq_bits(offset >> nv, hi)
        if kind == "lookup":
            num, vals, tag = numerator, lookup_values, Fp2(1)
        else:
            num, vals = -multiplicity, table_values
            tag = prefix_indicator(instance.table_rows, lo)
        den = alpha - comb[w] * tag
        for c, v in enumerate(vals):
            den = -(v * comb[c]) + den
        p_leaf[tree] = num * sel + p_leaf[tree]
        q_leaf[tree] = den * sel + q_leaf[tree]
    return p_leaf, q_leaf, points


@dataclass(frozen=True)
class CommittedTableProof:
    roots: tuple[tuple[Fp2, Fp2], ...]  # zero-knowledge: padded
    layers: tuple[tuple[SumcheckProof, ...], ...]
    lookup_values: tuple[Fp2, ...]  # f_c~(r_f) per column (zero-knowledge: padded, as every value below)
    numerator_value: Fp2  # e~(r_f)
    table_values: tuple[Fp2, ...]  # t_c~(r_t) per column
    multiplicity_value: Fp2  # m~(r_t)
    root_q: Fp2 | None = None  # zero-knowledge: the padded denominator of the roots' sum
    root_layers: tuple[SumcheckProof, ...] = ()  # zero-knowledge: the GKR over the roots
    # version 3: the trees' layers in lock step (each tree's own `layers` then empty)
    joint_layers: tuple[SumcheckProof, ...] | None = None

    @property
    def zero_knowledge(self) -> bool:
        return self.root_q is not None

    @property
    def joint(self) -> bool:
        return self.joint_layers is not None

    def to_bytes(self) -> bytes:
        if self.joint and (not self.zero_knowledge or any(self.layers)):
            raise ValueError("trees in lock step are a zero-knowledge run's, with no per-tree layers")
        version = (JOINT_VERSION if self.joint else ZK_VERSION) if self.zero_knowledge else FORMAT_VERSION
        out = [MAGIC, bytes([version]), struct.pack("<I", len(self.roots))]
        for (p, q), layers in zip(self.roots, self.layers, strict=True):
            out += [p.to_bytes(), q.to_bytes(), struct.pack("<I", len(layers))]
            out += [layer.to_bytes() for layer in layers]
        out.append(bytes([len(self.lookup_values)]))
        out += [v.to_bytes() for v in self.lookup_values]
        out.append(self.numerator_value.to_bytes())
        out.append(bytes([len(self.table_values)]))
        out += [v.to_bytes() for v in self.table_values]
        out.append(self.multiplicity_value.to_bytes())
        if self.zero_knowledge:
            out += [self.root_q.to_bytes(), struct.pack("<I", len(self.root_layers))]
            out += [layer.to_bytes() for layer in self.root_layers]
        if self.joint:
            out.append(struct.pack("<I", len(self.joint_layers)))
            out += [layer.to_bytes() for layer in self.joint_layers]
        return b"".join(out)

    @classmethod
    def read(cls, data: bytes, pos: int = 0) -> tuple[CommittedTableProof, int]:
        """Parse one proof starting at `pos`; returns it and the end offset."""
        r = _Reader(data)
        r.pos = pos
        if r.take(4, "magic") != MAGIC:
            raise MalformedProof("not a committed-table lookup proof (bad magic)", where="lookup/committed-table")
        version = r.take(1, "version")[0]
        if version not in (FORMAT_VERSION, ZK_VERSION, JOINT_VERSION):
            raise MalformedProof("unsupported committed-table lookup version", where="lookup/committed-table",
                                 expected=(FORMAT_VERSION, ZK_VERSION, JOINT_VERSION), got=version)
        roots, layers = [], []
        for _ in range(r.u32("tree count", 2 * BYTES_EXT + 4)):
            roots.append((r.ext(), r.ext()))
            tree = []
            for _ in range(r.u32("layer count", _MIN_SUMCHECK)):
                proof, r.pos = SumcheckProof.read(data, r.pos)
                tree.append(proof)
            layers.append(tuple(tree))
        fw = r.take(1, "width")[0]
        fvals = tuple(r.ext() for _ in range(fw))
        num = r.ext()
        tw = r.take(1, "width")[0]
        tvals = tuple(r.ext() for _ in range(tw))
        mult = r.ext()
        root_q, root_layers, joint = None, [], None
        if version in (ZK_VERSION, JOINT_VERSION):
            root_q = r.ext()
            for _ in range(r.u32("root-tree layer count", _MIN_SUMCHECK)):
                proof, r.pos = SumcheckProof.read(data, r.pos)
                root_layers.append(proof)
        if version == JOINT_VERSION:
            if any(layers):
                raise MalformedProof("a lock-step proof with layers under a tree", where="lookup/committed-table")
            joint = []
            for _ in range(r.u32("lock-step layer count", _MIN_SUMCHECK)):
                proof, r.pos = SumcheckProof.read(data, r.pos)
                joint.append(proof)
            joint = tuple(joint)
        return cls(tuple(roots), tuple(layers), fvals, num, tvals, mult, root_q, tuple(root_layers), joint), r.pos

    @classmethod
    def from_bytes(cls, data: bytes) -> CommittedTableProof:
        proof, end = cls.read(data)
        if end != len(data):
            raise MalformedProof("committed-table lookup proof has trailing bytes", where="lookup/committed-table",
                                 expected=end, got=len(data))
        return proof

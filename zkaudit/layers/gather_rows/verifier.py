"""GatherRows verifier.

Y = T[I, :] for a table T of R rows and C columns and indices I of K
entries. Y (the output) is advice; T and I are tensors whose claims flow
down the walk (a weight table's to the weight opening). With n_k, n_t, n_c
the variables of K, R and C (tensor.py: padded per dimension, rows the more
significant), the layer proves:

1. Every real row of Y is a row of T, at its index. One LogUp argument with
   numerators against a committed table (`lookup.committed_table`), width
   w = 1 + C:
       looked-up row k < 2^n_k:  (I_k, Y_k0, ..., Y_k,C-1), numerator e_k
       table row j < 2^n_t:      (j,   T_j0, ..., T_j,C-1), real iff j < R
   The protocol hands back, at its lookup point r_f and table point r_t:
   I~(r_f) and Y~(r_f, c) (c as n_c Boolean coordinates), e~(r_f);
   j~(r_t), T~(r_t, c), m~(r_t). The verifier checks e~(r_f) against the
   MLE of [k < K] and j~(r_t) against sum_i 2^(n_t - 1 - i) r_t,i (the
   index column, MSB first), both public (deferred to the bank opening
   when Hidden); I~ and T~ go down the walk, Y~ and m~ to the advice
   opening. With e = [k < K] every real k must find a real row (tag
   beta^w set on both sides; a table padding row has tag 0), and the index
   column is j itself, so the row found is row I_k: Y_k = T[I_k], and
   an index outside [0, R) has no row at all.
2. Y is zero on its padding (rows k >= K and columns c >= C), which the
   lookup does not see and a later layer may read: one zero-check
       sum_x eq(r, x) (1 - ind(x)) Y(x) = 0,  ind = [k < K][c < C],
   a degree-3 sum-check to a point s; eq and ind the verifier evaluates,
   Y~(s) goes to the advice opening. As in `clamp.system`.

Soundness: the LogUp identity (#leaves (w + 1) / p^2, `CommittedTable
Instance.soundness_log2`, charged by its verifier) and its GKR layers; the
zero-check n / p^2 for r and 3n / p^2 for its rounds. Every value is a
field equality of integers far below p (indices < 2^24, table values in
the table's declared range), so equal rows are equal integers.

Zero knowledge: the lookup runs its zero-knowledge mode (padded roots and
leaf values, masked GKR sum-checks) and the zero-check is masked, when the
transcript carries a session; the public checks of step 1 are then deferred
checks on Hidden values (`sumcheck.zk.check_equal`), made by prover and
verifier alike.
"""

from __future__ import annotations

from zkaudit.circuit.ops import MAX_GATHER_COLUMNS
from zkaudit.field.scalar import Fp2
from zkaudit.layers import padding_check
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.gather_rows.proof import GatherRowsProof
from zkaudit.layers.tensor import log2_ceil
from zkaudit.lookup import committed_table_verifier
from zkaudit.lookup.committed_table import CommittedTableInstance
from zkaudit.errors import ProofRejected
from zkaudit.poly.mle import prefix_indicator
from zkaudit.sumcheck.zk import check_equal

LABEL_POINT = b"layers/gather-rows/padding-point"
EQ, IND, Y = padding_check.EQ, padding_check.IND, padding_check.VALUE  # the padding zero-check's tables
PADDING = padding_check.PADDING


class UnexpectedClaim(ProofRejected):
    """The layer was handed a claim on its output, which must be advice."""


class PublicColumnMismatch(ProofRejected):
    """A column the verifier computes itself has another value in the proof."""


class GatherRowsLayout:
    """The public shape of one GatherRows node (both sides build it)."""

    def __init__(self, node, specs):
        from zkaudit.layers.shapes import UnsupportedLayer

        table, idx = specs[node.inputs[0]], specs[node.inputs[1]]
        if len(table.shape) != 2 or len(idx.shape) != 1:
            raise UnsupportedLayer(f"node {node.name!r} (GatherRows): needs a 2-D table and 1-D indices, got "
                                   f"{table.shape} and {idx.shape}")
        if table.shape[1] > MAX_GATHER_COLUMNS:  # the committed-table lookup's width is 1 + columns <= 64
            raise UnsupportedLayer(f"node {node.name!r} (GatherRows): a table of {table.shape[1]} columns; the lookup "
                                   f"takes at most {MAX_GATHER_COLUMNS} (with the index)")
        self.name = node.name
        self.table, self.indices, self.output = node.inputs[0], node.inputs[1], node.output
        self.rows, self.cols = table.shape
        self.count = idx.shape[0]
        self.out_shape = (self.count, self.cols)
        self.col_vars = log2_ceil(self.cols)
        self.instance = CommittedTableInstance(1 + self.cols, log2_ceil(self.count), log2_ceil(self.rows), self.rows)
        self.mult = f"{node.name}/mult"
        self.where = f"node {node.name} (GatherRows)"

    def column_point(self, point, c: int) -> tuple:
        """The point of column c of a (rows, cols) tensor at row point `point`."""
        n = self.col_vars
        return tuple(point) + tuple(Fp2((c >> (n - 1 - i)) & 1) for i in range(n))

    def advice_shapes(self) -> dict[str, tuple[int, ...]]:
        return {self.output: self.out_shape, self.mult: (1 << self.instance.table_vars,)}


def index_value(point) -> Fp2:
    """MLE of the index column j at `point` (MSB first)."""
    n, acc = len(point), Fp2(0)
    for i, r in enumerate(point):
        acc = acc + r * (1 << (n - 1 - i))
    return acc


def lookup_claims(lay: GatherRowsLayout, claims, transcript) -> list[TensorClaim]:
    """Step 1's checks and the claims it leaves (shared by prover and verifier)."""
    rf, rt = tuple(claims.numerators.point), tuple(claims.table_columns[0].point)
    check_equal(transcript, claims.numerators.value, prefix_indicator(lay.count, list(rf)),
                where=f"{lay.where} numerators", error=PublicColumnMismatch,
                message="the lookup's numerators are not 1 on exactly the real indices")
    check_equal(transcript, claims.table_columns[0].value, index_value(rt), where=f"{lay.where} table index",
                error=PublicColumnMismatch, message="the table's index column is not the row number")
    out = [TensorClaim(lay.indices, rf, claims.lookup_columns[0].value)]
    for c in range(lay.cols):
        out.append(TensorClaim(lay.output, lay.column_point(rf, c), claims.lookup_columns[1 + c].value))
        out.append(TensorClaim(lay.table, lay.column_point(rt, c), claims.table_columns[1 + c].value))
    out.append(TensorClaim(lay.mult, rt, claims.multiplicities.value))
    return out


def verify(lay: GatherRowsLayout, proof: GatherRowsProof, transcript) -> list[TensorClaim]:
    claims = committed_table_verifier.verify(lay.instance, proof.lookup, transcript)
    out = lookup_claims(lay, claims, transcript)
    s, value = padding_check.verify(proof.padding, lay.out_shape, LABEL_POINT, lay.where, transcript)
    out.append(TensorClaim(lay.output, s, value))
    return out


def _handler(node, specs, claim, reader, transcript):
    lay = GatherRowsLayout(node, specs)
    if claim is not None:
        raise UnexpectedClaim("a claim on the output reached the layer; it must be advice", where=lay.where)
    return verify(lay, reader.read(GatherRowsProof), transcript)


def _advice_shapes(node, specs):
    return GatherRowsLayout(node, specs).advice_shapes()


def register(handlers, advice_shapes) -> None:
    handlers["GatherRows"] = _handler
    advice_shapes["GatherRows"] = _advice_shapes

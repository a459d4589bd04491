"""PointerWalk verifier.

Out = P_{D-1} for P_{-1} = P (the start indices, T of them), P_l[t] =
S[P_{l-1}[t]] and S a successor table of R rows (an (R, 1) tensor). Out,
the levels L = (P_0; ...; P_{D-1}) (a (D, T) tensor) and the
multiplicities m are advice; S and P are tensors whose claims flow down
the walk. With n_l, n_k, n_t the variables of D, T, R (tensor.py: padded
per dimension, levels the more significant), the layer proves:

1. Every step is a step of S. One LogUp with numerators against a
   committed table (`lookup.committed_table`), width 2, over the
   2^(n_l + n_k) looked-up rows (l, t) laid out level-major:
       looked-up row (l, t):  (prev(l, t), next(l, t)),  numerator [l < D][t < T]
           prev(l, t) = P[t] (l = 0), L[l-1, t] (0 < l < D), 0 (l >= D)
           next(l, t) = L[l, t] (l < D), 0 (l >= D)
       table row j < 2^n_t:   (j, S_j), real iff j < R
   with one multiplicity column m summed over all D steps. The protocol
   hands back, at its lookup point r_f = (r_l, r_t) and table point r_s:
   prev~(r_f), next~(r_f), e~(r_f); j~(r_s), S~(r_s), m~(r_s). The
   verifier checks e~(r_f) = pre_D(r_l) pre_T(r_t) and j~(r_s) against
   sum_i 2^(n_t - 1 - i) r_s,i (both public; deferred when Hidden). The
   prover then sends u = P~(r_t) and v_l = L~(l, r_t) for l < D, and the
   verifier checks
       next~(r_f) = sum_{l<D} eq(r_l, l) v_l,
       prev~(r_f) = eq(r_l, 0) u + sum_{0<l<D} eq(r_l, l) v_{l-1}
   (the MLEs of the two columns above, linear in the v_l). After the v_l
   are absorbed it draws r' (n_l challenges) and leaves the claim
       L~(r', r_t) = sum_{l<D} eq(r', l) v_l,
   which binds every v_l to the committed levels: L~(X, r_t) minus the
   right side is multilinear in X and, given that L is zero on its padding
   rows (step 2), zero at every Boolean X exactly when every v_l is true.
   Claims: P~(r_t) = u and S~(r_s) go down the walk; L~ (above), Out~(r_t)
   = v_{D-1} (Out is L's last row) and m~(r_s) to the advice opening.
   With e = [l < D][t < T] every real step (l, t) must find a real table
   row (tag beta^2 on both sides; a padding row of the table has tag 0),
   and the index column is j itself, so prev(l, t) is a row number j < R
   and next(l, t) = S_j: by induction on l, L[l, t] = P_l[t] and an index
   outside [0, R) at any step has no row at all.
2. L is zero on its padding (levels l >= D, entries t >= T): one zero-check
       sum_x eq(r, x) (1 - ind(x)) L(x) = 0,  ind = [l < D][t < T],
   a degree-3 sum-check to a point s; eq and ind the verifier evaluates,
   L~(s) goes to the advice opening. Out's padding is then zero too (Out~
   and L~(D-1, .) agree at r_t, drawn after both were committed), which a
   later layer may read; the lookup reads no padding cell with a nonzero
   numerator, so the padding of P and of S's rows >= R is irrelevant here.
   m is a vector of 2^n_t entries with no padding of its own: a count on a
   padding row of S leaves a pole nothing cancels (the real-row tag).

Soundness: the LogUp identity (#leaves (w + 1) / p^2, w = 2, charged by
the committed-table verifier) and its GKR layers; r' costs n_l / p^2 (a
nonzero multilinear in n_l variables); Out = L's last row costs n_k / p^2
(r_t is drawn after the advice commitment); the zero-check n / p^2 for r
and 3n / p^2 for its rounds, n = n_l + n_k. Every value is a field
equality of integers far below p (indices < 2^24, S's values in its
declared range), so equal rows are equal integers.

Zero knowledge: the lookup runs its zero-knowledge mode, u and the v_l are
sent padded (`sumcheck.zk.send` / `receive`, so the claims they make are
Hidden), the zero-check is masked, when the transcript carries a session;
the checks of step 1 are then deferred checks on Hidden values
(`sumcheck.zk.check_equal`), made by prover and verifier alike.
"""

from __future__ import annotations

from zkaudit.errors import ProofRejected
from zkaudit.field.scalar import Fp2
from zkaudit.layers import padding_check
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.gather_rows.verifier import PublicColumnMismatch, UnexpectedClaim, index_value
from zkaudit.layers.pointer_walk.proof import PointerWalkProof
from zkaudit.layers.tensor import log2_ceil
from zkaudit.lookup import committed_table_verifier
from zkaudit.lookup.committed_table import CommittedTableInstance
from zkaudit.poly.mle import eq_bits, prefix_indicator
from zkaudit.sumcheck.errors import ProofShapeError
from zkaudit.sumcheck.zk import check_equal, receive

LABEL_VALUES = b"layers/pointer-walk/level-values"
LABEL_LEVEL = b"layers/pointer-walk/level-point"
LABEL_POINT = b"layers/pointer-walk/padding-point"
EQ, IND, L = padding_check.EQ, padding_check.IND, padding_check.VALUE  # the padding zero-check's tables
PADDING = padding_check.PADDING


class StepMismatch(ProofRejected):
    """A looked-up column's value is not the one the sent level values make."""


class PointerWalkLayout:
    """The public shape of one PointerWalk node (both sides build it)."""

    def __init__(self, node, specs):
        from zkaudit.layers.shapes import UnsupportedLayer

        table, start = specs[node.inputs[0]], specs[node.inputs[1]]
        steps = node.a["steps"]
        if len(table.shape) != 2 or table.shape[1] != 1 or len(start.shape) != 1 or steps < 1:
            raise UnsupportedLayer(f"node {node.name!r} (PointerWalk): needs an (R, 1) table, 1-D start indices "
                                   f"and steps >= 1, got {table.shape}, {start.shape}, {steps}")
        self.name = node.name
        self.table, self.start, self.output = node.inputs[0], node.inputs[1], node.output
        self.rows, self.count, self.steps = table.shape[0], start.shape[0], steps
        self.level_vars, self.count_vars = log2_ceil(steps), log2_ceil(self.count)
        try:
            self.instance = CommittedTableInstance(2, self.level_vars + self.count_vars, log2_ceil(self.rows),
                                                   self.rows)
        except ValueError as exc:  # sizes beyond the lookup's (circuit.infer refuses them first)
            raise UnsupportedLayer(f"node {node.name!r} (PointerWalk): {exc}") from None
        self.levels_shape = (steps, self.count)
        self.levels = f"{node.name}/levels"
        self.mult = f"{node.name}/mult"
        self.where = f"node {node.name} (PointerWalk)"

    def advice_shapes(self) -> dict[str, tuple[int, ...]]:
        return {self.output: (self.count,), self.levels: self.levels_shape,
                self.mult: (1 << self.instance.table_vars,)}


def lookup_checks(lay: PointerWalkLayout, claims, transcript) -> tuple[tuple, tuple]:
    """Step 1's public-column checks; returns (r_l, r_t)."""
    rf, rs = tuple(claims.numerators.point), tuple(claims.table_columns[0].point)
    r_l, r_t = rf[:lay.level_vars], rf[lay.level_vars:]
    check_equal(transcript, claims.numerators.value, prefix_indicator(lay.steps, r_l) * prefix_indicator(lay.count, r_t),
                where=f"{lay.where} numerators", error=PublicColumnMismatch,
                message="the lookup's numerators are not 1 on exactly the real steps")
    check_equal(transcript, claims.table_columns[0].value, index_value(rs), where=f"{lay.where} table index",
                error=PublicColumnMismatch, message="the table's index column is not the row number")
    return r_l, r_t


def level_claims(lay: PointerWalkLayout, claims, r_l, r_t, sent, values, transcript) -> list[TensorClaim]:
    """Step 1's column checks against the sent values and the claims they
    leave (shared by prover and verifier). `sent`: the values as in the
    proof; `values`: what to compute with (Hidden in a zero-knowledge run)."""
    u, v = values[0], values[1:]
    eq_l = [eq_bits(l, r_l) for l in range(lay.steps)]
    nxt, prev = Fp2(0), u * eq_l[0]
    for l in range(lay.steps):
        nxt = v[l] * eq_l[l] + nxt
        if l:
            prev = v[l - 1] * eq_l[l] + prev
    check_equal(transcript, claims.lookup_columns[1].value, nxt, where=f"{lay.where} next level", error=StepMismatch,
                message="the looked-up successors are not the levels sent")
    check_equal(transcript, claims.lookup_columns[0].value, prev, where=f"{lay.where} previous level",
                error=StepMismatch, message="the looked-up indices are not the start and the levels sent")
    transcript.absorb_exts(LABEL_VALUES, sent)
    r_lev = tuple(transcript.challenge_exts(LABEL_LEVEL, lay.level_vars))  # n_l / p^2
    batched = Fp2(0)
    for l in range(lay.steps):
        batched = v[l] * eq_bits(l, r_lev) + batched
    rs = tuple(claims.table_columns[1].point)
    return [TensorClaim(lay.start, r_t, u), TensorClaim(lay.output, r_t, v[-1]),
            TensorClaim(lay.levels, r_lev + r_t, batched),
            TensorClaim(lay.table, rs, claims.table_columns[1].value),
            TensorClaim(lay.mult, rs, claims.multiplicities.value)]


def verify(lay: PointerWalkLayout, proof: PointerWalkProof, transcript) -> list[TensorClaim]:
    if len(proof.values) != lay.steps + 1:
        raise ProofShapeError("wrong number of level values", where=lay.where, expected=lay.steps + 1,
                              got=len(proof.values))
    claims = committed_table_verifier.verify(lay.instance, proof.lookup, transcript)
    r_l, r_t = lookup_checks(lay, claims, transcript)
    values = [receive(transcript, s) for s in proof.values]
    out = level_claims(lay, claims, r_l, r_t, proof.values, values, transcript)
    s, value = padding_check.verify(proof.padding, lay.levels_shape, LABEL_POINT, lay.where, transcript)
    out.append(TensorClaim(lay.levels, s, value))
    return out


def _handler(node, specs, claim, reader, transcript):
    lay = PointerWalkLayout(node, specs)
    if claim is not None:
        raise UnexpectedClaim("a claim on the output reached the layer; it must be advice", where=lay.where)
    return verify(lay, reader.read(PointerWalkProof), transcript)


def _advice_shapes(node, specs):
    return PointerWalkLayout(node, specs).advice_shapes()


def register(handlers, advice_shapes) -> None:
    handlers["PointerWalk"] = _handler
    advice_shapes["PointerWalk"] = _advice_shapes

"""Softmax verifier (X of shape (..., K) with the softmax axis last, rows =
X's padded cells, y = the row's output cell, I = indicator of X's real
cells). Another axis is moved last first: with per-dimension padding the
transposed tensor's MLE is the original's with its variable groups
permuted, so the protocol runs on the views X', Y' and its claims on them
become claims on X, Y at the un-permuted points, at no cost.

The executor: m = max_k X, D = m - X in [0, L-1], e = exp[L-1-D] (table of
L entries < 2^20), T = sum_k e, n = Mul e, d = T 2^s, q = rnd(n / d) (half
to even), Y = clamp(zo + q, lo, hi). Committed advice: Y, m (+ the window-
max advice), e, T, h, par, r, t+, t- (+ limbs and multiplicities).

All lookups of steps 1 and 2 form one LogUp argument (`pool.ranges`).
1. Exp lookup of pairs (D, e + (1 - I) E0) in the table {(j, exp[L-1-j])}
   (E0 = exp[L-1], the row D = 0, so padding rows hold (0, E0) and e = 0
   there). D is the window-max column; its claim joins the max argument's
   batch, e's claim is e~ = value - (1 - I~) E0.
2. Range checks (LogUp, limbs of 16 bits) of the virtual columns
       r - par,  2 B T I - r - par,  h,  t+,  t-,  Y - lo I,  hi I - Y   (B = 2^s)
   with bit widths from the attributes such that no identity below can
   wrap mod p. (T I)~(a) = T~(a_y) pref_K(a_k) (T is zero on padded output
   cells by 4.); the prover sends par~ at both remainder points and T~(a_y)
   at the second (`openings`), which become claims.
3. Window maximum m = max_k X (see `layers.pool.verifier`), with D's exp
   claim batched in.
4. One degree-4 sum-check over the rows, rho fresh, lambda_0..6 fresh:
       eq(rho,.) [2 Mul e + B TI - 2 B TI (2h + par) - r]      (division)
       eq(rho,.) par (1 - par)                                   (parity bit)
       eq(rho,.) [Y - I (zo + 2h + par - t+ + t-)]              (clamp value)
       eq(rho,.) t+ (hi I - Y),  eq(rho,.) t- (Y - lo I)         (clamp sides)
       eq(rho_y, y) e      = tau = T~(rho_y)                     (row sums)
   With q = 2h + par: 2n + d = 2 d q + r with par <= r <= 2d - par is
   exactly q = rnd(n/d) half to even: r in (0, 2d) is a non-tie, a tie is
   r in {0, 2d}, and the range checks allow a tie only for par = 0; t+ > 0 forces Y = hi, t- > 0 forces Y = lo, Y in
   [lo, hi]: exactly the clamp. On padding rows Y = 0. The verifier checks
   the finals of eq(rho,.), eq(rho_y,.) and I itself; the rest become
   claims on advice at z (T from TI: T~(z_y) = TI* / pref_K(z_k)).
Soundness: lookups as in `lookup.soundness`; rho: n/p^2, lambdas 6/p^2,
sum-check 4n/p^2; the window max as in `layers.pool`.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.constants import P as P_MOD
from zkaudit.field.scalar import Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pool.errors import PublicTableMismatch, RelationMismatch
from zkaudit.layers.pool.verifier import MaxNames, max_advice_shapes, max_names, range_bits
from zkaudit.layers.pool.ranges import MultiRange
from zkaudit.layers.pool.verifier import verify_max
from zkaudit.layers.pool.windows import Windows, axis_windows
from zkaudit.layers.shapes import UnsupportedLayer
from zkaudit.layers.softmax.proof import SoftmaxProof
from zkaudit.layers.softmax.table import ValuesTable
from zkaudit.layers.tensor import log2_ceil, real_indicator, split_point
from zkaudit.lookup import Lookup
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.poly.mle import eq_eval, prefix_indicator
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import receive
from zkaudit.transcript import Transcript

LABEL_OPENINGS = b"softmax/openings"
LABEL_RHO = b"softmax/rho"
LABEL_LAMBDA = b"softmax/lambda"
LABEL_TAU = b"softmax/tau"

EQ, G, IND, E, TI, H, PAR, R, Y, TP, TM = range(11)
NUM_TABLES = 11
RELATION_PUBLIC = (EQ, G, IND)  # the verifier's own tables in the relation sum-check
RANGES = ("rem", "rem_hi", "half", "over", "under", "ylo", "yhi")
ADVICE_KINDS = ("exp", "total", "half", "par", "rem", "over", "under")
MAX_BITS = 62


@dataclass(frozen=True)
class SoftmaxSetup:
    name: str
    x: str  # the protocol's X' (X itself when the axis is last)
    y: str
    shape: tuple[int, ...]  # X' shape
    windows: Windows
    max_bits: int
    max_names: MaxNames
    table: ValuesTable
    e0: int
    mul: int
    shift: int
    zo: int
    lo: int
    hi: int
    range_bits: tuple[int, ...]  # per RANGES
    x_real: str = ""
    y_real: str = ""
    perm: tuple[int, ...] = ()  # X' = transpose(X, perm)

    def unpermute(self, point) -> tuple:
        """A point on X' (or Y') as a point on X (or Y)."""
        groups = split_point(point, self.shape)
        out: list = [None] * len(groups)
        for i, g in zip(self.perm, groups):
            out[i] = g
        return tuple(c for g in out for c in g)

    def to_real(self, claims) -> list[TensorClaim]:
        """Claims on the views X', Y' as claims on X, Y."""
        if self.x == self.x_real:
            return list(claims)
        views = {self.x: self.x_real, self.y: self.y_real}
        return [TensorClaim(views[c.tensor], self.unpermute(c.point), c.value) if c.tensor in views else c
                for c in claims]

    def advice(self, kind: str) -> str:
        return f"{self.name}/{kind}"

    @property
    def rows(self) -> int:
        return 1 << self.windows.num_vars

    @property
    def multi(self) -> MultiRange:
        """The exp-pair lookup (table 0) and the seven range checks, one argument."""
        return MultiRange(f"{self.name}/lookup", RANGES, self.range_bits, self.rows, (self.table,),
                          (Lookup(0, self.rows),))


def setup(node, specs) -> SoftmaxSetup:
    x = specs[node.inputs[0]]
    a = node.a
    rank = len(x.shape)
    axis = a["axis"] % rank
    perm = tuple(i for i in range(rank) if i != axis) + (axis,)
    shape = tuple(x.shape[i] for i in perm)
    x_name, y_name = node.inputs[0], node.output
    if axis != rank - 1:
        x_name, y_name = f"{node.name}/x-view", f"{node.name}/y-view"
    exp_values = [int(v) for v in a["exp_values"]]
    length = len(exp_values)
    if x.hi - x.lo > length - 1:
        raise UnsupportedLayer(f"node {node.name!r} (Softmax): exp table does not cover the input span")
    bits = max(1, log2_ceil(length))
    table = ValuesTable(tuple(exp_values[::-1]) + (0,) * ((1 << bits) - length))
    k = shape[-1]
    mul, shift, zo = int(a["out_multiplier"]), int(a["out_shift"]), int(a["out_zero_point"])
    lo, hi = int(a["out_min"]), int(a["out_max"])
    emax = max(exp_values)
    dmax = k * emax << shift
    qmax = mul // (1 << shift) + 2
    br = max(1, (2 * dmax).bit_length())
    bh = max(1, (qmax // 2).bit_length())
    bt = max(1, (abs(zo) + (2 << bh) + abs(lo) + abs(hi)).bit_length())
    by = max(1, (hi - lo).bit_length())
    if max(br, bt) > MAX_BITS or 2 * dmax * (2 << bh) + 2 * mul * emax + 5 * dmax >= 1 << 63:
        raise UnsupportedLayer(f"node {node.name!r} (Softmax): sums too wide for the field (axis {k}, shift {shift})")
    windows = axis_windows(shape, len(shape) - 1)
    mbits = range_bits(x.lo, x.hi)
    mnames = max_names(f"{node.name}/max", f"{node.name}/max", x_name, windows, mbits)
    return SoftmaxSetup(node.name, x_name, y_name, shape, windows, mbits, mnames, table,
                        exp_values[-1], mul, shift, zo, lo, hi, (br, br, bh, bt, bt, by, by),
                        node.inputs[0], node.output, perm)


def advice_shapes(node, specs) -> dict:
    st = setup(node, specs)
    out_shape = st.windows.out_shape
    out = {st.y_real: tuple(specs[st.y_real].shape), st.max_names.y: out_shape, **max_advice_shapes(st.max_names, st.windows, st.max_bits)}
    for kind in ADVICE_KINDS:
        out[st.advice(kind)] = out_shape if kind == "total" else st.shape
    out.update(st.multi.advice_shapes())
    return out


def relation_spec(st: SoftmaxSetup, lam) -> SumOfProducts:
    b = Fp2(1 << st.shift)
    neg = Fp2(0) - Fp2(1)
    l0, l1, l3, l4, l5, l6 = lam
    return SumOfProducts.of(NUM_TABLES, [
        (l0 * Fp2(2 * st.mul), (EQ, E)), (l0 * b, (EQ, TI)), (neg * l0 * b * 4, (EQ, TI, H)),
        (neg * l0 * b * 2, (EQ, TI, PAR)), (neg * l0, (EQ, R)),
        (l1, (EQ, PAR)), (neg * l1, (EQ, PAR, PAR)),
        (l3, (EQ, Y)), (neg * l3 * Fp2(st.zo % P_MOD), (EQ, IND)), (neg * l3 * 2, (EQ, IND, H)), (neg * l3, (EQ, IND, PAR)),
        (l3, (EQ, IND, TP)), (neg * l3, (EQ, IND, TM)),
        (l4 * Fp2(st.hi % P_MOD), (EQ, TP, IND)), (neg * l4, (EQ, TP, Y)),
        (l5, (EQ, TM, Y)), (neg * l5 * Fp2(st.lo % P_MOD), (EQ, TM, IND)),
        (l6, (G, E)),
    ])



def _split(st: SoftmaxSetup, point):
    ny = st.windows.out_vars
    return tuple(point[:ny]), tuple(point[ny:])


def total_from_ti(st: SoftmaxSetup, point, ti_value: Fp2, where: str) -> Fp2:
    """T~(a_y) from (T I)~(a) = T~(a_y) pref_K(a_k)."""
    _, pk = _split(st, point)
    pref = prefix_indicator(st.shape[-1], pk)
    if pref == Fp2(0):
        raise RelationMismatch("degenerate point (pref_K = 0)", where=where)
    return ti_value * pref.inverse()


def range_claims(st: SoftmaxSetup, j: int, point, value: Fp2, openings) -> list[TensorClaim]:
    """Claims on advice implied by range check j's claim on its virtual column
    (openings: par~ at the rem point, T~ and par~ at the rem_hi point)."""
    ind = real_indicator(st.shape, point)
    adv = st.advice
    label = RANGES[j]
    if label == "rem":
        return [TensorClaim(adv("par"), point, openings[0]), TensorClaim(adv("rem"), point, value + openings[0])]
    if label == "rem_hi":
        py, pk = _split(st, point)
        total, par = openings[1], openings[2]
        ti = total * prefix_indicator(st.shape[-1], pk)
        return [TensorClaim(adv("total"), py, total), TensorClaim(adv("par"), point, par),
                TensorClaim(adv("rem"), point, ti * (2 << st.shift) - value - par)]
    if label == "half":
        return [TensorClaim(adv("half"), point, value)]
    if label == "over":
        return [TensorClaim(adv("over"), point, value)]
    if label == "under":
        return [TensorClaim(adv("under"), point, value)]
    if label == "ylo":
        return [TensorClaim(st.y, point, value + ind * Fp2(st.lo % P_MOD))]
    return [TensorClaim(st.y, point, ind * Fp2(st.hi % P_MOD) - value)]


def verify(st: SoftmaxSetup, proof: SoftmaxProof, transcript: Transcript, *, where: str = "softmax"
           ) -> list[TensorClaim]:
    n = st.windows.num_vars
    out: list[TensorClaim] = []
    multi = st.multi
    lk = lookup_verifier.verify(multi.instance(), proof.lookup, transcript)
    d_claim, e_claim = lk.columns[0]
    ind = real_indicator(st.shape, e_claim.point)
    out.append(TensorClaim(st.advice("exp"), e_claim.point, e_claim.value - (Fp2(1) - ind) * st.e0))
    recomposed, claims = multi.verify_columns(lk, proof.limb_values, transcript, where=where)
    out += claims
    openings = [receive(transcript, v) for v in proof.openings]
    transcript.absorb_exts(LABEL_OPENINGS, list(proof.openings))
    for j, (point, value) in enumerate(recomposed):
        out += range_claims(st, j, point, value, openings)

    out += verify_max(st.windows, st.max_bits, st.max_names, proof.max, transcript, where=f"{where} max",
                      extra_d=[(d_claim.point, d_claim.value)])

    rho = tuple(transcript.challenge_exts(LABEL_RHO, n))  # zero-check point: n / p^2
    lam = transcript.challenge_exts(LABEL_LAMBDA, 6)  # batch six identities: 6 / p^2
    rho_y, _ = _split(st, rho)
    tau = receive(transcript, proof.tau)
    transcript.absorb_ext(LABEL_TAU, proof.tau)
    out.append(TensorClaim(st.advice("total"), rho_y, tau))
    red = sumcheck_verifier.verify(proof.relation, lam[5] * tau, n, relation_spec(st, lam), transcript,
                                   where=f"{where} relation", public=RELATION_PUBLIC)
    z = tuple(red.point)
    v = red.values
    for name, expected, got in (("eq(rho, z)", eq_eval(rho, z), v[EQ]),
                                ("eq(rho_y, z_y)", eq_eval(rho_y, _split(st, z)[0]), v[G]),
                                ("I(z)", real_indicator(st.shape, z), v[IND])):
        if expected != got:
            raise PublicTableMismatch(f"{name} is not the public table's value", where=where, expected=expected, got=got)
    zy, _ = _split(st, z)
    out.append(TensorClaim(st.advice("total"), zy, total_from_ti(st, z, v[TI], where)))
    for kind, idx in (("exp", E), ("half", H), ("par", PAR), ("rem", R), ("over", TP), ("under", TM)):
        out.append(TensorClaim(st.advice(kind), z, v[idx]))
    out.append(TensorClaim(st.y, z, v[Y]))
    return out


def _softmax(node, specs, claim, reader, transcript):
    st = setup(node, specs)
    out = st.to_real(verify(st, reader.read(SoftmaxProof), transcript, where=f"node {node.name} (Softmax)"))
    return out if claim is None else out + [claim]


def register(handlers, shapes) -> None:
    handlers["Softmax"] = _softmax
    shapes["Softmax"] = advice_shapes

"""Window-maximum verifier (MaxPool; reused by Softmax and ArgMax).

Setting (see `windows.py`): rows (y, k) over n = n_y + kv variables, public
src(y, k), the mask M(y, k) of slots that read X (src >= 0) and the mask
M'(y, k) of selectable slots (M plus slot 0 of each padded output cell,
which holds the constant 0). Committed advice: the output
Y (or the max tensor), a selector s over the rows, the range check's
multiplicities (and its limbs when the range is wider than 16 bits). The
difference column is virtual (linear in Y and X, both fixed before any
challenge of this layer):
    D(y, k) = M'(y, k) Y[y] - M(y, k) X[src(y, k)].
Claim: Y[y] = max_k {X[src(y, k)] : M(y, k) = 1} for every real y, and
Y[y] = 0 on Y's padding (the window {0}).

1. "Y >= every element": LogUp range check D in [0, 2^b), b = bits of
   hi - lo of X's range (so D never wraps mod p). It leaves D~(r_L) = d_L
   and claims on multiplicities. When b > 16 the limbs l_j are advice and
   their lookup claims may sit at different points (segments in different
   GKR trees), so D is recomposed at a fresh point r_L: the prover sends
   l_j~(r_L) (claims on the limbs) and d_L = sum_j 2^(16 j) l_j~(r_L)
   (D - sum_j 2^(16 j) l_j is multilinear: n / p^2).
2. "Y equals one element": with rho in F^n (rho_y its first n_y
   coordinates) and lambda_1, lambda_2 fresh, one degree-3 sum-check over
   the rows of
       eq(rho, .) s (1 - s) + l1 eq(rho_y, y) M' s + l2 eq(rho_y, y) s D
     = l1                    (sum_y eq(rho_y, y) = 1).
   It is, up to the random combination, the three identities s(1-s) = 0
   on every row, sum_k M' s = 1 and sum_k s D = 0 for every y; with s
   Boolean, exactly one selectable slot is selected and its D (in
   [0, 2^b), so no wrap) is 0: Y[y] is that element. The verifier computes
   the finals of eq(rho, .), eq(rho_y, .) and eq(rho_y, .) M' at the end
   point z itself and keeps s~(z) (advice claim) and D~(z) = d_z.
3. The D claims, batched by mu: with c = eq(z, .) + mu eq(r_L, .) (plus
   mu^2 eq(r_2, .) ... for a caller's further claims on D),
       d_z + mu d_L = sum_y Y(y) A(y) - sum_x X(x) W(x),
       A(y) = sum_k c(y, k) M'(y, k),  W(x) = sum_{src(y,k)=x} c(y, k).
   The prover sends S_Y = sum_y Y A; a degree-2 sum-check over Y's
   variables and one over X's (sum S_Y - d_z - mu d_L) end at t_Y, t_X;
   the verifier evaluates A~(t_Y), W~(t_X) itself in O(2^n) and returns
   the claims Y~(t_Y), X~(t_X).
Keyed variant (ArgMax, `Keying`): X[src] is replaced by the key
scale X[src] + key(row) with scale = 2^kv and key = 2^kv - 1 - k (first
index) or k (last index): keys are distinct within a window, so the
selected slot is the unique maximal one under the tie rule; the relation
gains l3 eq(rho_y, y) s(y, k) k M'(y, k) with target + l3 Idx~(rho_y) (the
prover sends Idx~(rho_y), a claim on the index output), so Idx[y] = sum_k k
M' s: only a selectable slot can contribute its index (`index_column`), and
on Idx's padding (only slot 0 selectable) the index is 0.
Step 3 then reads sum_y Y A - scale sum_x X W - sum_rows c M key.
Soundness (over GF(p^2), p^2 ~ 2^128): lookup as in `lookup.soundness`;
step 2: 3n/p^2 (sum-check) + (n_y + n + 2)/p^2 (rho, lambdas); step 3:
1/p^2 (mu) + 2(n_y + n_x)/p^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.layers import kernels
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pool.errors import PublicTableMismatch, RelationMismatch
from zkaudit.layers.pool.proof import WindowMaxProof
from zkaudit.layers.pool.windows import Windows, pool_windows
from zkaudit.layers.pool.wiring import RowSums
from zkaudit.layers.tensor import log2_ceil
from zkaudit.lookup import RangeCheck
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.poly.mle import eq_eval, eq_table
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import receive
from zkaudit.transcript import Transcript

LABEL_RHO = b"window-max/rho"
LABEL_LAMBDA = b"window-max/lambda"
LABEL_MU = b"window-max/mu"
LABEL_Y_SUM = b"window-max/y-sum"
LABEL_INDEX = b"window-max/index-value"
LABEL_RECOMPOSE = b"range/recompose-point"
LABEL_LIMB_VALUES = b"range/limb-values"

E, S, G, GM, D = range(5)  # tables of the relation sum-check
PRODUCT = SumOfProducts.product(2)


KI = 5  # with an index output: KI(y, k) = k
RELATION_PUBLIC = (0, 2, 3, KI)  # e, g, gm and the index column are the verifier's own tables (S, D are not)


def relation_spec(l1: Fp2, l2: Fp2, l3: Fp2 | None = None) -> SumOfProducts:
    terms = [(1, (E, S)), (-1, (E, S, S)), (l1, (GM, S)), (l2, (G, S, D))]
    if l3 is None:
        return SumOfProducts.of(5, terms)
    return SumOfProducts.of(6, terms + [(l3, (G, S, KI))])


@dataclass(frozen=True)
class Keying:
    """ArgMax: the maximum is taken over keys scale X[src] + key(row) (distinct
    within a window, so the maximal slot is unique), and the index output
    Idx[y] = sum_k k s(y, k) is proven in the relation sum-check."""

    scale: int
    key: np.ndarray  # int64 per row (used where M = 1)
    index: str  # the index tensor's name


def index_column(windows: Windows) -> np.ndarray:
    """KI(y, k) = k M'(y, k): the slot index on selectable rows, 0 elsewhere.
    Without M' a selector bit on a slot no input is wired to (k >= K, where
    D = 0 and every other identity holds) would add k to the proven index."""
    k = np.arange(windows.src.shape[0], dtype=np.int64) & ((1 << windows.slot_vars) - 1)
    return np.where(windows.selectable, k, 0).astype(np.uint64)


def key_sum(windows: Windows, keying: Keying | None, c: np.ndarray) -> Fp2:
    """sum over rows with M of c(row) key(row)."""
    if keying is None:
        return Fp2(0)
    v = vec.inner(c, vec.from_int64(np.where(windows.mask, keying.key, 0)))
    return v if isinstance(v, Fp2) else Fp2.from_base(v)


def range_bits(lo: int, hi: int) -> int:
    return max(1, log2_ceil(hi - lo + 1))


@dataclass(frozen=True)
class MaxNames:
    """Tensor names the argument claims on: y (the max), x (the input), advice."""

    y: str
    x: str
    select: str
    limbs: tuple[str, ...]  # empty when the range check has one limb (the column is D itself)
    mults: tuple[str, ...]


def max_names(prefix: str, y: str, x: str, windows: Windows, bits: int) -> MaxNames:
    rc = RangeCheck(bits, 1 << windows.num_vars)
    limbs = tuple(f"{prefix}/limb{j}" for j in range(len(rc.limb_widths))) if len(rc.limb_widths) > 1 else ()
    mults = tuple(f"{prefix}/mult{j}" for j in range(len(rc.instance().tables)))
    return MaxNames(y, x, f"{prefix}/select", limbs, mults)


def max_advice_shapes(names: MaxNames, windows: Windows, bits: int) -> dict:
    """Advice of the argument except y (whose owner declares it)."""
    rc = RangeCheck(bits, 1 << windows.num_vars)
    rows = (1 << windows.num_vars,)
    out = {names.select: rows}
    out.update({name: rows for name in names.limbs})
    out.update({name: (t.num_rows,) for name, t in zip(names.mults, rc.instance().tables)})
    return out


def mask_ids(windows: Windows) -> np.ndarray:
    """0 on selectable rows (M'), -1 elsewhere: the ids `wiring_value` sums over."""
    return np.where(windows.selectable, 0, -1).astype(np.int64)


def read_ids(windows: Windows) -> np.ndarray:
    """0 on rows that read X (M), -1 elsewhere."""
    return np.where(windows.mask, 0, -1).astype(np.int64)


def wiring_value(weights: np.ndarray, point, ids: np.ndarray, idx: np.ndarray) -> Fp2:
    """sum over rows with ids = 0 of weights[row] eq(point, idx[row])."""
    v0, v1 = kernels.wiring_eval(weights, eq_table(point), ids, idx, 0)
    return Fp2(int(v0), int(v1))


def _check(name: str, expected: Fp2, got: Fp2, where: str) -> None:
    if expected != got:
        raise PublicTableMismatch(f"{name} is not the public table's value", where=where, expected=expected, got=got)


def recompose_verify(rc: RangeCheck, lk, limb_names, limb_values, transcript: Transcript, *, where: str):
    """(point, value) of the range-checked column, plus the claims on limbs
    (lookup points and the recomposition point). One limb: the column itself."""
    widths = rc.limb_widths
    if len(widths) == 1:
        if limb_values:
            raise RelationMismatch("a one-limb range check carries no limb values", where=where)
        cl = lk.columns[0][0]
        return (tuple(cl.point), cl.value), []
    if len(limb_values) != len(widths):
        raise RelationMismatch("wrong number of limb values", where=where, expected=len(widths), got=len(limb_values))
    claims = [TensorClaim(name, tuple(c[0].point), c[0].value) for name, c in zip(limb_names, lk.columns)]
    point = tuple(transcript.challenge_exts(LABEL_RECOMPOSE, len(lk.columns[0][0].point)))  # n / p^2
    sent, limb_values = limb_values, [receive(transcript, v) for v in limb_values]
    transcript.absorb_exts(LABEL_LIMB_VALUES, list(sent))
    claims += [TensorClaim(name, point, v) for name, v in zip(limb_names, limb_values)]
    return (point, rc.recompose_at(point, limb_values).value), claims


def batch_weights(z, mu: Fp2, d_points, eq_z: np.ndarray | None = None) -> np.ndarray:
    """c = eq(z, .) + sum_i mu^(i+1) eq(p_i, .) over the rows (`eq_z`: the
    table eq(z, .) when the caller has it; it is not written to)."""
    c, coeff = eq_table(z) if eq_z is None else eq_z, Fp2(1)
    for p in d_points:
        coeff = coeff * mu
        c = vec.add(c, eq_table(p, scale=coeff))
    return c


def verify_max(windows: Windows, bits: int, names: MaxNames, proof: WindowMaxProof, transcript: Transcript,
               *, where: str = "window-max", extra_d=(), keying: Keying | None = None) -> list[TensorClaim]:
    """`extra_d`: further claims (point, value) on the D column (e.g. from a
    caller's own lookup of D), batched into step 3. `keying`: see `Keying`."""
    if len(proof.extras) != (0 if keying is None else 1):
        raise RelationMismatch("wrong number of index values", where=where, expected=0 if keying is None else 1,
                               got=len(proof.extras))
    n, ny, nx = windows.num_vars, windows.out_vars, windows.in_vars
    rc = RangeCheck(bits, 1 << n)
    lk = lookup_verifier.verify(rc.instance(), proof.lookup, transcript)
    out = [TensorClaim(name, cl.point, cl.value) for name, cl in zip(names.mults, lk.multiplicities)]
    (d_point, d_value), limb_claims = recompose_verify(rc, lk, names.limbs, proof.limb_values, transcript,
                                                       where=where)
    out += limb_claims

    rho = tuple(transcript.challenge_exts(LABEL_RHO, n))  # zero-check points: n / p^2 (Schwartz-Zippel on eq)
    rho_y = rho[:ny]
    extras = [receive(transcript, v) for v in proof.extras]
    transcript.absorb_exts(LABEL_INDEX, list(proof.extras))
    lam = transcript.challenge_exts(LABEL_LAMBDA, 2 if keying is None else 3)  # batch the identities: 3 / p^2
    target = lam[0] if keying is None else lam[0] + lam[2] * extras[0]
    red = sumcheck_verifier.verify(proof.relation, target, n, relation_spec(*lam), transcript,
                                   where=f"{where} relation", public=RELATION_PUBLIC)
    z = tuple(red.point)
    e_v, s_v, g_v, gm_v, d_v = red.values[:5]
    # Only ArgMax's index and key sums read the 2^n tables eq(z, .) and c;
    # the wiring values take the rows' product structure (`RowSums`).
    eq_z = None if keying is None else eq_table(z)
    if keying is not None:
        ki = vec.inner(eq_z, index_column(windows))
        _check("k M' at z", ki if isinstance(ki, Fp2) else Fp2.from_base(ki), red.values[KI], where)
        out.append(TensorClaim(keying.index, rho_y, extras[0]))
    _check("eq(rho, z)", eq_eval(rho, z), e_v, where)
    _check("eq(rho_y, z_y)", eq_eval(rho_y, z[:ny]), g_v, where)
    d_claims = [(d_point, d_value)] + [(tuple(p), v) for p, v in extra_d]
    rows = RowSums(windows, [z] + [p for p, _ in d_claims])
    _check("eq(rho_y, .) M' at z", rows.selectable_value([Fp2(1)], rho_y), gm_v, where)
    out.append(TensorClaim(names.select, z, s_v))

    mu = transcript.challenge_ext(LABEL_MU)  # batch the D claims: (#claims - 1) / p^2
    total, coeffs = d_v, [Fp2(1)]
    for _, v in d_claims:
        coeffs.append(coeffs[-1] * mu)
        total = total + coeffs[-1] * v
    c = None if keying is None else batch_weights(z, mu, [p for p, _ in d_claims], eq_z)
    y_sum = receive(transcript, proof.y_sum)
    transcript.absorb_ext(LABEL_Y_SUM, proof.y_sum)
    red_y = sumcheck_verifier.verify(proof.y_sumcheck, y_sum, ny, PRODUCT, transcript, where=f"{where} Y",
                                     public=(1,))
    y_v, a_v = red_y.values
    _check("A(t_Y)", rows.selectable_value(coeffs, red_y.point), a_v, where)
    red_x = sumcheck_verifier.verify(proof.x_sumcheck, y_sum - total - key_sum(windows, keying, c), nx,
                                     PRODUCT, transcript, where=f"{where} X", public=(1,))
    x_v, w_v = red_x.values
    scale = 1 if keying is None else keying.scale
    _check("W(t_X)", rows.read_value(coeffs, red_x.point) * scale, w_v, where)
    out.append(TensorClaim(names.y, tuple(red_y.point), y_v))
    out.append(TensorClaim(names.x, tuple(red_x.point), x_v))
    return out


# -- MaxPool ---------------------------------------------------------------

def maxpool_setup(node, specs) -> tuple[Windows, int, MaxNames]:
    x = specs[node.inputs[0]]
    a = node.a
    windows = pool_windows(a, x.shape, specs[node.output].shape, dilations=tuple(a.get("dilations", (1, 1))))
    bits = range_bits(x.lo, x.hi)
    return windows, bits, max_names(node.name, node.output, node.inputs[0], windows, bits)


def maxpool_advice_shapes(node, specs) -> dict:
    windows, bits, names = maxpool_setup(node, specs)
    return {node.output: tuple(specs[node.output].shape), **max_advice_shapes(names, windows, bits)}


def _maxpool(node, specs, claim, reader, transcript):
    windows, bits, names = maxpool_setup(node, specs)
    out = verify_max(windows, bits, names, reader.read(WindowMaxProof), transcript,
                     where=f"node {node.name} (MaxPool)")
    # Y is advice: a claim on it (never sent by the driver) is left to the advice opening.
    return out if claim is None else out + [claim]


def register(handlers, advice_shapes) -> None:
    handlers["MaxPool"] = _maxpool
    advice_shapes["MaxPool"] = maxpool_advice_shapes
    _register_average(handlers, advice_shapes)


def _register_average(handlers, advice_shapes) -> None:
    from zkaudit.layers.pool import average

    handlers["AveragePool"] = average.handler
    advice_shapes["AveragePool"] = average.advice_shapes

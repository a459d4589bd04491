"""Window-maximum prover (protocol in `verifier.py`): O(2^n) per table, one
degree-3 sum-check over the rows, two degree-2 sum-checks for the wiring."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers import kernels
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pool.proof import WindowMaxProof
from zkaudit.layers.pool.verifier import (
    LABEL_INDEX, LABEL_LAMBDA, LABEL_LIMB_VALUES, LABEL_MU, LABEL_RECOMPOSE, LABEL_RHO, LABEL_Y_SUM, PRODUCT, RELATION_PUBLIC, Keying, MaxNames, batch_weights, index_column, key_sum, mask_ids, maxpool_setup, read_ids, relation_spec,
)
from zkaudit.layers.pool.windows import Windows
from zkaudit.layers.tensor import embed
from zkaudit.lookup import RangeCheck
from zkaudit.lookup import prover as lookup_prover
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import send
from zkaudit.transcript import Transcript


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def differences(windows: Windows, x_table: np.ndarray, y_table: np.ndarray, keying: Keying | None = None
                ) -> np.ndarray:
    """D(y, k) = M' Y[y] - M X[src] (keyed: M (scale X[src] + key)) as int64."""
    x = vec.to_signed(x_table)
    y = vec.to_signed(y_table)
    xs = windows.gather(x)
    if keying is not None:
        xs = np.where(windows.mask, keying.scale * xs + keying.key, 0)
    return np.where(windows.selectable, y[windows.out_index] - xs, 0)


def max_advice(windows: Windows, bits: int, names: MaxNames, x_table: np.ndarray, y_table: np.ndarray,
               *, select=None, keying: Keying | None = None) -> dict:
    """Selector (the first maximal slot unless given), limbs, multiplicities."""
    d = differences(windows, x_table, y_table, keying)
    kp = 1 << windows.slot_vars
    if select is None:
        hit = (windows.selectable & (d == 0)).reshape(-1, kp)
        first = hit.argmax(axis=1)
        select = np.zeros_like(hit, dtype=np.int64)
        rows = np.flatnonzero(hit.any(axis=1))
        select[rows, first[rows]] = 1
        select = select.ravel()
    rc = RangeCheck(bits, d.shape[0])
    limbs = rc.decompose(vec.from_int64(d))
    mults = lookup_prover.multiplicities(rc.instance(), limbs)
    out = {names.select: np.asarray(select, dtype=np.int64)}
    out.update({name: limb[0].astype(np.int64) for name, limb in zip(names.limbs, limbs)})
    out.update({name: m.astype(np.int64) for name, m in zip(names.mults, mults)})
    return out


def recompose_prove(rc: RangeCheck, lclaims, limb_names, tables, transcript: Transcript):
    """Prover side of `recompose_verify`: ((point, value), limb claims, limb values)."""
    if len(rc.limb_widths) == 1:
        cl = lclaims.columns[0][0]
        return (tuple(cl.point), cl.value), [], ()
    claims = [TensorClaim(name, tuple(c[0].point), c[0].value) for name, c in zip(limb_names, lclaims.columns)]
    point = tuple(transcript.challenge_exts(LABEL_RECOMPOSE, len(lclaims.columns[0][0].point)))
    padded = [send(transcript, _ext(evaluate(tables[name], point))) for name in limb_names]
    sent, values = tuple(p[0] for p in padded), tuple(p[1] for p in padded)
    transcript.absorb_exts(LABEL_LIMB_VALUES, list(sent))
    claims += [TensorClaim(name, point, v) for name, v in zip(limb_names, values)]
    return (point, rc.recompose_at(point, values).value), claims, sent


def prove_max(windows: Windows, bits: int, names: MaxNames, tables, transcript: Transcript, *, extra_d=(),
              keying: Keying | None = None) -> tuple[WindowMaxProof, list[TensorClaim]]:
    n, ny, nx = windows.num_vars, windows.out_vars, windows.in_vars
    x_tab, y_tab, s_tab = tables[names.x], tables[names.y], tables[names.select]
    d_tab = vec.from_int64(differences(windows, x_tab, y_tab, keying))
    rc = RangeCheck(bits, 1 << n)
    cols = [[tables[name]] for name in names.limbs] if names.limbs else [[d_tab]]
    lproof, lclaims = lookup_prover.prove(rc.instance(), cols, [tables[m] for m in names.mults], transcript)
    out = [TensorClaim(name, cl.point, cl.value) for name, cl in zip(names.mults, lclaims.multiplicities)]
    (d_point, d_value), limb_claims, limb_values = recompose_prove(rc, lclaims, names.limbs, tables, transcript)
    out += limb_claims

    rho = tuple(transcript.challenge_exts(LABEL_RHO, n))
    rho_y = rho[:ny]
    extras_sent, extras = (), ()
    if keying is not None:
        sent_k, hidden_k = send(transcript, _ext(evaluate(tables[keying.index], rho_y)))
        extras_sent, extras = (sent_k,), (hidden_k,)
    transcript.absorb_exts(LABEL_INDEX, list(extras_sent))
    lam = transcript.challenge_exts(LABEL_LAMBDA, 2 if keying is None else 3)
    e = eq_table(rho)
    g = np.repeat(eq_table(rho_y), 1 << windows.slot_vars, axis=0)
    gm = g.copy()
    gm[~windows.selectable] = 0
    tabs = [e, s_tab, g, gm, d_tab]
    if keying is not None:
        tabs.append(index_column(windows))
    target = lam[0] if keying is None else lam[0] + lam[2] * extras[0]
    rel, red, _ = sumcheck_prover.prove(tabs, relation_spec(*lam), transcript, claimed_sum=target,
                                        public=RELATION_PUBLIC, eq_point=rho)
    z = tuple(red.point)
    if keying is not None:
        out.append(TensorClaim(keying.index, rho_y, extras[0]))
    out.append(TensorClaim(names.select, z, red.values[S_INDEX]))

    mu = transcript.challenge_ext(LABEL_MU)
    d_claims = [(d_point, d_value)] + [(tuple(p), v) for p, v in extra_d]
    total, coeff = red.values[D_INDEX], Fp2(1)
    for _, v in d_claims:
        coeff = coeff * mu
        total = total + coeff * v
    c = batch_weights(z, mu, [p for p, _ in d_claims])
    ids = mask_ids(windows)
    a = np.empty((1 << ny, 2), dtype=np.uint64)
    kernels.wiring_table(c, ids, windows.out_index, 0, 1 << ny, a)
    w = np.empty((1 << nx, 2), dtype=np.uint64)
    kernels.wiring_table(c, read_ids(windows), windows.src, 0, 1 << nx, w)
    if keying is not None:
        w = vec.scale(keying.scale, w)
    y_sum_sent, y_sum = send(transcript, _ext(vec.inner(a, y_tab)))
    transcript.absorb_ext(LABEL_Y_SUM, y_sum_sent)
    y_sc, red_y, _ = sumcheck_prover.prove([y_tab, a], PRODUCT, transcript, claimed_sum=y_sum, public=(1,))
    x_sc, red_x, _ = sumcheck_prover.prove([x_tab, w], PRODUCT, transcript,
                                           claimed_sum=y_sum - total - key_sum(windows, keying, c), public=(1,))
    out.append(TensorClaim(names.y, tuple(red_y.point), red_y.values[0]))
    out.append(TensorClaim(names.x, tuple(red_x.point), red_x.values[0]))
    return WindowMaxProof(lproof, limb_values, extras_sent, rel, y_sum_sent, y_sc, x_sc), out


S_INDEX, D_INDEX = 1, 4


# -- MaxPool ---------------------------------------------------------------

def maxpool_advice(node, specs, env) -> dict:
    windows, bits, names = maxpool_setup(node, specs)
    y = np.asarray(env[node.output], dtype=np.int64)
    return {node.output: y, **max_advice(windows, bits, names, embed(env[node.inputs[0]]), embed(y))}


def _maxpool(node, specs, claim, tables, transcript, out):
    windows, bits, names = maxpool_setup(node, specs)
    proof, claims = prove_max(windows, bits, names, tables, transcript)
    out.append(proof.to_bytes())
    return claims if claim is None else claims + [claim]


def register(handlers, advice) -> None:
    from zkaudit.layers.pool import average_prover

    handlers["MaxPool"] = _maxpool
    advice["MaxPool"] = maxpool_advice
    handlers["AveragePool"] = average_prover.handler
    advice["AveragePool"] = average_prover.average_advice

"""Softmax prover (protocol in `verifier.py`)."""

from __future__ import annotations

from collections import ChainMap

import numpy as np

from zkaudit.circuit.fixed_point import div_round
from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pool import prover as pool_prover
from zkaudit.layers.softmax.proof import SoftmaxProof
from zkaudit.layers.softmax.verifier import (
    E, EQ, LABEL_LAMBDA, LABEL_RHO, LABEL_TAU, LABEL_OPENINGS, NUM_TABLES, PAR, RANGES, TI, TM, TP, H, R, Y, G,
    IND, RELATION_PUBLIC, SoftmaxSetup, _split, range_claims, relation_spec, setup, total_from_ti,
)
from zkaudit.layers.tensor import embed, padded_shape, real_indicator
from zkaudit.lookup import prover as lookup_prover
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import send
from zkaudit.transcript import Transcript


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def witness(st: SoftmaxSetup, x: np.ndarray) -> dict:
    """The executor's intermediate values (real shapes), keyed by advice kind."""
    x = np.asarray(x, dtype=np.int64)
    m = x.max(axis=-1, keepdims=True)
    e = np.asarray(st.table.values, dtype=np.int64)[m - x]
    total = e.sum(axis=-1, keepdims=True)
    num, den = e * st.mul, total << st.shift
    q = div_round(num, den)
    v = st.zo + q
    return {"max": m, "exp": e, "total": total, "half": q >> 1, "par": q & 1, "rem": 2 * num + den - 2 * den * q,
            "over": np.maximum(v - st.hi, 0), "under": np.maximum(st.lo - v, 0), "y": np.clip(v, st.lo, st.hi)}


def _indicator(st: SoftmaxSetup) -> np.ndarray:
    return embed(np.ones(st.shape, dtype=np.int64))


def _ti(st: SoftmaxSetup, total_table: np.ndarray, ind: np.ndarray) -> np.ndarray:
    rep = np.repeat(total_table, 1 << st.windows.slot_vars)
    return np.where(ind == 1, rep, np.uint64(0)).astype(np.uint64)


def range_columns(st: SoftmaxSetup, tables) -> list[np.ndarray]:
    """The seven virtual columns of `RANGES`, from the committed tables."""
    ind = _indicator(st)
    adv = st.advice
    ti = _ti(st, tables[adv("total")], ind)
    r, y = tables[adv("rem")], tables[st.y]
    par = tables[adv("par")]
    return [vec.sub(r, par), vec.sub(vec.sub(vec.scale(2 << st.shift, ti), r), par), tables[adv("half")], tables[adv("over")],
            tables[adv("under")], vec.sub(y, vec.scale(st.lo % P, ind)), vec.sub(vec.scale(st.hi % P, ind), y)]


def exp_columns(st: SoftmaxSetup, tables) -> list[np.ndarray]:
    ind = _indicator(st)
    d = vec.from_int64(pool_prover.differences(st.windows, tables[st.x], tables[st.max_names.y]))
    e = vec.add(tables[st.advice("exp")], vec.scale(st.e0, vec.sub(np.ones_like(ind), ind)))
    return [d, e]


def view(st: SoftmaxSetup, table: np.ndarray) -> np.ndarray:
    """The embedded table of transpose(T, perm), from T's embedded table."""
    real = tuple(st.shape[st.perm.index(i)] for i in range(len(st.perm)))
    return np.ascontiguousarray(table.reshape(padded_shape(real)).transpose(st.perm)).ravel()


def view_tables(st: SoftmaxSetup, tables):
    if st.x == st.x_real:
        return tables
    return ChainMap({st.x: view(st, tables[st.x_real]), st.y: view(st, tables[st.y_real])}, tables)


def advice_from(st: SoftmaxSetup, x: np.ndarray, w: dict) -> dict:
    """Every advice array, from X' and the witness `w` (which a test may
    alter); the output under its own name and layout."""
    inverse = tuple(st.perm.index(i) for i in range(len(st.perm)))
    out = {st.y: w["y"], st.max_names.y: w["max"]}
    out.update({st.advice(k): w[k] for k in ("exp", "total", "half", "par", "rem", "over", "under")})
    tables = {k: embed(v) for k, v in out.items()}
    tables[st.x] = embed(x)
    out.update(pool_prover.max_advice(st.windows, st.max_bits, st.max_names, tables[st.x], tables[st.max_names.y]))
    out.update(st.multi.honest_advice(range_columns(st, tables), [exp_columns(st, tables)]))
    out[st.y_real] = np.transpose(out.pop(st.y), inverse)
    return out


def softmax_advice(node, specs, env) -> dict:
    st = setup(node, specs)
    x = np.transpose(np.asarray(env[node.inputs[0]]), st.perm)
    return advice_from(st, x, witness(st, x))


def prove(st: SoftmaxSetup, tables, transcript: Transcript) -> tuple[SoftmaxProof, list[TensorClaim]]:
    """Claims come out on the views X', Y' (`st.to_real` maps them)."""
    tables = view_tables(st, tables)
    n = st.windows.num_vars
    out: list[TensorClaim] = []
    multi = st.multi
    columns = multi.lookup_columns(range_columns(st, tables), tables, [exp_columns(st, tables)])
    lproof, lk = lookup_prover.prove(multi.instance(), columns, [tables[m] for m in multi.mult_names()],
                                     transcript)
    d_claim, e_claim = lk.columns[0]
    e_ind = real_indicator(st.shape, e_claim.point)  # as the verifier derives it (a zero-knowledge claim is Hidden)
    out.append(TensorClaim(st.advice("exp"), e_claim.point, e_claim.value - (Fp2(1) - e_ind) * st.e0))
    recomposed, claims, limb_values = multi.prove_columns(lk, tables, transcript)
    out += claims
    rem_point, hi_point = recomposed[RANGES.index("rem")][0], recomposed[RANGES.index("rem_hi")][0]
    par_tab = tables[st.advice("par")]
    padded = [send(transcript, v) for v in (_ext(evaluate(par_tab, rem_point)),
                                              _ext(evaluate(tables[st.advice("total")], _split(st, hi_point)[0])),
                                              _ext(evaluate(par_tab, hi_point)))]
    openings_sent, openings = tuple(p[0] for p in padded), tuple(p[1] for p in padded)
    transcript.absorb_exts(LABEL_OPENINGS, list(openings_sent))
    for j, (point, value) in enumerate(recomposed):
        out += range_claims(st, j, point, value, openings)

    mproof, mclaims = pool_prover.prove_max(st.windows, st.max_bits, st.max_names, tables, transcript,
                                            extra_d=[(d_claim.point, d_claim.value)])
    out += mclaims

    rho = tuple(transcript.challenge_exts(LABEL_RHO, n))
    lam = transcript.challenge_exts(LABEL_LAMBDA, 6)
    rho_y, _ = _split(st, rho)
    total_tab = tables[st.advice("total")]
    tau_sent, tau = send(transcript, _ext(evaluate(total_tab, rho_y)))
    transcript.absorb_ext(LABEL_TAU, tau_sent)
    out.append(TensorClaim(st.advice("total"), rho_y, tau))
    ind = _indicator(st)
    tabs: list = [None] * NUM_TABLES
    tabs[EQ] = eq_table(rho)
    tabs[G] = np.repeat(eq_table(rho_y), 1 << st.windows.slot_vars, axis=0)
    tabs[IND] = ind
    tabs[TI] = _ti(st, total_tab, ind)
    for idx, kind in ((E, "exp"), (H, "half"), (PAR, "par"), (R, "rem"), (TP, "over"), (TM, "under")):
        tabs[idx] = tables[st.advice(kind)]
    tabs[Y] = tables[st.y]
    rel, red, _ = sumcheck_prover.prove(tabs, relation_spec(st, lam), transcript, claimed_sum=lam[5] * tau,
                                        public=RELATION_PUBLIC, eq_point=rho)
    z = tuple(red.point)
    v = red.values
    zy, _ = _split(st, z)
    out.append(TensorClaim(st.advice("total"), zy, total_from_ti(st, z, v[TI], "softmax")))
    for kind, idx in (("exp", E), ("half", H), ("par", PAR), ("rem", R), ("over", TP), ("under", TM)):
        out.append(TensorClaim(st.advice(kind), z, v[idx]))
    out.append(TensorClaim(st.y, z, v[Y]))
    return SoftmaxProof(lproof, tuple(limb_values), openings_sent, mproof, tau_sent, rel), out


def _softmax(node, specs, claim, tables, transcript, out):
    st = setup(node, specs)
    proof, claims = prove(st, tables, transcript)
    claims = st.to_real(claims)
    out.append(proof.to_bytes())
    return claims if claim is None else claims + [claim]


def register(handlers, advice) -> None:
    handlers["Softmax"] = _softmax
    advice["Softmax"] = softmax_advice

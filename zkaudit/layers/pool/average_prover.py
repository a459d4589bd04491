"""AveragePool prover (protocol in `average.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers import kernels
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pool.average import (
    C, CNT, EQ, H, IND, LABEL_LAMBDA, LABEL_OPENINGS, LABEL_RHO, PAR, SX, X_PRODUCT, AveragePoolProof,
    AvgSetup, R, RELATION_PUBLIC, Y, range_claims, relation_spec, setup, x_weights,
)
from zkaudit.layers.pool.verifier import read_ids
from zkaudit.layers.tensor import embed, padded_shape
from zkaudit.lookup import prover as lookup_prover
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import send
from zkaudit.transcript import Transcript


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def witness(st: AvgSetup, y: np.ndarray) -> dict:
    """rem, half, par (real shape) from the executor's output and X."""
    q = np.asarray(y, dtype=np.int64) - st.zp
    return {"half": (q + st.offset) >> 1, "par": (q + st.offset) & 1}


def window_sums(st: AvgSetup, x_table: np.ndarray) -> np.ndarray:
    """S(y) = sum_k M X[src] - zp cnt(y), int64 per padded output cell."""
    x = vec.to_signed(x_table)
    kp = 1 << st.windows.slot_vars
    return st.windows.gather(x).reshape(-1, kp).sum(axis=1) - st.zp * st.cnt


def range_columns(st: AvgSetup, tables) -> list[np.ndarray]:
    r, par = tables[st.advice("rem")], tables[st.advice("par")]
    c2 = vec.from_int64(2 * st.c)
    return [vec.sub(r, par), vec.sub(vec.sub(c2, r), par), tables[st.advice("half")]]


def advice_from(st: AvgSetup, x: np.ndarray, y: np.ndarray, w: dict | None = None) -> dict:
    w = witness(st, y) if w is None else w
    shape = np.shape(y)
    s = window_sums(st, embed(x))
    q_pad = vec.to_signed(embed(np.asarray(y) - st.zp))  # zero on padding, like S and c
    r_pad = 2 * s + st.c - 2 * st.c * q_pad
    real = tuple(slice(0, d) for d in shape)
    rem = w.get("rem", r_pad.reshape(padded_shape(shape))[real])
    out = {st.y: np.asarray(y), st.advice("rem"): rem, st.advice("half"): w["half"], st.advice("par"): w["par"]}
    tables = {k: embed(v) for k, v in out.items()}
    out.update(st.multi.honest_advice(range_columns(st, tables)))
    return out


def average_advice(node, specs, env) -> dict:
    return advice_from(setup(node, specs), env[node.inputs[0]], env[node.output])


def prove(st: AvgSetup, tables, transcript: Transcript):
    ny = st.windows.out_vars
    multi = st.multi
    lproof, lk = lookup_prover.prove(multi.instance(), multi.lookup_columns(range_columns(st, tables), tables),
                                     [tables[m] for m in multi.mult_names()], transcript)
    cols, out, limb_values = multi.prove_columns(lk, tables, transcript)
    par_tab = tables[st.advice("par")]
    padded = [send(transcript, _ext(evaluate(par_tab, cols[i][0]))) for i in (0, 1)]
    openings_sent, openings = tuple(p[0] for p in padded), tuple(p[1] for p in padded)
    transcript.absorb_exts(LABEL_OPENINGS, list(openings_sent))
    for j, (point, value) in enumerate(cols):
        out += range_claims(st, j, point, value, openings)

    rho = tuple(transcript.challenge_exts(LABEL_RHO, ny))
    lam = transcript.challenge_exts(LABEL_LAMBDA, 4)
    x_tab = tables[st.x]
    sx = vec.from_int64(window_sums(st, x_tab) + st.zp * st.cnt)
    tabs: list = [None] * 9
    tabs[EQ] = eq_table(rho)
    tabs[SX], tabs[CNT], tabs[C] = sx, vec.from_int64(st.cnt), vec.from_int64(st.c)
    tabs[Y], tabs[IND] = tables[st.y], embed(np.ones(st.windows.out_shape, dtype=np.int64))
    tabs[R], tabs[H], tabs[PAR] = tables[st.advice("rem")], tables[st.advice("half")], par_tab
    rel, red, _ = sumcheck_prover.prove(tabs, relation_spec(st, lam), transcript, claimed_sum=Fp2(0),
                                        public=RELATION_PUBLIC, eq_point=rho)
    z = tuple(red.point)
    v = red.values
    for kind, idx in (("rem", R), ("half", H), ("par", PAR)):
        out.append(TensorClaim(st.advice(kind), z, v[idx]))
    out.append(TensorClaim(st.y, z, v[Y]))
    w = np.empty((1 << st.windows.in_vars, 2), dtype=np.uint64)
    kernels.wiring_table(x_weights(st, z), read_ids(st.windows), st.windows.src, 0, w.shape[0], w)
    x_sc, red_x, _ = sumcheck_prover.prove([x_tab, w], X_PRODUCT, transcript, claimed_sum=v[SX], public=(1,))
    out.append(TensorClaim(st.x, tuple(red_x.point), red_x.values[0]))
    return AveragePoolProof(lproof, limb_values, openings_sent, rel, x_sc), out


def handler(node, specs, claim, tables, transcript, out):
    proof, claims = prove(setup(node, specs), tables, transcript)
    out.append(proof.to_bytes())
    return claims if claim is None else claims + [claim]


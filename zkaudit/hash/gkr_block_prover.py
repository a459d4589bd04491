"""The partial-round block's sum-check, prover side (`gkr_block.py` states
the protocol).

`BlockRun` is a round source for the plain and zero-knowledge sum-check
drivers, as `gkr_prover.RoundRun` is for a layer: eq(z, .) split off, the
rows x_0..x_7, U_0..U_21 folded as one stack, their combination L = m . x +
p . U one more table, and the round sums from `gkr_block_kernels`.
`prove(..., fast=False)` runs the generic sum-check prover on the block's
31 tables: the reference the run is tested against byte for byte."""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp2, _fp2
from zkaudit.hash import gkr_block as gb
from zkaudit.hash import gkr_block_zk_run
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.gkr import LaneClaim
from zkaudit.hash.gkr_prover import RoundRun, _drive, _entry, _plus, _suffix_eq
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.prover import _Run

U64 = np.uint64
# A zero-knowledge block takes `gkr_block_zk_run.BlockFusedRun` once numba
# runs (one kernel call a round); False keeps `BlockRun` on the generic
# driver, the reference the fused run is tested against byte for byte.
FUSED = True


def sbox_inputs(layers: np.ndarray) -> np.ndarray:
    """U (B, 32): U[b, j] = V_{4+j}(b, 0) + c_{4+j,0} for j < 22, zero beyond
    (the committed table, instance-major: index b * 32 + j)."""
    num = layers.shape[2]
    out = np.zeros((num, gb.LANES), dtype=U64)
    consts = np.array([gb.ROUNDS[gb.FIRST_PARTIAL + j].constants[0] for j in range(gb.NUM_PARTIAL)], dtype=U64)
    out[:, : gb.NUM_PARTIAL] = _plus(layers[gb.FIRST_PARTIAL: gb.AFTER_PARTIAL, 0, :], consts[:, None]).T
    return out


class BlockRun(RoundRun):
    """Tables in the spec's order: eq, x_0..x_7, U_0..U_21."""

    def __init__(self, z, x: np.ndarray, u: np.ndarray, co: gb.BlockCoefficients, spec):
        from zkaudit.hash.gkr_block_kernels import line_table

        _Run.__init__(self, None, spec)
        self.z, self.full = list(z), True
        self.stack = np.ascontiguousarray(np.concatenate([x, u]))  # (30, N) base
        self.q = np.array([[v.c0, v.c1] for v in co.q], dtype=U64)
        coeffs = np.array([[v.c0, v.c1] for v in co.m + co.p], dtype=U64)
        self.m, self.p = coeffs[:WIDTH], coeffs[WIDTH:]
        self.lin = line_table(self.stack, coeffs)
        self.prefix, self.j = Fp2(1), 0
        self.eqs = _suffix_eq(self.z)

    def _sums(self) -> np.ndarray:
        from zkaudit.hash.gkr_block_kernels import block_sums

        return block_sums(self.stack[WIDTH:], self.lin, self.eqs, self.q)

    def fold_and_next(self, r: Fp2, last: bool):
        from zkaudit.sumcheck import kernels as sk

        self._bind(r)
        r0, r1 = U64(r.c0), U64(r.c1)
        h = self.lin.shape[0] // 2
        out = np.empty((self.stack.shape[0], h, 2), dtype=U64)
        (sk.fold_stack_base if self.stack.ndim == 2 else sk.fold_stack_ext)(self.stack, r0, r1, out)
        lin = np.empty((1, h, 2), dtype=U64)
        sk.fold_stack_ext(self.lin[None], r0, r1, lin)
        self.stack, self.lin = out, lin[0]
        return None if last else self._evals()

    def pairs(self):
        zj, one = self.z[self.j], Fp2(1)
        return [(self.prefix * (one - zj), self.prefix * zj)] + [(_entry(row, 0), _entry(row, 1))
                                                                  for row in self.stack]

    def finals(self):
        return (self.prefix,) + tuple(_entry(row, 0) for row in self.stack)

    def last_poly(self, pairs, spec, pads, c_prev: Fp2, num_points: int):
        """`zk_prover._last_poly` for this spec, once numba runs (one kernel
        call for the 31 tables' 52 terms at 17 points)."""
        from zkaudit.field import jit
        from zkaudit.hash.gkr_block_kernels import last_poly
        from zkaudit.sumcheck.zk_prover import _last_poly

        if not jit.warm():
            return _last_poly(pairs, spec, pads, c_prev, num_points)
        arr = np.array([[(a.c0, a.c1), (b.c0, b.c1)] for a, b in pairs], dtype=U64)
        pad = np.zeros((len(pairs), 2), dtype=U64)
        for j, (_, mj) in pads.items():
            v = c_prev * mj
            pad[j] = (v.c0, v.c1)
        out = last_poly(arr, pad, self.m, self.q, self.p, num_points)
        return [_fp2(a, b) for a, b in out.tolist()], None


def prove(layers: np.ndarray, claim: LaneClaim, transcript, fast: bool = True):
    """From the claim on V_26 to (the sum-check proof, the claim on V_4, the
    block's point z' and the values U_j(z'), j < 22: Fp2 or Hidden)."""
    lam, mu = gb.draw(transcript, len(claim.point))
    co = gb.coefficients(claim.gamma, lam, mu)
    spec = gb.block_spec(co)
    value = claim.value - co.shift
    x = layers[gb.FIRST_PARTIAL]
    u = np.ascontiguousarray(sbox_inputs(layers)[:, : gb.NUM_PARTIAL].T)  # (22, B)
    if fast and len(claim.point) > 0:
        run = BlockRun(claim.point, x, u, co, spec)
        if getattr(transcript, "zk", None) is not None and FUSED and gkr_block_zk_run.applies():
            run = gkr_block_zk_run.BlockFusedRun(claim.point, run.stack, run.lin, run.m, run.q, run.p)
        sc, reduced, _ = _drive(run, spec, LaneClaim(claim.point, None, value), transcript)
    else:
        tables = [eq_table(list(claim.point))] + [x[k] for k in range(WIDTH)] + [u[j] for j in range(gb.NUM_PARTIAL)]
        sc, reduced, _ = sumcheck_prover.prove(tables, spec, transcript, claimed_sum=value, public=(gb.EQ,))
    values = reduced.values
    below = gb.below_claim(values[gb.X0: gb.U0], reduced.point, transcript)
    return sc, below, tuple(reduced.point), tuple(values[gb.U0:])

"""AveragePool verifier: Y = zp + rnd(S / c), half to even, per output cell.

Windows from `windows.py` (dilation 1; the kernel pads X - zp with 0, so
padding slots read nothing). Public per output cell y: cnt(y) = number of
real elements in its window, c(y) = K (count_include_pad or no pads) or
cnt(y), I(y) the indicator of real cells (c, cnt are 0 on Y's padding).
The window sum is virtual: S(y) = SX(y) - zp cnt(y) with
SX(y) = sum_k M(y, k) X[src(y, k)] (a wiring of X). Committed advice: Y,
h, par, r (+ limbs, multiplicities). With q = Y - zp and an even offset
OFF >= zp - lo_Y (so q + OFF >= 0), the identities on every y are
    2 SX - 2 zp cnt + c - 2 c (Y - zp I) - r = 0          (2S + c = 2cq + r)
    par (1 - par) = 0
    Y - (zp - OFF) I - 2h - par = 0                       (q + OFF = 2h + par)
    (1 - I) Y = 0                                          (Y's padding is 0)
and the range checks r - par, 2c - r - par in [0, 2^br), h in [0, 2^bh).
As in Softmax, r in (0, 2c) is a non-tie, a tie (r in {0, 2c}) is allowed
only for par = 0, i.e. q even: exactly div_round. All values are far below
p/2, so nothing wraps.

Protocol: the three range checks (their remainder-column claims come with
the prover's par~ (and r~ is derived); h directly), then with rho and
lambda_0..3 fresh one degree-3 sum-check over Y's variables of
eq(rho, .) times the identities, target 0. The verifier evaluates eq, cnt,
c, I at the end point z itself; SX~(z) is reduced by a degree-2 sum-check
sum_x X(x) W(x) with W(x) = sum_{src(y,k)=x} eq(z, y), which the verifier
evaluates itself (O(|Y| K)), giving a claim on X.
Soundness: lookups as in `lookup.soundness`; rho n_y/p^2, lambdas 3/p^2,
sum-checks 3 n_y/p^2 + 2 n_x/p^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pool.errors import PublicTableMismatch, RelationMismatch
from zkaudit.layers.pool.proof import exts_bytes, lookup_bytes, read_exts, read_lookup
from zkaudit.layers.pool.ranges import MultiRange
from zkaudit.layers.pool.verifier import read_ids, wiring_value
from zkaudit.layers.pool.windows import Windows, pool_windows
from zkaudit.layers.shapes import UnsupportedLayer
from zkaudit.layers.tensor import embed, real_indicator
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.lookup.proof import LookupProof
from zkaudit.poly.mle import eq_eval, eq_table, evaluate
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import receive
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

LABEL_OPENINGS = b"avgpool/openings"
LABEL_RHO = b"avgpool/rho"
LABEL_LAMBDA = b"avgpool/lambda"
EQ, SX, CNT, C, Y, IND, R, H, PAR = range(9)
RELATION_PUBLIC = (EQ, CNT, C, IND)  # the verifier's own tables in the relation sum-check
EQ, SX, CNT, C, Y, IND, R, H, PAR = range(9)
RANGES = ("rem", "rem_hi", "half")
X_PRODUCT = SumOfProducts.product(2)


@dataclass(frozen=True)
class AvgSetup:
    name: str
    x: str
    y: str
    windows: Windows
    zp: int
    offset: int
    range_bits: tuple[int, ...]
    cnt: np.ndarray  # int64 per padded output cell
    c: np.ndarray

    def advice(self, kind: str) -> str:
        return f"{self.name}/{kind}"

    @property
    def out_rows(self) -> int:
        return 1 << self.windows.out_vars

    @property
    def multi(self) -> MultiRange:
        return MultiRange(f"{self.name}/lookup", RANGES, self.range_bits, self.out_rows)

    def public(self, table: np.ndarray, point) -> Fp2:
        v = evaluate(vec.from_int64(table), point)
        return Fp2.from_base(v) if isinstance(v, Fp) else v


def setup(node, specs) -> AvgSetup:
    x, y = specs[node.inputs[0]], specs[node.output]
    a = node.a
    windows = pool_windows(a, x.shape, y.shape)
    kp = 1 << windows.slot_vars
    cnt = windows.mask.reshape(-1, kp).sum(axis=1).astype(np.int64)
    real = embed(np.ones(y.shape, dtype=np.int64)).astype(np.int64)
    k = int(a["kernel_shape"][0] * a["kernel_shape"][1])
    c = real * k if (a["count_include_pad"] or not any(a["pads"])) else cnt
    zp = int(a["zero_point"])
    offset = max(0, zp - y.lo)
    offset += offset & 1
    cmax = int(c.max()) if c.size else 1
    br = max(1, (2 * cmax).bit_length())
    bh = max(1, ((y.hi - zp + offset) // 2).bit_length())
    span = k * (abs(x.lo) + abs(x.hi) + 2 * abs(zp)) * 4 + 4 * cmax * (abs(y.lo) + abs(y.hi) + abs(zp))
    if span >= 1 << 62:
        raise UnsupportedLayer(f"node {node.name!r} (AveragePool): sums too wide for the field")
    return AvgSetup(node.name, node.inputs[0], node.output, windows, zp, offset, (br, br, bh), cnt, c)


def advice_shapes(node, specs) -> dict:
    st = setup(node, specs)
    out = {st.y: tuple(specs[node.output].shape)}
    out.update({st.advice(k): tuple(specs[node.output].shape) for k in ("rem", "half", "par")})
    out.update(st.multi.advice_shapes())
    return out


def relation_spec(st: AvgSetup, lam) -> SumOfProducts:
    neg = Fp2(0) - Fp2(1)
    zp = Fp2(st.zp % P)
    l0, l1, l2, l3 = lam
    return SumOfProducts.of(9, [
        (l0 * 2, (EQ, SX)), (neg * l0 * zp * 2, (EQ, CNT)), (l0, (EQ, C)), (neg * l0 * 2, (EQ, C, Y)),
        (l0 * zp * 2, (EQ, C, IND)), (neg * l0, (EQ, R)),
        (l1, (EQ, PAR)), (neg * l1, (EQ, PAR, PAR)),
        (l2, (EQ, Y)), (neg * l2 * Fp2((st.zp - st.offset) % P), (EQ, IND)), (neg * l2 * 2, (EQ, H)),
        (neg * l2, (EQ, PAR)),
        (l3, (EQ, Y)), (neg * l3, (EQ, IND, Y)),
    ])


@dataclass(frozen=True)
class AveragePoolProof:
    """u32 len | lookup proof (the three range checks) | limb values | 2 Fp2
    openings (par~ at both remainder points) | relation sum-check | X wiring
    sum-check."""

    lookup: LookupProof
    limb_values: tuple[Fp2, ...]
    openings: tuple[Fp2, ...]
    relation: SumcheckProof
    x_sumcheck: SumcheckProof

    def to_bytes(self) -> bytes:
        if len(self.openings) != 2:
            raise ValueError("an average-pool proof has two openings")
        return b"".join([lookup_bytes(self.lookup), exts_bytes(self.limb_values),
                         exts_bytes(self.openings), self.relation.to_bytes(), self.x_sumcheck.to_bytes()])

    @classmethod
    def read(cls, data: bytes, offset: int):
        lookup, offset = read_lookup(data, offset, "average-pool range checks")
        limbs, offset = read_exts(data, offset, "average-pool limb values")
        openings, offset = read_exts(data, offset, "average-pool openings")
        relation, offset = SumcheckProof.read(data, offset)
        x_sc, offset = SumcheckProof.read(data, offset)
        return cls(lookup, limbs, openings, relation, x_sc), offset


def range_claims(st: AvgSetup, j: int, point, value: Fp2, openings) -> list[TensorClaim]:
    adv = st.advice
    if RANGES[j] == "rem":
        return [TensorClaim(adv("par"), point, openings[0]), TensorClaim(adv("rem"), point, value + openings[0])]
    if RANGES[j] == "rem_hi":
        c = st.public(st.c, point)
        return [TensorClaim(adv("par"), point, openings[1]),
                TensorClaim(adv("rem"), point, c * 2 - value - openings[1])]
    return [TensorClaim(adv("half"), point, value)]


def x_weights(st: AvgSetup, z) -> np.ndarray:
    """Row weights eq(z, y(row)) of the X wiring."""
    return np.repeat(eq_table(z), 1 << st.windows.slot_vars, axis=0)


def verify(st: AvgSetup, proof: AveragePoolProof, transcript: Transcript, *, where: str = "avgpool"):
    ny = st.windows.out_vars
    if len(proof.openings) != 2:
        raise RelationMismatch("wrong number of openings", where=where, expected=2, got=len(proof.openings))
    lk = lookup_verifier.verify(st.multi.instance(), proof.lookup, transcript)
    cols, out = st.multi.verify_columns(lk, proof.limb_values, transcript, where=where)
    openings = [receive(transcript, v) for v in proof.openings]
    transcript.absorb_exts(LABEL_OPENINGS, list(proof.openings))
    for j, (point, value) in enumerate(cols):
        out += range_claims(st, j, point, value, openings)

    rho = tuple(transcript.challenge_exts(LABEL_RHO, ny))  # zero-check point: n_y / p^2
    lam = transcript.challenge_exts(LABEL_LAMBDA, 4)  # batch four identities: 3 / p^2
    red = sumcheck_verifier.verify(proof.relation, Fp2(0), ny, relation_spec(st, lam), transcript,
                                   where=f"{where} relation", public=RELATION_PUBLIC)
    z = tuple(red.point)
    v = red.values
    for name, expected, got in (("eq(rho, z)", eq_eval(rho, z), v[EQ]), ("cnt(z)", st.public(st.cnt, z), v[CNT]),
                                ("c(z)", st.public(st.c, z), v[C]),
                                ("I(z)", real_indicator(st.windows.out_shape, z), v[IND])):
        if expected != got:
            raise PublicTableMismatch(f"{name} is not the public table's value", where=where, expected=expected, got=got)
    for kind, idx in (("rem", R), ("half", H), ("par", PAR)):
        out.append(TensorClaim(st.advice(kind), z, v[idx]))
    out.append(TensorClaim(st.y, z, v[Y]))
    red_x = sumcheck_verifier.verify(proof.x_sumcheck, v[SX], st.windows.in_vars, X_PRODUCT, transcript,
                                     where=f"{where} X", public=(1,))
    x_v, w_v = red_x.values
    w_expected = wiring_value(x_weights(st, z), red_x.point, read_ids(st.windows), st.windows.src)
    if w_expected != w_v:
        raise PublicTableMismatch("W(t_X) is not the public wiring's value", where=where, expected=w_expected, got=w_v)
    out.append(TensorClaim(st.x, tuple(red_x.point), x_v))
    return out


def handler(node, specs, claim, reader, transcript):
    out = verify(setup(node, specs), reader.read(AveragePoolProof), transcript,
                 where=f"node {node.name} (AveragePool)")
    return out if claim is None else out + [claim]

"""What the training prover and verifier share: labels, the order of the
protocol, the sum-check shapes, the public tables' evaluations, the proof
container.

Protocol (after the advice commitment and the statement are bound):

 1. LogUp of every public lookup (range limbs, the two CDT tables, the
    sigmoid table) in one instance: claims on the looked-up columns and on
    the multiplicity tables.
 2. LogUp of the slots' fetched rows (i, x~_0 .. x~_(2^c - 1), y), numerator
    `live`, into the dataset's committed table (j, D_0 .. D_(d_in - 1), 2^f,
    0 .., D_label) with a public index column and public constants: claims
    on X at (r_f, k) for every k (sent, then joined into one claim at a
    random k-point), on y, live and i at r_f, on the dataset's columns and
    the row multiplicities at r_t.
 3. One zero-check per domain (slot, coord, step): sum_x E(x) sum_g alpha^g
    gate_g(x) = 0, E = eq(r, x) sel(x).
 4. The feature sum-check: lambda_1 dot(s_slot) + lambda_2 xn(s_slot) +
    lambda_3 shi(s_coord) = sum_(t,j,k) [lambda_1 E1 theta X + lambda_2 E1 X^2
    + lambda_3 E2 et X], E1 = eq(s_slot, (t, j)), E2 = eq(s_coord, (t, k)) [j < B_max]
    (a slot past B_max -- padding when B_max is not a power of two -- has no
    gate, so its et is free: the indicator keeps it out of the gradient sum).
 5. The shift check of `next` (next(t, k) = theta(t + 1, k)) and one
    prefix-sum check per claim on the virtual index i (i = LE kg - 1).
 6. theta(0, .) = theta_0 (public), theta(T, .) = thetaT, and thetaT hashes
    to c_theta (the private-weights link, `statements/inference/weights_link.py`).
 7. Discharge: advice claims as linear claims with their pads; the tape's
    and the dataset's claims re-padded from their own banks; openings.
"""

from __future__ import annotations

import struct

import numpy as np

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import eq_eval, prefix_indicator
from zkaudit.sumcheck.claim import SumOfProducts

STATEMENT = "train-dpsgd"
STATEMENT_TYPE = "train-dpsgd/v1"
PROTOCOL_VERSION = 4  # 2: the hiding openings batch their claims one pair per row point;
# 3: the weight link's tensor sum-checks batched, one per tensor size (`inference.weights_link` step 4)
# 4: the batch fetch's LogUp trees proven in lock step (`lookup.committed_table`, version 3)
WHERE = "training"
TAPE_BANK, DATASET_BANK = "tape", "dataset"
LABEL_GATES = b"training/gate-alpha"
LABEL_POINT = b"training/zero-check-point"
LABEL_FEAT = b"training/feature-lambda"
LABEL_FETCH_K = b"training/fetch-k-point"
LABEL_SENT = b"training/sent"
LABEL_INIT = b"training/theta-point"
PAIR = SumOfProducts.product(2)


LABEL_HIDDEN = b"training/hidden-lambda"
LABEL_FLAT = b"training/theta-flat-point"
PENDING = ("dot", "xn", "hnorm", "dnorm", "dtnorm", "pre", "shi", "next")  # virtual: reduced by a later sum-check


def feat_spec(lams, mlp: bool = False) -> SumOfProducts:
    """Logistic regression: tables [E1, E2, theta_b, et_b, X]. MLP: tables
    [E1u, E1, E2, W1f_b, dhtf_b, X] (E1u at the unit point's (t, j), W1f =
    W~1 at its u, dhtf = dht at the coord point's u)."""
    if mlp:
        return SumOfProducts.of(6, [(lams[0], (0, 3, 5)), (lams[1], (1, 5, 5)), (lams[2], (2, 4, 5))])
    return SumOfProducts.of(5, [(lams[0], (0, 2, 4)), (lams[1], (0, 4, 4)), (lams[2], (1, 3, 4))])


def hidden_spec(lams, f: int) -> SumOfProducts:
    """The MLP's sums over units, tables [E1, E3, E4, w2b, hid, dh, dht, etb]
    over (t, j, u): dot - 2^f b2, |h~|^2 - 2^2f, |dh|^2, |dh~|^2 at the slot
    point (E1), G2 = sum_j et hid at the coord point's (t, u) (E3 = eq eq
    [j < B]), the b2 gradient 2^f sum_j et at its t (E4 = eq [j < B] [u = 0])."""
    return SumOfProducts.of(8, [(lams[0], (0, 3, 4)), (lams[1], (0, 4, 4)), (lams[2], (0, 5, 5)),
                                (lams[3], (0, 6, 6)), (lams[4], (1, 7, 4)), (lams[5] * (1 << f), (2, 7))])


def broadcast(plan, dom: str, name: str, point):
    """Where a broadcast virtual table of the unit domain is read: (column, point)
    -- w2b(t, j, u) = theta(t, blk 1, u, k 0); sgb, eabb, denb, liveb(t, j, u) =
    the slot's column at (t, j); None for any other table."""
    if dom != "unit":
        return None
    a, b = plan.a, plan.b
    t, j, u = list(point[:a]), list(point[a:a + b]), list(point[a + b:])
    if name == "w2b":
        return "coord.theta", t + [Fp2(1)] + u + [Fp2(0)] * plan.xk
    src = {"sgb": "sg", "eabb": "eab", "denb": "den", "liveb": "live"}.get(name)
    return None if src is None else (f"slot.{src}", t + j)


def route_column(plan, dom: str, c: str, point, value, *, tape_claims: dict, virtual_i: list, claim) -> None:
    """A claim on column c of domain dom, routed the same way on both sides:
    R:* -> the tape (one claim per table), the virtual index i (and ilast, i at
    j = B_max - 1) -> a prefix-sum check, a unit broadcast -> its source
    column, anything else -> the column's advice table."""
    from zkaudit.lookup.claim import PointClaim

    if c.startswith("R:"):
        if c in tape_claims:
            raise MalformedProof(f"two claims on the tape table {c}", where=WHERE)
        tape_claims[c] = PointClaim(tuple(point), value)
    elif c == "i":
        virtual_i.append((tuple(point), value))
    elif c == "ilast":
        virtual_i.append((tuple(point) + tuple(bits_of(plan.B - 1, plan.b)), value))
    elif (b := broadcast(plan, dom, c, point)) is not None:
        claim(b[0], b[1], value)
    else:
        claim(f"{dom}.{c}", point, value)


def feature_claims(plan, point, values, claim, su=None, su2=None) -> None:
    """The claims the feature sum-check leaves at its point (t, j, k): on theta
    (logistic regression: theta(t, k); MLP: W~1(t, u_su, k)), on et or dht at
    the coord point's u (MLP), and on X."""
    a, b = plan.a, plan.b
    p = list(point)
    pt, pj, pk = p[:a], p[a:a + b], p[a + b:]
    if plan.h:
        claim("coord.theta", pt + [Fp2(0)] + list(su[a + b:]) + pk, values[3])
        claim("unit.dht", pt + pj + list(su2), values[4])
        claim("X", p, values[5])
    else:
        claim("coord.theta", pt + pk, values[2])
        claim("slot.et", pt + pj, values[3])
        claim("X", p, values[4])


def hidden_claims(plan, point, values, claim) -> None:
    """The claims the MLP's hidden-unit sum-check leaves at its point (t, j, u)."""
    a, b = plan.a, plan.b
    p = list(point)
    pt, pj, pu = p[:a], p[a:a + b], p[a + b:]
    claim("coord.theta", pt + [Fp2(1)] + pu + [Fp2(0)] * plan.xk, values[3])
    for i, c in ((4, "hid"), (5, "dh"), (6, "dht")):
        claim(f"unit.{c}", p, values[i])
    claim("slot.et", pt + pj, values[7])


def shi_parts(plan, s):
    """The MLP's coord point s = (t, blk, u, k) and the weights of the three
    gradient values it combines: shi(s) = (1 - blk) G1(t, u, k) + blk (eq(k, 0)
    G2(t, u) + eq(k, k_b2) eq(u, u_b2) Gb2(t)) (`tape.coord_layout`)."""
    a, e, c1 = plan.a, plan.e, plan.xk
    st, z, su, sk = list(s[:a]), s[a], list(s[a + 1:a + 1 + e]), list(s[a + 1 + e:])
    ub, kb = plan.b2_position()
    w1 = 1 - z
    w2 = z * eq_eval(bits_of(0, c1), sk)
    wb = z * eq_eval(bits_of(kb, c1), sk) * eq_eval(bits_of(ub, e), su)
    return st, su, sk, (w1, w2, wb)


def b2_point(plan, st) -> list:
    ub, kb = plan.b2_position()
    return list(st) + [Fp2(1)] + bits_of(ub, plan.e) + bits_of(kb, plan.xk)


def flat_weight(plan, r, s) -> Fp2:
    """M~(r, s) = sum_(k < d) eq(r, k) eq(s, pos(k)): the wiring from theta's
    flat order (thetaT, what c_theta hashes) to the proof's layout."""
    from zkaudit.field import vec
    from zkaudit.poly.mle import eq_table

    pos = plan.shape.positions
    er = eq_table(list(r))[:plan.d]
    es = eq_table(list(s))[pos]
    out = vec.inner(er, es)
    return out if isinstance(out, Fp2) else Fp2.from_base(out)


def zero_check_spec(names: list[str], dom, alphas: list[Fp2]) -> SumOfProducts:
    """Tables [E] + names; term alpha^g c_m E prod(m) for every monomial m of
    every gate, with the public table eq in place of E for the all-row gates."""
    index = {n: i + 1 for i, n in enumerate(names)}
    terms = []
    weighted = [(g, 0) for _, g in dom.gates] + [(g, index.get("eq")) for _, g in dom.all_rows]
    for (g, w), al in zip(weighted, alphas):
        for mono, c in g.terms.items():
            terms.append((al * c, (w, *(index[n] for n in mono))))
    return SumOfProducts.of(len(names) + 1, terms)


def num_gates(dom) -> int:
    return len(dom.gates) + len(dom.all_rows)


def domain_tables(dom) -> list[str]:
    """The zero-check's tables after E: columns, virtual, public (fixed order)."""
    return list(dom.columns) + list(dom.virtual) + list(dom.public)


def selector(sel, point) -> Fp2:
    """sel~(point) = sum over boxes of prod over index groups of [lo <= index < hi]~."""
    out = Fp2(0)
    for bx in sel:
        term, pos = Fp2(1), 0
        for nv, lo, hi in bx:
            pt = list(point[pos:pos + nv])
            term = term * (prefix_indicator(hi, pt) - (prefix_indicator(lo, pt) if lo else Fp2(0)))
            pos += nv
        out = out + term
    return out


def _eq_prefix(rr, ss, bound: int) -> Fp2:
    """sum_(x < bound) eq(r, x) eq(s, x) over nv-bit x, in O(nv)."""
    nv = len(rr)
    if bound >= 1 << nv:
        return eq_eval(rr, ss)
    if bound <= 0:
        return Fp2(0)
    suffix = [Fp2(1)] * (nv + 1)
    for k in range(nv - 1, -1, -1):
        suffix[k] = suffix[k + 1] * (rr[k] * ss[k] + (1 - rr[k]) * (1 - ss[k]))
    acc, prefix = Fp2(0), Fp2(1)
    for k in range(nv):
        q0, q1 = (1 - rr[k]) * (1 - ss[k]), rr[k] * ss[k]
        if (bound >> (nv - 1 - k)) & 1:
            acc = acc + prefix * q0 * suffix[k + 1]
            prefix = prefix * q1
        else:
            prefix = prefix * q0
    return acc


def masked_eq(sel, r, s) -> Fp2:
    """The MLE of E(x) = eq(r, x) sel(x) at s (not eq(r, s) sel~(s): the MLE of a
    product is not the product of MLEs): per box and index group,
    sum_(lo <= x < hi) eq(r, x) eq(s, x), in O(n) per box."""
    out = Fp2(0)
    for bx in sel:
        term, pos = Fp2(1), 0
        for nv, lo, hi in bx:
            rr, ss = list(r[pos:pos + nv]), list(s[pos:pos + nv])
            pos += nv
            term = term * (_eq_prefix(rr, ss, hi) - _eq_prefix(rr, ss, lo))
        out = out + term
    return out


def le_eval(x, y) -> Fp2:
    """LE~(x, y), LE(x, y) = [int(y) <= int(x)] (MSB first), in O(n)."""
    total, prefix = Fp2(0), Fp2(1)
    for xi, yi in zip(x, y):
        total = total + prefix * xi * (1 - yi)
        prefix = prefix * (xi * yi + (1 - xi) * (1 - yi))
    return total + prefix


def le_table(x) -> np.ndarray:
    """y -> LE~(x, y) over the cube, as an extension vector (O(n 2^n), small n)."""
    from zkaudit.field import vec

    n = len(x)
    out = vec.ext_zeros(1 << n)
    for y in range(1 << n):
        bits = [Fp2((y >> (n - 1 - i)) & 1) for i in range(n)]
        v = le_eval(x, bits)
        out[y, 0], out[y, 1] = v.c0, v.c1
    return out


def bits_of(value: int, n: int) -> list[Fp2]:
    return [Fp2((value >> (n - 1 - i)) & 1) for i in range(n)]


def theta_layouts(policy):
    from zkaudit.hash.commitment import TensorLayout

    return (TensorLayout("theta", (policy.num_params,), -policy.weight_limit, policy.weight_limit),)


def dataset_indices(dataset, policy) -> tuple[list[int], int]:
    """Polynomial indices of the policy's feature columns (in order) and its label in the dataset."""
    names = dataset.doc["polynomials"]
    try:
        return [names.index(f) for f in policy.features], names.index(policy.label)
    except ValueError as exc:
        raise MalformedProof(f"the dataset lacks a column the policy trains on: {exc}") from None


# --- the proof container ----------------------------------------------------
def pack(blobs: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(b)) + b for b in blobs)


class Blobs:
    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    def next(self, what: str) -> bytes:
        if self.offset + 4 > len(self.data):
            raise MalformedProof(f"training proof truncated before the {what}", where=WHERE)
        (n,) = struct.unpack("<I", self.data[self.offset:self.offset + 4])
        end = self.offset + 4 + n
        if end > len(self.data):
            raise MalformedProof(f"training proof truncated in the {what}", where=WHERE, expected=end,
                                 got=len(self.data))
        out = self.data[self.offset + 4:end]
        self.offset = end
        return out

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise MalformedProof("training proof has trailing bytes", where=WHERE, expected=self.offset,
                                 got=len(self.data))


# --- stacked advice and claim bookkeeping --------------------------------------
LABEL_STACK = b"training/stack-point"
MAX_TABLE_VARS = 24  # PcsParams.max_log_codeword of `hiding_params`
LABEL_COMBINE = b"training/combine-weights"


def stacks(dom) -> list[tuple[str, int, int]]:
    """(table name, first column, p) per stacked table of a domain: its columns
    cut into runs of 2^p by the binary digits of their count (72 = 64 + 8;
    runs of at most 2^(24 - num_vars) columns, so that no table passes 2^24),
    each run committed as ONE table with the column index in the high p bits.
    The opening pays one term per table, not per column, and no column of a
    stack is padding."""
    n = len(dom.columns)
    cap = max(0, MAX_TABLE_VARS - dom.num_vars)  # a stacked table stays within the commitment's largest table
    full, rest = divmod(n, 1 << cap)
    sizes = [cap] * full + [p for p in range(cap - 1, -1, -1) if rest >> p & 1]
    out, start = [], 0
    for p in sizes:
        out.append((f"{dom.name}#{len(out)}", start, p))
        start += 1 << p
    return out


class ClaimBook:
    """Claims per advice table, shared by prover and verifier so both route and
    combine them identically. A claim on column c of domain D at z is a claim
    on c's stacked table at (bits(c's index in it), z)."""

    def __init__(self, plan):
        self.plan = plan
        self.claims: dict[str, list] = {}
        self.exact: list = []
        self.where: dict[tuple[str, str], tuple[str, int, int]] = {}
        for d in plan.domains.values():
            for name, start, p in stacks(d):
                for i in range(1 << p):
                    self.where[(d.name, d.columns[start + i])] = (name, i, p)

    def _route(self, name: str, point):
        dom, _, col = name.partition(".")
        if (dom, col) in self.where:
            table, i, p = self.where[(dom, col)]
            return table, tuple(bits_of(i, p)) + tuple(point)
        return name, tuple(point)

    def add(self, name: str, point, value) -> None:
        from zkaudit.lookup.claim import PointClaim

        table, pt = self._route(name, point)
        self.claims.setdefault(table, []).append(PointClaim(pt, value))

    def add_exact(self, name: str, point, value) -> None:
        self.exact.append((*self._route(name, point), value))

    def add_stacked(self, dom, s, values: dict, transcript) -> None:
        """All of a domain's columns at the zero-check point s, one claim per
        stacked table: T~(rho, s) = sum_i eq(rho, i) v_(start + i) for a fresh rho."""
        from zkaudit.lookup.claim import PointClaim

        for name, start, p in stacks(dom):
            rho = transcript.challenge_exts(LABEL_STACK + name.encode(), p)
            total = Fp2(0)
            for i in range(1 << p):
                total = values[dom.columns[start + i]] * eq_eval(bits_of(i, p), rho) + total
            self.claims.setdefault(name, []).append(PointClaim(tuple(rho) + tuple(s), total))

    def to_combine(self, transcript) -> list:
        """(table, claims, rhos, target) for each table with more than one claim, in name order."""
        out = []
        for name in sorted(self.claims):
            cl = self.claims[name]
            if len(cl) < 2:
                continue
            rhos = transcript.challenge_exts(LABEL_COMBINE + name.encode(), len(cl))
            target = Fp2(0)
            for r, c in zip(rhos, cl):
                target = c.value * r + target
            out.append((name, cl, rhos, target))
        return out

    def weight_at(self, claims, rhos, point) -> Fp2:
        total = Fp2(0)
        for r, c in zip(rhos, claims):
            total = total + r * eq_eval(list(c.point), list(point))
        return total


def fetch_claims(plan, dataset, claims, transcript, claim, column_claim) -> list:
    """What the record fetch's LogUp leaves, routed the same way on both sides:
    the index (virtual: a prefix sum), X at (r_f, k) for every k joined at a
    fresh k-point, the label, the numerators `live`, the row multiplicities;
    the public table columns (index j, the constant 2^f, zeros) as deferred
    checks against the verifier's own evaluations. Returns the claims on the
    dataset's feature and label polynomials, (index, PointClaim)."""
    Kp = 1 << plan.xk
    lc = claims.lookup_columns
    column_claim("slot", "i", lc[0].point, lc[0].value)
    rho = transcript.challenge_exts(LABEL_FETCH_K, plan.xk)
    xv = Fp2(0)
    for k in range(Kp):
        xv = lc[1 + k].value * eq_eval(bits_of(k, plan.xk), rho) + xv
    claim("X", tuple(lc[0].point) + tuple(rho), xv)
    claim("slot.y", lc[-1].point, lc[-1].value)
    claim("slot.live", claims.numerators.point, claims.numerators.value)
    claim("mD", claims.multiplicities.point, claims.multiplicities.value)
    rt = list(claims.table_columns[0].point)
    index = Fp2(0)
    for k, r in enumerate(rt):
        index = index + r * (1 << (len(rt) - 1 - k))
    transcript.zk.require_equal(claims.table_columns[0].value, index, where="training.fetch index")
    for k in range(plan.dx - 1, Kp):
        const = Fp2(1 << plan.f) if k == plan.dx - 1 else Fp2(0)
        transcript.zk.require_equal(claims.table_columns[1 + k].value, const, where="training.fetch constants")
    feat_idx, label_idx = dataset_indices(dataset, plan.policy)
    return list(zip(list(feat_idx) + [label_idx], list(claims.table_columns[1:plan.dx]) + [claims.table_columns[-1]]))

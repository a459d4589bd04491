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
from zkaudit.statements.training.expr import Expr
from zkaudit.sumcheck.claim import SumOfProducts

STATEMENT = "train-dpsgd"
STATEMENT_TYPE = "train-dpsgd/v1"
PROTOCOL_VERSION = 1
WHERE = "training"
TAPE_BANK, DATASET_BANK = "tape", "dataset"
LABEL_GATES = b"training/gate-alpha"
LABEL_POINT = b"training/zero-check-point"
LABEL_FEAT = b"training/feature-lambda"
LABEL_FETCH_K = b"training/fetch-k-point"
LABEL_SENT = b"training/sent"
LABEL_INIT = b"training/theta-point"
PAIR = SumOfProducts.product(2)


def feat_spec(lams) -> SumOfProducts:
    """Tables [E1, E2, theta_b, et_b, X]."""
    return SumOfProducts.of(5, [(lams[0], (0, 2, 4)), (lams[1], (0, 4, 4)), (lams[2], (1, 3, 4))])


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
    """sel~(point) = prod over index groups of the prefix indicator [index < bound]."""
    out, pos = Fp2(1), 0
    for nv, bound in sel:
        out = out * prefix_indicator(bound, list(point[pos:pos + nv]))
        pos += nv
    return out


def masked_eq(sel, r, s) -> Fp2:
    """The MLE of E(x) = eq(r, x) sel(x) at s (not eq(r, s) sel~(s): the MLE of a
    product is not the product of MLEs): per index group,
    sum_(x < bound) eq(r, x) eq(s, x), in O(n)."""
    out, pos = Fp2(1), 0
    for nv, bound in sel:
        rr, ss = list(r[pos:pos + nv]), list(s[pos:pos + nv])
        pos += nv
        if bound >= 1 << nv:
            out = out * eq_eval(rr, ss)
            continue
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
        out = out * acc
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
LABEL_COMBINE = b"training/combine-weights"


def stacks(dom) -> list[tuple[str, int, int]]:
    """(table name, first column, p) per stacked table of a domain: its columns
    cut into runs of 2^p by the binary digits of their count (72 = 64 + 8),
    each run committed as ONE table with the column index in the high p bits.
    The opening pays one term per table, not per column, and no column of a
    stack is padding."""
    out, start, n = [], 0, len(dom.columns)
    for p in range(n.bit_length() - 1, -1, -1):
        if n >> p & 1:
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
    Kp = 1 << plan.c
    lc = claims.lookup_columns
    column_claim("slot", "i", lc[0].point, lc[0].value)
    rho = transcript.challenge_exts(LABEL_FETCH_K, plan.c)
    xv = Fp2(0)
    for k in range(Kp):
        xv = lc[1 + k].value * eq_eval(bits_of(k, plan.c), rho) + xv
    claim("X", tuple(lc[0].point) + tuple(rho), xv)
    claim("slot.y", lc[-1].point, lc[-1].value)
    claim("slot.live", claims.numerators.point, claims.numerators.value)
    claim("mD", claims.multiplicities.point, claims.multiplicities.value)
    rt = list(claims.table_columns[0].point)
    index = Fp2(0)
    for k, r in enumerate(rt):
        index = index + r * (1 << (len(rt) - 1 - k))
    transcript.zk.require_equal(claims.table_columns[0].value, index, where="training.fetch index")
    for k in range(plan.d - 1, Kp):
        const = Fp2(1 << plan.f) if k == plan.d - 1 else Fp2(0)
        transcript.zk.require_equal(claims.table_columns[1 + k].value, const, where="training.fetch constants")
    feat_idx, label_idx = dataset_indices(dataset, plan.policy)
    return list(zip(list(feat_idx) + [label_idx], list(claims.table_columns[1:plan.d]) + [claims.table_columns[-1]]))

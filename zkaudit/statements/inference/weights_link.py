"""Private weights (issue 16; zero-knowledge.md §5): the registered weight
commitment is the salted Poseidon2 Merkle root of `zkaudit.hash.commitment`,
never opened. A zero-knowledge proof commits the weights afresh, inside its
hiding advice commitment, together with tables of its own:

    DIGESTS  D (2L, 4): the output digest of every permutation of the tree,
             in heap order (slot 1 the root, slot s's children 2s, 2s + 1,
             leaves in slots L .. 2L - 1, slot 0 a dummy)
    SALT     the 2 salt elements
    SBOX     U (2L, 32), only when the plan is `blocked`: each slot's 22
             partial-round S-box inputs (`hash.gkr_block`), lanes 22..31 zero

and proves that those weights, packed and salted, hash to the registered
root. This file is the protocol both sides share, and its verifier.

**Permutation inputs.** X (2L, 8) is *defined* from the committed tables;
it is never committed:

    slot 0           0 (the dummy: its output Perm(0)[0:4] is a constant P0)
    slot s in 1..L-1 D(2s) || D(2s + 1)
    slot L + i       message[7i .. 7i + 6] || LEAF_TAG

with message = salt || header || pack(W_1) || ... (zero beyond its length):
header public, each packed element a public linear form of a weight
tensor's entries (`hash.commitment`: e = sum_u 256^(b u) (w - lo), or w raw).

**Protocol**, after the layers and the range checks:
1. A random point z_D over D; the prover sends v = D~(z_D) (padded): a
   claim on D, and the claim "lanes 0..3 of the permutation outputs, at
   z_D" that the data-parallel GKR (`zkaudit.hash.gkr`) reduces to
   sum_j mu_j X~(z, j) = v' at a point z = (z_1, w), z_1 the slot's top bit.
   A `blocked` plan (the inference statement's, for trees of at most
   `BLOCK_SLOTS_UP_TO` slots) runs the GKR's 22 partial rounds as one
   sum-check (`hash.gkr_block`: 9 sum-checks instead of 30), which also
   leaves U~(z', j) for j < 22 at the block's point z'.
2. The prover sends d_y = D~(w, y) for y in {0,1}^3 (slot's low bit, lane
   bits), the salt s_0, s_1 and, per weight tensor t, S_t = sum_x K_t(x)
   W_t(x), all padded; the verifier checks (deferred in zero knowledge)

     v' = (1 - z_1) [ sum_j mu_j d_j - eq(w, 0) (mu_0..3 . P0 + mu_4..7 . root) ]
        + z_1 [ mu_7 TAG + c_0 s_0 + c_1 s_1 + sum_{p=2..9} c_p header_{p-2}
                + sum_t (S_t - lo_t sum_x K_t(x)) ]

   where c_p = mu_{p mod 7} eq(w, p div 7) weights message position p, and
   K_t(x) = c_{pos(x)} 256^(b u(x)) for a real entry x of tensor t stored as
   digit u of element pos(x) (0 on the padding). The first line is the
   internal slots' wiring with slot 0's correction (its wiring would read
   D(0) || D(1); subtracting the public P0 || root makes its input 0, so
   the honest D(0) = P0). The second is the leaves': every leaf ends in the
   tag (sum_i eq(w, i) = 1) and every message element is a public linear
   form of the committed tables. A blocked plan also sends U~(z', j) for
   the ten lanes j >= 22, and a random rho over the lane bits makes the 32
   values one claim on U at (z', rho) (`sbox_claim`).
3. D(1) = root: a claim on D at (slot 1, a random lane point) whose value
   the verifier computes from the record.
4. One sum-check per tensor size reduces S_t to a claim on W_t: for the
   tensors G of n variables, with fresh beta_t,

     sum_{t in G} beta_t S_t = sum_x sum_{t in G} beta_t W_t(x) K_t(x)

   (K_t public), ending in W_t and K_t at one point; the verifier
   evaluates each K_t~ itself. A false S_t survives the betas with
   probability 1/|K|. (Tiling the smaller tensors up to the largest's
   variables would make it one sum-check in all, but costs more than it
   saves when the sizes differ: digits_cnn's 6 tensors, 2^4..2^13 entries,
   took 13 ms tiled against 5 ms apart.) In the inference statement a
   tensor's S_t may instead join step 5 (`zk.worth_merging`, the prover's
   choice, flagged): only the tensors not merged run step 4, after the
   merged combinations (`verify_deferred`, then `zk.verify_hidden_weights`).
5. Claims on W_t, D and the salt join the advice opening. First, the
   claims on each W_t and on D may become one (the prover's choice,
   flagged and absorbed): a zero-knowledge sum-check of T E, E = sum_j
   rho_j eq(z_j, .), padded from the bank like every other, ends in one
   claim on T at its point s, the verifier evaluating E(s) itself. For a
   weight tensor that merges its S_t, E gains rho_K K_t and the claimed sum
   rho_K S_t, rho_K drawn after every other weight: one sum-check proves
   the point claims and step 4's sum together (a false S_t or claim
   survives with probability 1/|K|), and small tensors save step 4's
   masked sum-check. It changes only what the proof costs: every claim on
   a table that spans whole rows of the hiding matrix costs the opening a
   product with every row (`pcs.hiding.term_dots`), so D's ten claims and
   each small tensor's four are worth one; a large tensor's are not
   (`zk.worth_combining`, `zk.worth_merging`).
Nothing is left free:
X is a function of committed tables; U's lanes 0..21 are fixed by the
block's zero-check and its lanes 22..31 enter no check (`hash.gkr_block`);
D is fixed slot by slot by the GKR
(its output claim is at a random point of all of D); the weights' padding
is zero by the range checks (`committed_range`) and outside every K_t;
the weights lie in their declared ranges, so each packed element has one
preimage. Soundness: the GKR's bound plus 2 (sends, deferred checks) and
one degree-2 sum-check per tensor size not merged and one per
combination, each with its batching weights, all over |K| ~ 2^128.

**Zero knowledge.** Every value sent is padded from the bank, every
sum-check masked; the root, the header and the layout are public. What
stays hidden, across any number of proofs: the weights, the salt, every
S-box input and every digest but the root (each proof's commitment is fresh and hiding).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import BYTES_EXT, Fp, Fp2
from zkaudit.hash import commitment as hc
from zkaudit.hash.gkr import LaneClaim
from zkaudit.hash.params import DIGEST_LEN, LEAF_RATE, LEAF_TAG
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers import kernels
from zkaudit.layers.tensor import num_vars, padded_shape
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck.zk import check_equal, receive

DIGESTS = "#weights/p2gl8-digests"  # not an ONNX-derivable name ('#' starts no tensor name zkaudit makes)
SALT = "#weights/p2gl8-salt"
SBOX = "#weights/p2gl8-sbox-inputs"
RESERVED = (DIGESTS, SALT, SBOX)  # names no circuit tensor may take
# Trees of at most this many permutation slots prove their partial rounds as
# one block (`hash.gkr_block`: 9 sum-checks instead of 30, for 32 committed
# words a slot); bigger ones run the layered GKR. Measured on 2 threads: the
# block saves the GKR 30, 51, 69 and ~110 ms at 2^10..2^13 slots, while its
# table costs the commitment and its opening ~0.57 us a word (19, 37, 75, 150
# ms): wide_mlp's 2^13 slots were 110 ms slower blocked.
BLOCK_SLOTS_UP_TO = 1 << 11
LABEL_OUTPUT_POINT = b"inference/weights-link/output-point"
LABEL_SENT = b"inference/weights-link/values"
LABEL_ROOT_POINT = b"inference/weights-link/root-point"
LABEL_TENSOR_BATCH = b"inference/weights-link/tensor-batch"
WIDTH = 2 * DIGEST_LEN


class WrongWeightLayout(ProofRejected):
    """The registered commitment was made for other weight tensors (count,
    names, shapes or ranges) than the circuit's."""


class WeightLinkMismatch(ProofRejected):
    """The committed weights, salt and digests do not hash to the registered root."""


def hidden_weight_names(circuit, plan: "LinkPlan") -> list[str]:
    """The tables the advice commitment holds after the advice when the
    weights are hidden: the weights (circuit order), D, the salt and, when
    the partial rounds run as a block, U (`LinkPlan.table_vars`' order)."""
    return [s.name for s in circuit.weights] + list(plan.table_vars())


@dataclass(frozen=True)
class LinkPlan:
    """What both sides derive from the circuit and the registered record."""

    record: hc.WeightCommitment
    layouts: tuple[hc.TensorLayout, ...]
    blocked: bool = False  # the GKR's partial rounds as one block, U committed (`hash.gkr_block`)

    def __post_init__(self):
        # the tensors packed as the registered record's scheme packs them (a v1 root stays provable)
        object.__setattr__(self, "layouts", hc.in_scheme(self.layouts, self.record.scheme))

    @staticmethod
    def of(circuit, commitment_bytes: bytes, *, block_partial_rounds: bool = True) -> "LinkPlan":
        """`block_partial_rounds`: prove the partial rounds as one block when
        the tree has at most `BLOCK_SLOTS_UP_TO` slots (a public choice: both
        sides derive it from the record). The inference statement does; the
        training and link statements, one proof per run, keep the layered GKR."""
        from zkaudit.statements.inference.commitment import weight_layouts

        record = hc.WeightCommitment.from_bytes(commitment_bytes)
        try:
            layouts = tuple(weight_layouts(circuit))
        except ValueError as exc:  # a declared range no packing holds (beyond the field)
            raise WrongWeightLayout(f"the circuit's weights cannot be hashed: {exc}", where="inference.weights") from None
        n = sum(t.size for t in layouts)
        if record.n_weights != n or record.layout_digest != hc.layout_digest(layouts):
            raise WrongWeightLayout("the registered weight commitment is for other weight tensors than this circuit's",
                                    where="inference.weights", expected=(n, hc.layout_digest(layouts).hex()),
                                    got=(record.n_weights, record.layout_digest.hex()))
        key = (bytes(commitment_bytes), layouts, block_partial_rounds, BLOCK_SLOTS_UP_TO)  # the setting, read now
        plan = _PLANS.get(key)
        if plan is None:
            plan = LinkPlan(record, layouts)
            if block_partial_rounds and 2 * plan.num_leaves <= BLOCK_SLOTS_UP_TO:
                plan = LinkPlan(record, layouts, True)
            if len(_PLANS) >= _PLANS_KEPT:
                _PLANS.pop(next(iter(_PLANS)))
            _PLANS[key] = plan
        return plan

    @cached_property
    def message_len(self) -> int:
        return hc.PREFIX_LEN + sum(t.num_elements for t in self.layouts)

    @cached_property
    def num_leaves(self) -> int:
        """2^k leaves of 7 elements (`hash.merkle.num_leaves_for`, not
        imported: it would load the numba kernels into the verifier)."""
        blocks = -(-self.message_len // LEAF_RATE)
        return 1 << (blocks - 1).bit_length()

    @property
    def leaf_vars(self) -> int:
        return self.num_leaves.bit_length() - 1

    @property
    def slot_vars(self) -> int:
        return self.leaf_vars + 1

    @property
    def digest_vars(self) -> int:
        return self.slot_vars + 2

    def table_vars(self) -> dict[str, int]:
        """The tables the link adds to the advice commitment, in order."""
        from zkaudit.hash.gkr_block import LANE_VARS

        out = {DIGESTS: self.digest_vars, SALT: 1}
        if self.blocked:
            out[SBOX] = self.slot_vars + LANE_VARS
        return out

    @cached_property
    def header(self) -> list[int]:
        return hc.header_elements(self.record.n_weights, self.record.layout_digest, self.record.scheme)

    @property
    def dummy_digest(self) -> tuple[int, ...]:
        """Perm(0)[0:4] (`dummy_digest`)."""
        return dummy_digest()

    @cached_property
    def placements(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per tensor: (real table positions x, message positions, digit
        scale 256^(b u) as base-field uint64), in table order (x increasing:
        the real entries in row-major order, `real_positions`)."""
        out = []
        for t, off in zip(self.layouts, hc.element_offsets(self.layouts)):
            x = real_positions(tuple(t.shape))
            k = t.per_element
            elements = -(-t.size // k)
            # entry i is digit i mod k of element off + i div k
            pos = off + np.repeat(np.arange(elements, dtype=np.int64), k)[: t.size]
            if t.raw:
                scale = np.ones(x.shape[0], dtype=np.uint64)
            else:
                digits = np.ones(k, dtype=np.uint64) << (t.digit_bits * np.arange(k, dtype=np.uint64))
                scale = np.tile(digits, elements)[: t.size]
            out.append((x, pos, scale))
        return out

    @cached_property
    def all_placements(self) -> tuple[np.ndarray, np.ndarray]:
        """Every tensor's message positions and digit scales, concatenated in layout order."""
        if not self.placements:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
        return (np.concatenate([pos for _, pos, _ in self.placements]),
                np.concatenate([scale for _, _, scale in self.placements]))

    def bank_estimate(self) -> int:
        """Bank elements the link consumes (masks, pads, sends)."""
        from zkaudit.hash.gkr import NUM_ROUNDS

        n = self.slot_vars
        gkr = NUM_ROUNDS * (8 * n + 9 + 10)  # the layered GKR; the block's (9 sum-checks, 31 and 10 pads) is less
        tensors = sum(5 * num_vars(t.shape) + 12 for t in self.layouts)  # step 4 and the combination
        return gkr + tensors + 2 * self.digest_vars + 4 + 32


# The plans of the last few (commitment, circuit weights) pairs: a plan's
# cached tables (the placements, K_t's gathers) depend on nothing else, and a
# tree model's took ~2 ms a proof to rebuild. Plans are immutable; their
# arrays are only read.
_PLANS: dict = {}
_PLANS_KEPT = 8


@lru_cache(maxsize=1)
def dummy_digest() -> tuple[int, ...]:
    """Perm(0)[0:4], by the plain-Python reference (one permutation, a
    constant: ~1 ms of Python each time it was recomputed)."""
    from zkaudit.hash.reference import permute

    return tuple(permute([0] * WIDTH)[:DIGEST_LEN])


def real_positions(shape: tuple[int, ...]) -> np.ndarray:
    """The padded table index of every real entry of a tensor, in row-major
    order (what `embed` places entry i at)."""
    x = np.zeros(1, dtype=np.int64)
    for d, p in zip(shape, padded_shape(shape)):  # row-major: each dimension appends its padded digit
        x = (x[:, None] * p + np.arange(d, dtype=np.int64)[None, :]).ravel()
    return x


def position_weights(plan: LinkPlan, mu, w) -> np.ndarray:
    """c_p = mu_{p mod 7} eq(w, p div 7) for every message position p < 7L,
    as an (7L, 2) extension vector."""
    cw = eq_table(list(w)) if w else vec.lift(np.ones(1, dtype=np.uint64))
    mu7 = np.array([[m.c0, m.c1] for m in mu[:LEAF_RATE]], dtype=np.uint64)
    rows = np.repeat(cw, LEAF_RATE, axis=0)
    lanes = np.tile(mu7, (plan.num_leaves, 1))
    return vec.mul(rows, lanes)


def wiring_table(plan: LinkPlan, t: int, c: np.ndarray) -> np.ndarray:
    """K_t over tensor t's padded table (extension vector)."""
    layout = plan.layouts[t]
    x, pos, scale = plan.placements[t]
    out = vec.ext_zeros(1 << num_vars(layout.shape))
    if x.shape[0]:
        out[x] = vec.mul(c[pos], scale)
    return out


def wiring_tables(plan: LinkPlan, c: np.ndarray) -> list[np.ndarray]:
    """Every tensor's K_t (`wiring_table`, the reference) from one gather and
    one product over all tensors' entries: a tree model's dozen small
    tensors cost a dozen numpy products of a few hundred entries each."""
    pos, scale = plan.all_placements
    values = vec.mul(c[pos], scale)
    out, at = [], 0
    for layout, (x, _, _) in zip(plan.layouts, plan.placements):
        table = vec.ext_zeros(1 << num_vars(layout.shape))
        table[x] = values[at: at + x.shape[0]]
        at += x.shape[0]
        out.append(table)
    return out


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v) if isinstance(v, Fp) else Fp2(int(v) % P)


def public_parts(plan: LinkPlan, mu, z, c: np.ndarray):
    """(internal-slot correction, leaf constant, per-tensor lo terms) of the
    step-2 identity: everything in it the verifier computes alone."""
    w = list(z[1:])
    eq0 = Fp2(1)
    for wi in w:
        eq0 = eq0 * (Fp2(1) - wi)
    root = plan.record.root
    corr = Fp2(0)
    for j in range(DIGEST_LEN):
        corr = corr + mu[j] * Fp2(plan.dummy_digest[j]) + mu[DIGEST_LEN + j] * Fp2(root[j])
    corr = eq0 * corr
    leaf_const = mu[7] * Fp2(LEAF_TAG)
    for p, h in enumerate(plan.header, start=hc.SALT_LEN):
        leaf_const = leaf_const + Fp2(int(c[p, 0]), int(c[p, 1])) * Fp2(h)
    return corr, leaf_const


def lo_term(plan: LinkPlan, t: int, k_table: np.ndarray) -> Fp2:
    """lo_t sum_x K_t(x) for a packed tensor (0 raw): the offset-binary shift."""
    layout = plan.layouts[t]
    if layout.raw or layout.lo == 0:
        return Fp2(0)
    return _ext(vec.sum(k_table)) * Fp2(layout.lo % P)


# The verifier's view of K_t: its sum and its value at a point straight from
# the placements (`layers.kernels.placed_sum`), never the 2^n table that
# `wiring_table` builds for the prover (same values: tests hold them equal).


def lo_term_of(plan: LinkPlan, t: int, c: np.ndarray) -> Fp2:
    """`lo_term` without K_t's table: sum_x K_t(x) = sum_e c_e sigma_e over
    the tensor's elements e, sigma_e = sum of 256^(b u) over e's digits u
    (all k of them but in a partial last element)."""
    layout = plan.layouts[t]
    if layout.raw or layout.lo == 0:
        return Fp2(0)
    off = hc.element_offsets(plan.layouts)[t]
    k, full = layout.per_element, layout.size // layout.per_element
    total = Fp2(0)
    if full:
        total = _ext(vec.sum(c[off: off + full])) * Fp2(_digit_sum(layout.digit_bits, k))
    if layout.size % k:
        total = total + Fp2(int(c[off + full, 0]), int(c[off + full, 1])) * Fp2(
            _digit_sum(layout.digit_bits, layout.size % k))
    return total * Fp2(layout.lo % P)


def _digit_sum(bits: int, digits: int) -> int:
    return sum(1 << (bits * u) for u in range(digits)) % P


def packing_value(plan: LinkPlan, t: int, c: np.ndarray, point) -> Fp2:
    """K_t~(point) without K_t's table: entry i of tensor t is digit i mod k
    of element off_t + i div k, at table position x_i (`real_positions`)."""
    layout = plan.layouts[t]
    off = hc.element_offsets(plan.layouts)[t]
    x = real_positions(tuple(layout.shape))
    return Fp2(*kernels.placed_sum(c, off, _digit_scales(layout), x, point))


def _digit_scales(layout) -> np.ndarray:
    """256^(b u) (as `placements` scales them) for the k digits u of an element; [1] raw."""
    if layout.raw:
        return np.ones(1, dtype=np.uint64)
    k = layout.per_element
    return np.ones(k, dtype=np.uint64) << (layout.digit_bits * np.arange(k, dtype=np.uint64))


def combine_identity(plan, mu, z, c, d, salt, sums, lo_terms):
    """The right side of step 2 (Fp2 or Hidden arithmetic, both sides)."""
    corr, leaf_const = public_parts(plan, mu, z, c)
    internal = None
    for j in range(WIDTH):
        term = mu[j] * d[j]
        internal = term if internal is None else internal + term
    internal = internal - corr
    leaf = salt[0] * Fp2(int(c[0, 0]), int(c[0, 1])) + salt[1] * Fp2(int(c[1, 0]), int(c[1, 1])) + leaf_const
    for s, lo in zip(sums, lo_terms):
        leaf = leaf + s - lo
    z1 = z[0]
    return (Fp2(1) - z1) * internal + z1 * leaf


def output_claim(plan: LinkPlan, transcript) -> tuple[list[Fp2], LaneClaim]:
    """Step 1's point over D and the GKR's lane combination (value filled by the caller)."""
    z_d = transcript.challenge_exts(LABEL_OUTPUT_POINT, plan.digest_vars)
    gamma = tuple(eq_table(z_d[-2:]).tolist())
    gamma = tuple(Fp2(int(a), int(b)) for a, b in gamma) + (Fp2(0),) * DIGEST_LEN
    return z_d, LaneClaim(tuple(z_d[:-2]), gamma, None)


def root_claim(plan: LinkPlan, transcript) -> TensorClaim:
    """Step 3: D~(slot 1, r) = sum_a eq(r, a) root_a, public."""
    r = transcript.challenge_exts(LABEL_ROOT_POINT, 2)
    e = eq_table(r)
    value = Fp2(0)
    for a in range(DIGEST_LEN):
        value = value + Fp2(int(e[a, 0]), int(e[a, 1])) * Fp2(plan.record.root[a])
    slot_bits = [Fp2((1 >> (plan.slot_vars - 1 - i)) & 1) for i in range(plan.slot_vars)]
    return TensorClaim(DIGESTS, tuple(slot_bits) + tuple(r), value)


def digest_points(z) -> list[tuple[Fp2, ...]]:
    """(w, y) for y in {0,1}^3, y's bits (slot low bit, lane bits) MSB first."""
    w = tuple(z[1:])
    return [w + tuple(Fp2((y >> s) & 1) for s in (2, 1, 0)) for y in range(WIDTH)]


def tensor_groups(plan: LinkPlan, tensors=None) -> list[tuple[int, list[int]]]:
    """Step 4's sum-checks: (n, the tensors of n variables in layout order),
    by decreasing n; `tensors` (default all) the ones still to reduce."""
    groups: dict[int, list[int]] = {}
    for t, layout in enumerate(plan.layouts):
        if tensors is None or t in tensors:
            groups.setdefault(num_vars(layout.shape), []).append(t)
    return sorted(groups.items(), key=lambda g: -g[0])


@dataclass(frozen=True)
class TensorSums:
    """Step 2's S_t = sum_x K_t(x) W_t(x), not yet reduced to claims on the
    weights (step 4 or 5), with what K_t is built from: the position weights
    c at the GKR's point. `k_tables` the prover's K_t tables (None on the
    verifier's side, which evaluates K_t~ from the placements)."""

    plan: LinkPlan
    sums: tuple
    c: np.ndarray
    k_tables: tuple | None = None

    def k_value(self, t: int, point) -> Fp2:
        return packing_value(self.plan, t, self.c, list(point))


def tensor_batch(group: list[int], sums, transcript):
    """One group's sum-check: (the spec over the tables [W_t, K_t for t in
    the group], the claimed sum sum_t beta_t S_t), fresh beta_t drawn."""
    betas = transcript.challenge_exts(LABEL_TENSOR_BATCH, len(group))
    spec = SumOfProducts.of(2 * len(group), [(b, (2 * i, 2 * i + 1)) for i, b in enumerate(betas)])
    claimed = None
    for b, t in zip(betas, group):
        term = b * sums[t]
        claimed = term if claimed is None else claimed + term
    return spec, claimed


def spec_public(group: list[int]) -> tuple[int, ...]:
    """The K_t tables of a group's spec: the verifier's own."""
    return tuple(range(1, 2 * len(group), 2))


def sent_count(plan: LinkPlan) -> int:
    """D at the eight points, the salt, one sum per tensor and, blocked, U~(z', j) for the ten lanes j >= 22."""
    return WIDTH + 2 + len(plan.layouts) + (_padding_lanes() if plan.blocked else 0)


def _padding_lanes() -> int:
    from zkaudit.hash.gkr_block import LANES, NUM_PARTIAL

    return LANES - NUM_PARTIAL


def sbox_claim(plan: LinkPlan, point, lanes, sent_lanes, transcript) -> TensorClaim:
    """The claim on U from the block's values U~(z', j), j < 22, and the ten
    sent for j >= 22: U~(z', rho) at a fresh rho over the lane bits."""
    from zkaudit.hash import gkr_block as gb

    rho = gb.lane_point(transcript)
    return TensorClaim(SBOX, tuple(point) + tuple(rho), gb.lane_claim_value(rho, list(lanes) + list(sent_lanes)))


# ------------------------------------------------------------------ verifier


def _read_exts(reader, count: int) -> list[Fp2]:
    end = reader.offset + count * BYTES_EXT
    if end > len(reader.data):
        raise MalformedProof("weight-link values truncated", where="inference.weights", expected=end,
                             got=len(reader.data))
    out = [Fp2.from_bytes(reader.data[reader.offset + i * BYTES_EXT: reader.offset + (i + 1) * BYTES_EXT])
           for i in range(count)]
    reader.offset = end
    return out


def verify_deferred(plan: LinkPlan, reader, transcript) -> tuple[list[TensorClaim], TensorSums]:
    """The verifier's steps 1-3: the claims on D, the salt and U, and the
    tensors' sums for step 4 (`verify_tensor_sums`) or 5 (`zk.verify_hidden_weights`)."""
    from zkaudit.hash.gkr import NUM_ROUNDS
    from zkaudit.hash.gkr_verifier import verify as gkr_verify
    from zkaudit.sumcheck.proof import SumcheckProof

    where = "inference.weights-link"
    z_d, start = output_claim(plan, transcript)
    (v_sent,) = _read_exts(reader, 1)
    v = receive(transcript, v_sent)
    transcript.absorb_ext(LABEL_SENT, v_sent)
    claims = [TensorClaim(DIGESTS, tuple(z_d), v)]
    start = LaneClaim(start.point, start.gamma, v)
    if plan.blocked:
        from zkaudit.hash.gkr_block import NUM_SUMCHECKS
        from zkaudit.hash.gkr_verifier import verify_blocked

        proofs = [reader.read(SumcheckProof) for _ in range(NUM_SUMCHECKS)]
        xc, block_point, block_lanes = verify_blocked(proofs, start, plan.slot_vars, transcript, where=where)
    else:
        proofs = [reader.read(SumcheckProof) for _ in range(NUM_ROUNDS)]
        xc = gkr_verify(proofs, start, plan.slot_vars, transcript, where=where)
    sent = _read_exts(reader, sent_count(plan))
    values = [receive(transcript, s) for s in sent]
    transcript.absorb_exts(LABEL_SENT, sent)
    n_tensors = len(plan.layouts)
    d, salt = values[:WIDTH], values[WIDTH: WIDTH + 2]
    sums, sent_lanes = values[WIDTH + 2: WIDTH + 2 + n_tensors], values[WIDTH + 2 + n_tensors:]
    c = position_weights(plan, xc.gamma, xc.point[1:])
    lo_terms = [lo_term_of(plan, t, c) for t in range(n_tensors)]
    expected = combine_identity(plan, xc.gamma, xc.point, c, d, salt, sums, lo_terms)
    check_equal(transcript, xc.value, expected, where=where, error=WeightLinkMismatch,
                message="the permutation inputs are not the committed weights, salt and digests")
    if plan.blocked:
        claims.append(sbox_claim(plan, block_point, block_lanes, sent_lanes, transcript))
    claims += [TensorClaim(DIGESTS, p, dv) for p, dv in zip(digest_points(xc.point), d)]
    claims += [TensorClaim(SALT, (Fp2(i),), s) for i, s in enumerate(salt)]
    claims.append(root_claim(plan, transcript))
    return claims, TensorSums(plan, tuple(sums), c)


def verify_tensor_sums(sums: TensorSums, tensors, reader, transcript) -> list[TensorClaim]:
    """Step 4 for `tensors` (plan indices): one sum-check per size; the claims on their W_t."""
    from zkaudit.sumcheck import verifier as sumcheck_verifier
    from zkaudit.sumcheck.errors import FinalEvaluationMismatch
    from zkaudit.sumcheck.proof import SumcheckProof

    plan, claims = sums.plan, []
    for n, group in tensor_groups(plan, tensors):
        spec, claimed = tensor_batch(group, sums.sums, transcript)
        sc = reader.read(SumcheckProof)
        at = f"inference.weights-link tensors of {n} variables"
        reduced = sumcheck_verifier.verify(sc, claimed, n, spec, transcript, where=at, public=spec_public(group))
        for i, t in enumerate(group):
            k_star = sums.k_value(t, reduced.point)
            if reduced.values[2 * i + 1] != k_star:
                raise FinalEvaluationMismatch("packing weight is not the public K_t",
                                              where=f"{at} {plan.layouts[t].name}", expected=k_star,
                                              got=reduced.values[2 * i + 1])
            claims.append(TensorClaim(plan.layouts[t].name, tuple(reduced.point), reduced.values[2 * i]))
    return claims


def verify(plan: LinkPlan, reader, transcript) -> list[TensorClaim]:
    """The verifier's steps 1-4; returns the claims on weights, D and the salt."""
    claims, sums = verify_deferred(plan, reader, transcript)
    return claims + verify_tensor_sums(sums, range(len(plan.layouts)), reader, transcript)

"""Private weights, prover side (`weights_link.py` states the protocol)."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.hash import commitment as hc
from zkaudit.hash.gkr import LaneClaim
from zkaudit.hash.params import DIGEST_LEN, LEAF_RATE, LEAF_TAG
from zkaudit.layers.claim import TensorClaim
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import weights_link as wl
from zkaudit.sumcheck.zk import check_equal, send

U64 = np.uint64


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v) if isinstance(v, Fp) else Fp2(int(v))


# States up to which the witness keeps the GKR's trace from building the
# tree (31 x 8 words each: 2^15 states, 64 MB) for the link proof to use.
# Past it the tree is built sparse (`hash.merkle`) and the proof traces the
# states again.
TRACE_KEPT_UP_TO = 1 << 15


class LinkWitness:
    """The tree of the registered commitment, laid out for the proof: the
    digest table D (2L, 4) in heap order, the permutation inputs X (2L, 8)
    and the salt table. Built by tracing the tree level by level into the
    GKR's batch (`_build`: one pass of permutations serves the root check
    and the proof) or, for big trees, as a sparse Merkle tree
    (`_build_reference`, the same D and X)."""

    def __init__(self, plan: wl.LinkPlan, weights, salt):
        values = [np.asarray(weights[t.name], dtype=np.int64) for t in plan.layouts]
        self._build(plan, hc.message(plan.layouts, values, salt), salt, check=True)

    @classmethod
    def from_message(cls, plan: wl.LinkPlan, msg, salt) -> "LinkWitness":
        """Any message, unchecked: what a malicious prover can commit (tests)."""
        out = cls.__new__(cls)
        out._build(plan, np.asarray(msg, dtype=U64), salt, check=False)
        return out

    def _build(self, plan: wl.LinkPlan, msg: np.ndarray, salt, *, check: bool) -> None:
        from zkaudit.hash.merkle import leaf_blocks, num_leaves_for

        big_l = plan.num_leaves
        self.layers = None
        if msg.shape[0] < 1 or num_leaves_for(msg.shape[0]) != big_l or 2 * big_l > TRACE_KEPT_UP_TO:
            self._build_reference(plan, msg, salt, check=check)
            return
        from zkaudit.hash import gkr_prover

        states = np.zeros((2 * big_l, wl.WIDTH), dtype=U64)
        states[big_l:, :LEAF_RATE] = leaf_blocks(msg)
        states[big_l:, LEAF_RATE] = U64(LEAF_TAG)
        layers = np.empty((gkr_prover.NUM_ROUNDS + 1, wl.WIDTH, 2 * big_l), dtype=U64)
        digests = np.zeros((2 * big_l, DIGEST_LEN), dtype=U64)
        # level by level from the leaves (heap order: level h is rows L/2^h .. 2L/2^h), the
        # permutation outputs' first four lanes being the digests; node i's input is D[2i] || D[2i + 1]
        lo = big_l
        while lo >= 1:
            if lo < big_l:
                states[lo: 2 * lo] = digests[2 * lo: 4 * lo].reshape(lo, wl.WIDTH)
            gkr_prover.trace_into(states[lo: 2 * lo], layers, lo)
            digests[lo: 2 * lo] = layers[gkr_prover.NUM_ROUNDS, :DIGEST_LEN, lo: 2 * lo].T
            lo //= 2
        gkr_prover.trace_into(states[:1], layers, 0)  # row 0: the zero state, as the batch has it
        if check and tuple(int(v) for v in digests[1]) != tuple(plan.record.root):
            raise hc.WeightOpeningMismatch("the weights and salt do not hash to the registered root",
                                           expected=plan.record.root_bytes().hex())
        digests[0] = plan.dummy_digest
        self.digests = np.ascontiguousarray(digests.reshape(-1))
        self.states = states
        self.layers = layers
        self.salt = np.array(salt, dtype=U64)

    def _build_reference(self, plan: wl.LinkPlan, msg: np.ndarray, salt, *, check: bool) -> None:
        from zkaudit.hash.merkle import MerkleTree

        tree = MerkleTree(msg)
        if check and tree.root != tuple(plan.record.root):
            raise hc.WeightOpeningMismatch("the weights and salt do not hash to the registered root",
                                           expected=plan.record.root_bytes().hex())
        big_l = plan.num_leaves
        if tree.num_leaves != big_l:
            raise ValueError(f"a message of {msg.shape[0]} elements has {tree.num_leaves} leaves, the plan {big_l}")
        digests = np.zeros((2 * big_l, DIGEST_LEN), dtype=U64)
        digests[0] = plan.dummy_digest
        for h, level in enumerate(tree.levels):
            digests[(big_l >> h): (big_l >> h) + level.shape[0]] = level
        states = np.zeros((2 * big_l, wl.WIDTH), dtype=U64)
        states[1:big_l] = digests[2:].reshape(big_l - 1, wl.WIDTH)
        states[big_l:, :LEAF_RATE] = tree.blocks
        states[big_l:, LEAF_RATE] = U64(LEAF_TAG)
        self.digests = np.ascontiguousarray(digests.reshape(-1))
        self.states = states
        self.salt = np.array(salt, dtype=U64)

    def take_layers(self) -> np.ndarray:
        """The GKR's trace of the states: the one kept from building the tree
        (handed over once, then dropped) or a fresh one."""
        from zkaudit.hash import gkr_prover

        layers, self.layers = self.layers, None
        return layers if layers is not None else gkr_prover.trace(self.states)

    def sbox_table(self) -> np.ndarray:
        """U, the partial rounds' S-box inputs (2L x 32, flat), for a blocked
        link's commitment (`hash.gkr_block_prover.sbox_inputs`); the trace is
        kept for the proof."""
        from zkaudit.hash import gkr_block_prover, gkr_prover

        if self.layers is None:
            self.layers = gkr_prover.trace(self.states)
        return np.ascontiguousarray(gkr_block_prover.sbox_inputs(self.layers).reshape(-1))


def _digest_values(digests: np.ndarray, z) -> list[Fp2]:
    """D~ at the eight `wl.digest_points(z)`: they share w = z[1:] and end in
    the eight Boolean (slot low bit, lane bits), so D is folded over w once
    and the eight values are the folded table's entries (folding at 0 or 1
    picks entries exactly: the same values as eight `evaluate`s, the
    reference `_digest_values_reference`, tested equal)."""
    from zkaudit.poly.mle import fold

    cur = digests
    for r in z[1:]:
        cur = fold(cur, r)
    return [_ext(int(v)) if cur.ndim == 1 else Fp2(int(v[0]), int(v[1])) for v in cur]


def _digest_values_reference(digests: np.ndarray, z) -> list[Fp2]:
    return [_ext(evaluate(digests, list(p))) for p in wl.digest_points(z)]


def prove(plan: wl.LinkPlan, witness: LinkWitness, tables, transcript, stream: list) -> list[TensorClaim]:
    """Steps 1-4; appends the proof bytes to `stream`, returns the claims on
    the weights, D and the salt. `tables[name]` are the weights' tables."""
    claims, sums = prove_deferred(plan, witness, tables, transcript, stream)
    return claims + prove_tensor_sums(sums, range(len(plan.layouts)), tables, transcript, stream)


def prove_deferred(plan: wl.LinkPlan, witness: LinkWitness, tables, transcript,
                   stream: list) -> tuple[list[TensorClaim], wl.TensorSums]:
    """Steps 1-3 (`wl.verify_deferred`): the claims on D, the salt and U, and
    the tensors' sums left for step 4 or 5."""
    from zkaudit.hash import gkr_prover

    where = "inference.weights-link"
    z_d, start = wl.output_claim(plan, transcript)
    v_sent, v = send(transcript, _ext(evaluate(witness.digests, z_d)))
    transcript.absorb_ext(wl.LABEL_SENT, v_sent)
    stream.append(v_sent.to_bytes())
    claims = [TensorClaim(wl.DIGESTS, tuple(z_d), v)]
    layers = witness.take_layers()
    start = LaneClaim(start.point, start.gamma, v)
    if plan.blocked:
        proofs, xc, block_point, block_lanes = gkr_prover.prove_blocked(layers, start, transcript)
    else:
        proofs, xc = gkr_prover.prove(layers, start, transcript)
    del layers
    stream.extend(p.to_bytes() for p in proofs)

    c = wl.position_weights(plan, xc.gamma, xc.point[1:])
    k_tables = wl.wiring_tables(plan, c)
    d_vals = _digest_values(witness.digests, xc.point)
    salt_vals = [Fp2(int(s)) for s in witness.salt]
    sums = [_ext(vec.inner(k, tables[t.name])) for t, k in zip(plan.layouts, k_tables)]
    # blocked: U~(z', j) for the lanes j >= 22, zero in the honest table
    lanes_out = [Fp2(0)] * (wl.sent_count(plan) - wl.WIDTH - 2 - len(sums))
    padded = [send(transcript, x) for x in d_vals + salt_vals + sums + lanes_out]
    sent = [p[0] for p in padded]
    values = [p[1] for p in padded]
    transcript.absorb_exts(wl.LABEL_SENT, sent)
    stream.extend(s.to_bytes() for s in sent)
    n_tensors = len(plan.layouts)
    d, salt = values[: wl.WIDTH], values[wl.WIDTH: wl.WIDTH + 2]
    sums_h, sent_lanes = values[wl.WIDTH + 2: wl.WIDTH + 2 + n_tensors], values[wl.WIDTH + 2 + n_tensors:]
    lo_terms = [wl.lo_term(plan, t, k) for t, k in enumerate(k_tables)]
    expected = wl.combine_identity(plan, xc.gamma, xc.point, c, d, salt, sums_h, lo_terms)
    check_equal(transcript, xc.value, expected, where=where, error=wl.WeightLinkMismatch,
                message="the permutation inputs are not the committed weights, salt and digests")
    if plan.blocked:
        claims.append(wl.sbox_claim(plan, block_point, block_lanes, sent_lanes, transcript))
    claims += [TensorClaim(wl.DIGESTS, p, dv) for p, dv in zip(wl.digest_points(xc.point), d)]
    claims += [TensorClaim(wl.SALT, (Fp2(i),), s) for i, s in enumerate(salt)]
    claims.append(wl.root_claim(plan, transcript))
    return claims, wl.TensorSums(plan, tuple(sums_h), c, tuple(k_tables))


def prove_tensor_sums(sums: wl.TensorSums, tensors, tables, transcript, stream: list) -> list[TensorClaim]:
    """Step 4 for `tensors` (`wl.verify_tensor_sums`)."""
    from zkaudit.sumcheck import prover as sumcheck_prover

    plan, claims = sums.plan, []
    for _, group in wl.tensor_groups(plan, tensors):
        spec, claimed = wl.tensor_batch(group, sums.sums, transcript)
        batch = []
        for t in group:
            batch += [tables[plan.layouts[t].name], sums.k_tables[t]]
        sc, reduced, _ = sumcheck_prover.prove(batch, spec, transcript, claimed_sum=claimed,
                                               public=wl.spec_public(group))
        stream.append(sc.to_bytes())
        for i, t in enumerate(group):
            claims.append(TensorClaim(plan.layouts[t].name, tuple(reduced.point), reduced.values[2 * i]))
    return claims

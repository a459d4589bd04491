"""Fractional-sum GKR, prover side: build the tree, then reduce the root claim
to a claim on the leaves layer by layer (the protocol is stated in
`protocol.py`; the checks are in `verifier.py`). Each layer's sum-check
runs on the fused kernels (`fused_layer_prove`); `reference_layer_prove`
runs the generic `sumcheck.prover.prove` with the same signature and must
give the same proof (`layer_prove=`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp2
from zkaudit.lookup import kernels
from zkaudit.lookup.protocol import LABEL_LAMBDA, LABEL_MERGE, LABEL_MU, LABEL_ROOT, PL, PR, QL, QR, joint_claim, \
    joint_layer_spec, joint_merge, layer_spec
from zkaudit.poly.mle import eq_table
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.claim import EvaluationClaim
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_ROUND, absorb_header
from zkaudit.transcript import Transcript

U64 = np.uint64


def pair_array(n: int, p_zero: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(p, q) for n fractions, back to back in one block: a layer's four
    halves p_L, p_R, q_L, q_R are then one (4, n/2, 2) view (`halves`), and
    its sum-check reads the layer where it lies instead of a copy of it."""
    pq = (np.zeros if p_zero else np.empty)((2, n, 2), dtype=U64)
    return pq[0], pq[1]


def halves(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """[p_L, p_R, q_L, q_R] as a (4, h, 2) array: a view of a `pair_array`
    layer, a copy of any other."""
    h = p.shape[0] // 2
    if (p.shape == q.shape and p.dtype == q.dtype == U64 and p.flags.c_contiguous and q.flags.c_contiguous
            and p.base is not None and p.base is q.base and q.ctypes.data == p.ctypes.data + p.nbytes):
        return np.lib.stride_tricks.as_strided(p, shape=(4, h, 2), strides=(h * 16, 16, 8))
    return np.stack([p[:h], p[h:], q[:h], q[h:]])


def build_layers(p: np.ndarray, q: np.ndarray, layer_up=kernels.layer_up) -> list[tuple[np.ndarray, np.ndarray]]:
    """layers[k] = (p_k, q_k) with 2^k fractions; layers[-1] is the leaves."""
    layers = [(p, q)]
    while layers[-1][0].shape[0] > 1:
        p, q = layers[-1]
        h = p.shape[0] // 2
        po, qo = pair_array(h)
        layer_up(p, q, po, qo)
        layers.append((po, qo))
    layers.reverse()
    return layers


def _ext(a: np.ndarray) -> Fp2:
    return Fp2(int(a[0]), int(a[1]))


def _exts(a: np.ndarray) -> list[Fp2]:
    return [Fp2(int(x), int(y)) for x, y in a]


class FusedRun:
    """The fused kernels as a round source for the zero-knowledge sum-check
    (`sumcheck.zk_prover`): rounds 1..n-1 as `fused_layer_prove` computes
    them, and the last variable's pairs for the run's own last round."""

    def __init__(self, rho, tables, spec):
        self.rho, self.spec = list(rho), spec
        lam = spec.terms[2].coeff
        self.lam = (U64(lam.c0), U64(lam.c1))
        self.stack = tables if isinstance(tables, np.ndarray) else np.stack(tables)
        self.prefix, self.j, self.s02 = Fp2(1), 0, None

    def first_round(self):
        self.s02 = kernels.layer_round(self.stack, eq_table(self.rho[1:]), *self.lam)
        return self._partial()

    def _partial(self):
        s0, s2 = _exts(self.s02)
        return ["fused", s0, s2]

    def complete(self, partial, claim: Fp2) -> list[Fp2]:
        """g(0..3) from s(0), s(2) and the running claim g(0) + g(1)."""
        _, s0, s2 = partial
        rj, prefix = self.rho[self.j], self.prefix
        l0, l1 = prefix * (1 - rj), prefix * rj
        s1 = (claim - l0 * s0) * l1.inverse() if l1 != 0 else Fp2(0)
        s3 = s0 - 3 * s1 + 3 * s2
        return [l0 * s0, l1 * s1, (l1 * 2 - l0) * s2, (l1 * 3 - l0 * 2) * s3]

    def fold_and_next(self, r: Fp2, last: bool):
        rj = self.rho[self.j]
        self.prefix = self.prefix * (rj * r + (1 - rj) * (1 - r))
        out = np.empty((4, self.stack.shape[1] // 2, 2), dtype=U64)
        eqs = eq_table(self.rho[self.j + 2 :]) if self.j + 2 < len(self.rho) else np.zeros((1, 2), dtype=U64)
        self.s02 = kernels.layer_fold_round(self.stack, U64(r.c0), U64(r.c1), eqs, *self.lam, out)
        self.stack = out
        self.j += 1
        return None if last else self._partial()

    def pairs(self):
        rj = self.rho[self.j]
        eq_pair = (self.prefix * (1 - rj), self.prefix * rj)
        return [eq_pair] + [(_ext(self.stack[t, 0]), _ext(self.stack[t, 1])) for t in range(4)]


class JointRun(FusedRun):
    """`FusedRun` over several trees' layers in lock step
    (`protocol.joint_layer_spec`): each tree's rounds as `FusedRun` computes
    them, combined with the trees' weights mu_i (the round polynomial is
    linear in them); the last variable's pairs of every tree."""

    def __init__(self, rho, stacks, lam: Fp2, mus):
        self.rho, self.mus = list(rho), list(mus)
        self.lam = (U64(lam.c0), U64(lam.c1))
        self.stacks = [t if isinstance(t, np.ndarray) else np.stack(t) for t in stacks]
        self.prefix, self.j, self.s02 = Fp2(1), 0, None

    def first_round(self):
        eq = eq_table(self.rho[1:])
        self.s02 = [kernels.layer_round(st, eq, *self.lam) for st in self.stacks]
        return self._partial()

    def _partial(self):
        s0, s2 = Fp2(0), Fp2(0)
        for mu, s02 in zip(self.mus, self.s02):
            a, b = _exts(s02)
            s0, s2 = s0 + mu * a, s2 + mu * b
        return ["fused", s0, s2]

    def fold_and_next(self, r: Fp2, last: bool):
        rj = self.rho[self.j]
        self.prefix = self.prefix * (rj * r + (1 - rj) * (1 - r))
        eqs = eq_table(self.rho[self.j + 2 :]) if self.j + 2 < len(self.rho) else np.zeros((1, 2), dtype=U64)
        s02, stacks = [], []
        for st in self.stacks:
            out = np.empty((4, st.shape[1] // 2, 2), dtype=U64)
            s02.append(kernels.layer_fold_round(st, U64(r.c0), U64(r.c1), eqs, *self.lam, out))
            stacks.append(out)
        self.s02, self.stacks = s02, stacks
        self.j += 1
        return None if last else self._partial()

    def pairs(self):
        rj = self.rho[self.j]
        eq_pair = (self.prefix * (1 - rj), self.prefix * rj)
        return [eq_pair] + [(_ext(st[t, 0]), _ext(st[t, 1])) for st in self.stacks for t in range(4)]


def fused_layer_prove(rho, tables, spec, transcript: Transcript, *, claimed_sum: Fp2):
    """The per-layer sum-check on the fused kernels: the same proof and
    transcript as `sumcheck.prover.prove` (the reference, see the tests).
    eq(rho, .) is never built or folded: round j sends
    g(t) = l(t) s(t) with l(t) = eq(rho_<j, r_<j) eq(rho_j, t) (see kernels).
    In a zero-knowledge run the same kernels feed `sumcheck.zk_prover`."""
    if any(x == 0 for x in rho) or (getattr(transcript, "zk", None) is not None and len(rho) < 2):
        # l(1) = 0 would hide s(1) (probability ~ len(rho) / p^2); a 0- or 1-variable
        # zero-knowledge layer has no fused rounds before its last
        return reference_layer_prove(rho, tables, spec, transcript, claimed_sum=claimed_sum)
    zk = getattr(transcript, "zk", None)
    if zk is not None:
        from zkaudit.lookup import joint_zk_run
        from zkaudit.sumcheck import zk_prover

        eq = None  # never built: the run gives eq's pairs itself
        stack = tables if isinstance(tables, np.ndarray) else np.stack(tables)
        if joint_zk_run.applies(stack.shape[1]):  # one tree in lock step with itself: mu = 1, the same polynomial
            run = joint_zk_run.JointFusedRun(rho, [stack], spec.terms[2].coeff, [Fp2(1)])
        else:
            run = FusedRun(rho, stack, spec)
        return zk_prover.prove([eq] + list(stack), spec, transcript, zk, claimed_sum, len(rho), (0,), {}, run=run)
    lam = spec.terms[2].coeff
    lam0, lam1 = U64(lam.c0), U64(lam.c1)
    stack = tables if isinstance(tables, np.ndarray) else np.stack(tables)  # read only: folds write `out`
    num_vars = len(rho)
    absorb_header(transcript, spec, num_vars, claimed_sum)
    claim, point, rounds, prefix = claimed_sum, [], [], Fp2(1)
    s02 = kernels.layer_round(stack, eq_table(rho[1:]), lam0, lam1) if num_vars else None
    for j in range(num_vars):
        s0, s2 = _exts(s02)
        l0, l1 = prefix * (1 - rho[j]), prefix * rho[j]  # l(t) = l0 + (l1 - l0) t
        # prefix = 0 (an r_i hit the root of eq(rho_i, .)) makes g = 0: any s1 will do.
        s1 = (claim - l0 * s0) * l1.inverse() if l1 != 0 else Fp2(0)
        s3 = s0 - 3 * s1 + 3 * s2  # s is quadratic: third difference vanishes
        l2, l3 = l1 * 2 - l0, l1 * 3 - l0 * 2
        evals = (l0 * s0, l1 * s1, l2 * s2, l3 * s3)
        rounds.append(evals)
        transcript.absorb_exts(LABEL_ROUND, evals)
        r = transcript.challenge_ext(LABEL_CHALLENGE)
        point.append(r)
        claim = evaluate_from_evals(evals, r)
        prefix = prefix * (rho[j] * r + (1 - rho[j]) * (1 - r))
        out = np.empty((4, stack.shape[1] // 2, 2), dtype=U64)
        eqs = eq_table(rho[j + 2 :]) if j + 1 < num_vars else np.zeros((1, 2), dtype=U64)
        s02 = kernels.layer_fold_round(stack, U64(r.c0), U64(r.c1), eqs, lam0, lam1, out)
        stack = out
    finals = (prefix,) + tuple(_exts(stack[:, 0]))
    transcript.absorb_exts(LABEL_FINAL, finals)
    return SumcheckProof(tuple(rounds), finals), EvaluationClaim(tuple(point), finals), claimed_sum


def reference_layer_prove(rho, tables, spec, transcript: Transcript, *, claimed_sum: Fp2):
    """The per-layer sum-check by the generic prover over [eq(rho, .)] + tables
    (zero-knowledge when the transcript is: eq is the verifier's own table)."""
    eq = eq_table(rho) if rho else np.array([[1, 0]], dtype=U64)
    return sumcheck_prover.prove([eq] + list(tables), spec, transcript, claimed_sum=claimed_sum, public=(0,))


def prove(layers, transcript: Transcript, layer_prove=fused_layer_prove, root=None, consume: bool = False):
    """Returns (root, layer proofs, leaf point, (p~, q~) at the leaf point).
    `root`: the (Hidden) root claim of a zero-knowledge run, whose padded
    values the caller has sent; the layers then run zero-knowledge.
    `consume`: drop each layer from `layers` once proven, so the leaves'
    sum-check runs with no layer above them in memory."""
    if root is None:
        p0, q0 = _ext(layers[0][0][0]), _ext(layers[0][1][0])
        transcript.absorb_exts(LABEL_ROOT, [p0, q0])
    else:
        p0, q0 = root
    point: tuple[Fp2, ...] = ()
    vp, vq = p0, q0
    proofs: list[SumcheckProof] = []
    for k in range(1, len(layers)):
        lam = transcript.challenge_ext(LABEL_LAMBDA)  # batches the p and q claims: 1/p^2
        tables = halves(*layers[k])
        if consume:
            layers[k - 1] = None
        proof, claim, _ = layer_prove(point, tables, layer_spec(lam), transcript, claimed_sum=vp + lam * vq)
        proofs.append(proof)
        c = transcript.challenge_ext(LABEL_MERGE)  # line through L and R (degree 1): 1/p^2
        v = claim.values
        vp = v[PL] + c * (v[PR] - v[PL])
        vq = v[QL] + c * (v[QR] - v[QL])
        point = (c,) + tuple(claim.point)
    return (p0, q0), tuple(proofs), point, (vp, vq)


def prove_joint(trees, transcript: Transcript, roots):
    """A zero-knowledge run's trees in lock step (`protocol.py`, zero
    knowledge): `trees[t]` is tree t's layers (`build_layers`), deepest tree
    first; `roots[t]` its (Hidden) root claim, whose padded values the
    caller has sent. Each layer is dropped once proven. Returns the layer
    proofs and, per tree, (leaf point, p~, q~) there."""
    depths = [len(layers) - 1 for layers in trees]
    if depths != sorted(depths, reverse=True):
        raise ValueError("trees go deepest first")
    claims = list(roots)
    ends = [((),) + tuple(claims[t]) if depths[t] == 0 else None for t in range(len(trees))]
    point: tuple[Fp2, ...] = ()
    proofs: list[SumcheckProof] = []
    for k in range(1, (depths[0] if depths else 0) + 1):
        active = [t for t in range(len(trees)) if depths[t] >= k]
        lam = transcript.challenge_ext(LABEL_LAMBDA)  # batches each tree's p and q claims: 1/p^2
        # one random combination of the active trees' claims: 1/p^2
        mus = [Fp2(1)] + transcript.challenge_exts(LABEL_MU, len(active) - 1)
        stacks = [halves(*trees[t][k]) for t in active]
        for t in active:
            trees[t][k - 1] = None
        claimed = joint_claim(mus, lam, claims, active)
        proof, claim, _ = joint_layer_prove(point, stacks, lam, mus, transcript, claimed_sum=claimed)
        proofs.append(proof)
        c = transcript.challenge_ext(LABEL_MERGE)  # line through L and R (degree 1): 1/p^2
        v = claim.values
        point = (c,) + tuple(claim.point)
        for i, t in enumerate(active):
            claims[t] = joint_merge(v, c, i)
            if depths[t] == k:
                ends[t] = (point,) + tuple(claims[t])
    return tuple(proofs), ends


def joint_layer_prove(rho, stacks, lam: Fp2, mus, transcript: Transcript, *, claimed_sum):
    """One lock-step layer's zero-knowledge sum-check (`JointRun` on the fused
    kernels; the generic prover where those cannot run, as in
    `fused_layer_prove`)."""
    from zkaudit.sumcheck import zk_prover

    spec = joint_layer_spec(lam, mus)
    tables = [t for st in stacks for t in (st if isinstance(st, np.ndarray) else np.stack(st))]
    if any(x == 0 for x in rho) or len(rho) < 2:
        eq = eq_table(rho) if rho else np.array([[1, 0]], dtype=U64)
        return sumcheck_prover.prove([eq] + tables, spec, transcript, claimed_sum=claimed_sum, public=(0,))
    from zkaudit.lookup import joint_zk_run

    if joint_zk_run.applies(stacks[0].shape[1] if isinstance(stacks[0], np.ndarray) else len(stacks[0][0])):
        run = joint_zk_run.JointFusedRun(rho, stacks, lam, mus)
    else:
        run = JointRun(rho, stacks, lam, mus)
    return zk_prover.prove([None] + tables, spec, transcript, transcript.zk, claimed_sum, len(rho), (0,), {}, run=run)

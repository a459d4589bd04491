"""Zero-knowledge inference: what prover and verifier share.

A zero-knowledge proof (input modes 2 and 3 of `proof.py`) differs from a
plain one in four places:

1. The advice commitment is the hiding one (`pcs.hiding`) and holds, after
   the advice tensors, the proof's bank of randomness (`sumcheck.zk`); a
   committed input's hiding commitment holds its own bank after the inputs.
   Both are committed before the statement is bound.
2. Every sum-check of every layer, lookup and range check runs
   zero-knowledge (the transcript carries the session), so each claim a
   layer passes on is `Hidden`: its public part is uniform.
3. At the end each claim is discharged where its value can be checked
   without revealing it: on an advice tensor, by a `LinearClaim` "f~(z) minus
   its bank pads = public part" on the advice commitment; on a committed
   input, by first re-padding the input's claims from the input bank (one
   zero-knowledge combination sum-check whose input table takes its pad
   from the input bank) and then a `LinearClaim` on the input commitment;
   on a public input, by a deferred check against the verifier's own
   evaluation; every deferred check folds into one claim on the bank.
4. Claims on the registered weights are answered with the weights'
   evaluations in the clear (`weight values`) and a deferred check ties
   each to its Hidden claim: the registered commitment is a plain one,
   opened in every proof. Before that, each weight tensor's claims become
   one by a combination sum-check, the tensors of one size sharing one
   (`size_groups`): a masked sum-check costs its mask, rounds and end check
   whatever its size, and a tree ensemble's 11 tensors come in 4 sizes.
   Each proof reveals those evaluations (one per
   weight tensor, after the combination; `verify` reports their count); the
   private-weights work replaces this by a per-proof hiding commitment.
   With a hashed weight commitment (`weights_link`) the weights are tables
   of the hiding advice commitment and nothing is revealed; their claims
   and the digest table's are combined where that makes the opening
   cheaper (`worth_combining`), with the same sum-check.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.constants import P as _P
from zkaudit.field.constants import W as _W
from zkaudit.field.hidden import Hidden, LinearSum
from zkaudit.field.scalar import Fp, Fp2, _fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.combine_verifier import dedupe, weights as combine_weights
from zkaudit.pcs.hiding_claims import LinearClaim
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck.zk import linear_terms

ADVICE_BANK, INPUT_BANK = "advice", "input"
LABEL_WEIGHT_VALUES = b"inference/zk/weight-values"
LABEL_COMBINED = b"inference/zk/combined"  # the prover's choice, where it has one
_ONE = Fp2(1)
REPAD = SumOfProducts.product(2)  # T * E, E = sum_j rho_j eq(z_j, .): the input re-padding sum-check


def linear_claim(table_index: int, bank_index: int, bank: str, claim: TensorClaim) -> LinearClaim:
    """T~(z) = c + L(bank)  as  T~(z) - L(bank) = c. A value padded by one
    bank element (nearly every claim) is built on plain ints:
    `linear_claim_reference` is the general path, tested equal."""
    v = claim.value
    if type(v) is Hidden and len(v.terms) == 1 and v.terms[0][0][0] == bank and type(v.const) is Fp2:
        point = claim.point if type(claim.point) is tuple else tuple(claim.point)
        if type(point) is tuple and Fp not in map(type, point):
            (_, idx), c = v.terms[0]
            # the element's words w_2idx, w_2idx+1 carry c and c X (X (a + b X) = W b + a X), negated
            lo = _fp2((-c.c0) % _P, (-c.c1) % _P)
            hi = _fp2((-_W * c.c1) % _P, (-c.c0) % _P)
            return LinearClaim.canonical(((int(table_index), point, _ONE),),
                                         ((bank_index, 2 * idx, lo), (bank_index, 2 * idx + 1, hi)), v.const)
    return linear_claim_reference(table_index, bank_index, bank, claim)


def linear_claim_reference(table_index: int, bank_index: int, bank: str, claim: TensorClaim) -> LinearClaim:
    v = Hidden.of(claim.value)
    entries = [(bank_index, w, -c) for w, c in sorted(linear_terms(v, bank).items())]
    return LinearClaim(((table_index, tuple(claim.point), Fp2(1)),), tuple(entries), v.const)


def bank_linear_claim(bank_index: int, folded) -> LinearClaim | None:
    if folded is None:
        return None
    weights, value = folded
    return LinearClaim((), (), value, block=(bank_index, weights))


def repad_target(claims: list[TensorClaim], transcript):
    """(deduplicated claims, their combination weights, the combined claim)."""
    claims = dedupe(claims)
    rhos = combine_weights(claims, transcript) if len(claims) > 1 else [Fp2(1)]
    target = LinearSum()  # the form of Hidden.of(0) + sum_j rho_j v_j, on ints (`repad_target_reference`)
    for rho, c in zip(rhos, claims):
        if type(c.value) is Fp:  # as the expression: Fp2 * Fp is refused (a claim's value is in the extension)
            raise TypeError("a claim value in the base field where the extension is expected")
        target.add(c.value, rho)
    return claims, rhos, Hidden.of(target.value())


def repad_target_reference(claims: list[TensorClaim], transcript):
    claims = dedupe(claims)
    rhos = combine_weights(claims, transcript) if len(claims) > 1 else [Fp2(1)]
    target = Hidden.of(0)
    for rho, c in zip(rhos, claims):
        target = target + rho * c.value
    return claims, rhos, target


def bank_words(elements: int) -> int:
    """Base words of a bank of `elements` GF(p^2) elements, a power of two."""
    return max(2, 1 << (2 * elements - 1).bit_length())


def bank_elements(table_num_vars: int) -> int:
    return (1 << table_num_vars) // 2


def estimate_bank(circuit) -> int:
    """Elements the advice bank gets on a first try (the prover retries with
    twice as many when a proof needs more; `prove_witness` remembers the
    figure per circuit). A sum-check of n variables and degree d takes
    n d + d + 1 mask elements and one pad per table."""
    from zkaudit.layers.tensor import num_vars

    total = 256
    for node in circuit.nodes:
        n = max(num_vars(circuit.specs()[node.output].shape), 1)
        total += 64 * (n + 4)
    return total


def discharge(circuit, body, claims, advice_names, transcript, weight_value, *,
              weights_hidden: bool = False) -> dict[str, list]:
    """Turn every claim left after the walk into the openings' claims (item 3
    and 4 of the module docstring); shared by prover and verifier, which
    differ only in `weight_value(name, point, k)`: the prover evaluates the
    weights, the verifier reads the k-th value from the proof. Returns the
    claims per commitment ("weights", "advice", "input"). With
    `weights_hidden` (a hashed weight commitment) the weights are advice
    tables like any other (`advice_names` lists them)."""
    from zkaudit.layers.tensor import embed
    from zkaudit.pcs import Claim
    from zkaudit.poly.mle import evaluate
    from zkaudit.statements.inference.commitment import input_index, weight_index
    from zkaudit.statements.inference.verifier import DanglingClaim
    from zkaudit.sumcheck.zk import bank_claim

    zk = transcript.zk
    adv_index = {n: i for i, n in enumerate(advice_names)}
    w_index = {} if weights_hidden else weight_index(circuit)
    in_index = input_index(circuit) if body.committed_input else {}
    public_inputs = set() if body.committed_input else {s.name for s in circuit.inputs}
    out: dict[str, list] = {"weights": [], "advice": [], "input": []}
    scalars: dict[str, object] = {}  # a one-entry advice table -> the value its first claim opens
    k = 0
    for name, cl in sorted(claims.items()):
        for c in cl:
            if name in public_inputs:
                v = evaluate(embed(body.inputs[name]), list(c.point))
                zk.require_equal(c.value, Fp2.from_base(v) if not isinstance(v, Fp2) else v,
                                 where=f"inference.input {name}")
            elif name in w_index:
                v = weight_value(name, c.point, k)
                k += 1
                zk.require_equal(c.value, v, where=f"inference.weights {name}")
                out["weights"].append(Claim(w_index[name], c.point, v))
            elif name in adv_index:
                if not len(c.point):
                    # A table of one entry (no variables): every claim on it is at the empty point, so
                    # each claim after the first only says its value equals the first's. That equality
                    # is a deferred check (folded into the bank claim with the rest: a false one
                    # survives with probability <= checks / |K|) instead of a claim of its own on the
                    # opening; the opening proves the first. The second claim revealed nothing the
                    # check does not: its public part minus the first's is the difference of the two
                    # pads the check names. logistic_risk's 93 advice claims are 54 after this (40 of
                    # its 50 advice tables are scalars, claimed by their layer and their range check).
                    first = scalars.get(name)
                    if first is not None:
                        zk.require_equal(c.value, first, where=f"inference.advice {name}")
                        continue
                    scalars[name] = c.value
                out["advice"].append(linear_claim(adv_index[name], len(advice_names), ADVICE_BANK, c))
            elif name in in_index:
                out["input"].append(linear_claim(in_index[name], len(in_index), INPUT_BANK, c))
            else:
                raise DanglingClaim(f"claim left on tensor {name!r}", where="inference")
    transcript.absorb_exts(LABEL_WEIGHT_VALUES, [c.value for c in out["weights"]])
    lc = bank_linear_claim(len(advice_names), bank_claim(zk, ADVICE_BANK, transcript))
    if lc is not None:
        out["advice"].append(lc)
    if bank_claim(zk, INPUT_BANK, transcript) is not None:  # only the input's own pads live there
        from zkaudit.errors import MalformedProof

        raise MalformedProof("a deferred check on the input commitment's bank", where="inference.input")
    return out, k


def verify_repad(circuit, claims, reader, transcript) -> None:
    """The verifier's side of `zk_prover.repad_inputs`."""
    verify_combined(circuit.inputs, claims, reader, transcript, INPUT_BANK)


def verify_combined_weights(circuit, claims, reader, transcript) -> None:
    """The verifier's side of `zk_prover.combine_weights`: a flag per weight
    tensor (set exactly when it has claims), then one combination sum-check
    per size group (`size_groups`)."""
    from zkaudit.errors import MalformedProof
    from zkaudit.layers.tensor import num_vars

    members = []
    for spec in circuit.weights:
        has = reader.read_flag("claim combination")
        pending = claims.pop(spec.name, [])
        if bool(pending) != has:
            raise MalformedProof("claim combination present/absent contrary to the claims on the tensor",
                                 where=f"inference.weights {spec.name}", expected=bool(pending), got=has)
        if pending:
            members.append((spec.name, num_vars(spec.shape), pending, None))
    for group in size_groups(members):
        _verify_group(group, claims, reader, transcript, ADVICE_BANK)


LABEL_GROUP = b"inference/zk/size-group"


def size_groups(members: list) -> list[list]:
    """Members (name, num_vars, ...) grouped by num_vars, groups in the order
    of their first member, members in their own order. The tensors of one
    group share one combination sum-check: every such sum-check costs a
    mask, its rounds and its end check whatever the table's size, and a
    tree ensemble has 11 weight tensors of 4 sizes."""
    groups: dict[int, list] = {}
    for m in members:
        groups.setdefault(m[1], []).append(m)
    return list(groups.values())


def group_spec(k: int) -> SumOfProducts:
    """sum_t T_t E_t for k tensors of one size: table 2t is T_t, 2t + 1 its
    weight (public). One tensor: `REPAD` itself."""
    return REPAD if k == 1 else SumOfProducts.of(2 * k, [(1, (2 * t, 2 * t + 1)) for t in range(k)])


def group_alphas(k: int, transcript) -> list[Fp2]:
    """alpha_1 = 1, alpha_t drawn after every member's claims and weights:
    a group's false member claim survives the batching with probability
    1 / |K| per alpha (a single tensor draws none)."""
    return [_ONE] + [transcript.challenge_ext(LABEL_GROUP) for _ in range(k - 1)]


@dataclass(frozen=True)
class TableSpec:
    name: str
    shape: tuple[int, ...]


def digest_spec(plan) -> TableSpec:
    """The digest table D, whose claims a hashed-weights proof may combine
    before the advice opening (`worth_combining`)."""
    from zkaudit.statements.inference.weights_link import DIGESTS

    return TableSpec(DIGESTS, (1 << plan.digest_vars,))


COMBINE_COST = 9  # a combination's prover cost per table entry and claim, in the opening's products per entry


def worth_combining(distinct_claims: int, table_vars: int, log_cols: int, domain_rows: int) -> bool:
    """Whether combining k distinct claims on one table of the hiding
    advice commitment costs the prover less than opening them. The opening
    pays each claim's column weights times every row of the matrix
    (`pcs.hiding.term_dots`): (k - 1) D min(2^v, m) products saved; the
    combination builds E and runs a degree-2 sum-check over the table,
    about COMBINE_COST (k + 2) 2^v (measured on wide_mlp: a 2^15 table
    with 10 claims gains, a 2^17 one with 4 loses). In row units: (k - 1) D
    > COMBINE_COST (k + 2) rows(table). The choice is the prover's (the
    proof says which, and either is sound); only the cost depends on it."""
    if distinct_claims < 2:
        return False
    rows = 1 << max(table_vars - log_cols, 0)
    return (distinct_claims - 1) * domain_rows > COMBINE_COST * (distinct_claims + 2) * rows


def worth_merging(point_claims: int, table_vars: int, log_cols: int, domain_rows: int) -> bool:
    """Whether a hidden weight tensor's k point claims and its weight-link
    sum S_t = sum K_t W_t are best proven by one combination sum-check
    (T E, E = sum_j rho_j eq(z_j, .) + rho_K K_t) rather than by the link's
    own sum-check of W_t K_t (step 4, shared by the tensors of its size)
    and k + 1 claims opened. Both run one degree-2 sum-check over the
    table; merging builds E from k more terms, COMBINE_COST k rows(table)
    in `worth_combining`'s units, and saves the opening k claims, k D. A
    small tensor gains (and its step-4 sum-check, a fixed ~0.5 ms of a
    masked sum-check's rounds, goes); a large one with few claims may not.
    The prover's choice, flagged and absorbed; sound either way."""
    rows = 1 << max(table_vars - log_cols, 0)
    return point_claims * domain_rows > COMBINE_COST * point_claims * rows


LABEL_MERGED = b"inference/zk/weight-sum-merged"
LABEL_SUM_WEIGHT = b"inference/zk/weight-sum-rho"


def verify_hidden_weights(circuit, sums, claims, reader, transcript) -> None:
    """The verifier's side of `zk_prover.combine_hidden_weights`: per weight
    tensor (layout order) a flag; the flagged tensors' claims and link sums
    S_t (`worth_merging`) proven by one combination sum-check per size
    group (`size_groups`); then the link's step 4
    for the tensors not merged (`weights_link.verify_tensor_sums`); then
    D's optional combination."""
    from zkaudit.layers.tensor import num_vars
    from zkaudit.statements.inference.weights_link import verify_tensor_sums

    plan, rest, merged = sums.plan, [], []
    for t, layout in enumerate(plan.layouts):
        flag = reader.read_flag("weight sum merged")
        transcript.absorb_u64(LABEL_MERGED, int(flag))
        if not flag:
            rest.append(t)
            continue
        merged.append((layout.name, num_vars(layout.shape), claims.pop(layout.name, []),
                       (sums.sums[t], lambda point, t=t: sums.k_value(t, point))))
    for group in size_groups(merged):
        _verify_group(group, claims, reader, transcript, ADVICE_BANK)
    for c in verify_tensor_sums(sums, rest, reader, transcript):
        claims.setdefault(c.tensor, []).append(c)
    verify_combined([digest_spec(plan)], claims, reader, transcript, ADVICE_BANK, optional=True)


def verify_combined(specs, claims, reader, transcript, bank: str, *, optional: bool = False) -> None:
    """The verifier's side of `zk_prover.combine_claims`. `optional`: the
    prover chose per table (the flag, absorbed), else every table with a
    claim is combined."""
    from zkaudit.errors import MalformedProof
    from zkaudit.layers.tensor import num_vars

    for spec in specs:
        has = reader.read_flag("claim combination")
        pending = claims.pop(spec.name, [])
        if optional:
            transcript.absorb_u64(LABEL_COMBINED, int(has))
            if not has:
                if pending:
                    claims[spec.name] = pending
                continue
        if bool(pending) != has:
            raise MalformedProof("claim combination present/absent contrary to the claims on the tensor",
                                 where=f"inference.{'input' if bank == INPUT_BANK else 'weights'} {spec.name}", expected=bool(pending), got=has)
        if not pending:
            continue
        _verify_one(spec.name, num_vars(spec.shape), claims, reader, transcript, bank, pending=pending)


def _verify_one(name: str, n: int, claims, reader, transcript, bank: str, *, pending=None, extra=None) -> None:
    """One combination sum-check: `pending` (default: the tensor's claims)
    and, with `extra` = (S, K~), the linear claim sum_x K(x) T(x) = S under
    its own fresh weight rho_K; leaves one claim on T."""
    if pending is None:
        pending = claims.pop(name, [])
    _verify_group([(name, n, pending, extra)], claims, reader, transcript, bank)


def _verify_group(members, claims, reader, transcript, bank: str) -> None:
    """One combination sum-check for tensors of one size, members (name,
    num_vars, claims, extra): per member its claims' weights rho_j (and
    rho_K for `extra`), then the group's alphas, then the sum-check of
    sum_t T_t E'_t, E'_t = alpha_t (sum_j rho_j eq(z_j, .) + rho_K K_t),
    against sum_t alpha_t (sum_j rho_j v_j + rho_K S_t). The verifier
    computes each E'_t(s) itself; leaves one claim per member at s."""
    from zkaudit.poly.mle import eq_eval
    from zkaudit.sumcheck import verifier as sumcheck_verifier
    from zkaudit.sumcheck.errors import FinalEvaluationMismatch
    from zkaudit.sumcheck.proof import SumcheckProof

    names = [m[0] for m in members]
    where = f"inference.{'input' if bank == INPUT_BANK else 'weights'} {'+'.join(names)}"
    n, k = members[0][1], len(members)
    proof = reader.read(SumcheckProof)
    prepared = []
    for name, _, pending, extra in members:
        pending, rhos, target = repad_target(pending, transcript)
        rho_k = None
        if extra is not None:
            rho_k = transcript.challenge_ext(LABEL_SUM_WEIGHT)
            target = target + rho_k * extra[0]
        prepared.append((pending, rhos, target, rho_k, extra))
    alphas = group_alphas(k, transcript)
    total = prepared[0][2]
    for alpha, item in zip(alphas[1:], prepared[1:]):
        total = total + alpha * item[2]
    reduced = sumcheck_verifier.verify(proof, total, n, group_spec(k), transcript, where=where,
                                       public=tuple(range(1, 2 * k, 2)),
                                       pad_bank={2 * t: bank for t in range(k)})
    for t, (alpha, (pending, rhos, _, rho_k, extra)) in enumerate(zip(alphas, prepared)):
        e_expected = Fp2(0)
        for rho, c in zip(rhos, pending):
            e_expected = e_expected + rho * eq_eval(c.point, reduced.point)
        if extra is not None:
            e_expected = e_expected + rho_k * extra[1](reduced.point)
        e_expected = alpha * e_expected
        if reduced.values[2 * t + 1] != e_expected:
            raise FinalEvaluationMismatch("combination weight is not alpha (sum rho_j eq(z_j, s)"
                                          + (" + rho_K K(s))" if extra is not None else ")"),
                                          where=f"{where} [{names[t]}]", expected=e_expected,
                                          got=reduced.values[2 * t + 1])
        claims[names[t]] = [TensorClaim(names[t], reduced.point, reduced.values[2 * t])]

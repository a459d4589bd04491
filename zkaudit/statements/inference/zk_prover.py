"""Zero-knowledge inference, prover side (`zk.py` states the protocol)."""

from __future__ import annotations

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import zk as izk


def discharge(circuit, body, claims, tables, advice_names, transcript, *, weights_hidden: bool = False):
    values = []

    def weight_value(name, point, k):
        v = evaluate(tables[name], list(point))
        v = v if isinstance(v, Fp2) else Fp2.from_base(v)
        values.append(v)
        return v

    out, _ = izk.discharge(circuit, body, claims, advice_names, transcript, weight_value, weights_hidden=weights_hidden)
    return out, tuple(values)


def repad_inputs(circuit, claims, tables, transcript) -> bytes:
    """Item 3 of `zk.py` for a committed input: every input tensor's claims
    become one claim padded from the input bank. Returns the section bytes
    (per input: 0 when it has no claim, else 1 and the sum-check proof)."""
    return combine_claims(circuit.inputs, claims, tables, transcript, izk.INPUT_BANK)


def combine_weights(circuit, claims, tables, transcript) -> bytes:
    """Item 4 of `zk.py`: each weight tensor's claims become one, so a proof
    reveals one evaluation per weight tensor. A flag per tensor (1: it has
    claims), then one sum-check per size group (`zk.size_groups`)."""
    from zkaudit.layers.tensor import num_vars

    flags, members = [], []
    for spec in circuit.weights:
        pending = claims.pop(spec.name, [])
        flags.append(b"\x01" if pending else b"\x00")
        if pending:
            members.append((spec.name, num_vars(spec.shape), pending, None))
    proofs = [_combine_group(group, claims, tables, transcript, izk.ADVICE_BANK) for group in izk.size_groups(members)]
    return b"".join(flags + proofs)


def combine_hidden_weights(circuit, sums, claims, tables, transcript, *, log_cols: int, domain_rows: int) -> bytes:
    """With hashed weights (`weights_link`; `zk.verify_hidden_weights`):
    each weight tensor's claims and its link sum S_t become one claim where
    `zk.worth_merging` (the advice commitment's shape) says so (a flag per
    tensor, then one sum-check per size group of the merged tensors); the
    link's step 4 reduces the other tensors' sums; D's claims become one
    where `zk.worth_combining` says so."""
    from zkaudit.layers.combine_verifier import dedupe
    from zkaudit.layers.tensor import num_vars
    from zkaudit.statements.inference import weights_link_prover

    def choose(spec, pending) -> bool:
        return izk.worth_combining(len(dedupe(pending)), num_vars(spec.shape), log_cols, domain_rows)

    plan, out, rest, merged = sums.plan, [], [], []
    for t, layout in enumerate(plan.layouts):
        pending = claims.pop(layout.name, [])
        merge = izk.worth_merging(len(dedupe(pending)), num_vars(layout.shape), log_cols, domain_rows)
        transcript.absorb_u64(izk.LABEL_MERGED, int(merge))
        out.append(b"\x01" if merge else b"\x00")
        if not merge:
            if pending:
                claims[layout.name] = pending
            rest.append(t)
            continue

        def extra(target, e, _t=t):
            """rho_K (S_t, K_t) added, rho_K drawn after the point claims' weights."""
            rho_k = transcript.challenge_ext(izk.LABEL_SUM_WEIGHT)
            k_term = vec.scale(rho_k, sums.k_tables[_t])
            return target + rho_k * sums.sums[_t], k_term if e is None else vec.add(e, k_term)

        merged.append((layout.name, num_vars(layout.shape), pending, extra))
    for group in izk.size_groups(merged):  # the merged tensors, one sum-check per size
        out.append(_combine_group(group, claims, tables, transcript, izk.ADVICE_BANK))
    stream: list[bytes] = []
    for c in weights_link_prover.prove_tensor_sums(sums, rest, tables, transcript, stream):
        claims[c.tensor].append(c)
    out += stream
    out.append(combine_claims([izk.digest_spec(plan)], claims, tables, transcript, izk.ADVICE_BANK, choose=choose))
    return b"".join(out)


def combine_claims(specs, claims, tables, transcript, bank: str, *, choose=None) -> bytes:
    """Per spec, its claims become one by a zero-knowledge sum-check of
    T * E, E = sum_j rho_j eq(z_j, .) (the table padded from `bank`): 1 and
    the proof, or 0 when it has no claim. With `choose(spec, claims)` the
    prover decides (0: the claims stay as they are; the flag is absorbed)."""
    out = []
    for spec in specs:
        pending = claims.pop(spec.name, [])
        if choose is not None:
            take = bool(pending) and choose(spec, pending)
            transcript.absorb_u64(izk.LABEL_COMBINED, int(take))
            if not take:
                if pending:
                    claims[spec.name] = pending
                out.append(b"\x00")
                continue
        elif not pending:
            out.append(b"\x00")
            continue
        out.append(b"\x01" + _combine_one(spec.name, pending, claims, tables, transcript, bank))
    return b"".join(out)


def _combine_one(name: str, pending, claims, tables, transcript, bank: str, *, extra=None) -> bytes:
    """One combination sum-check of T * E (`zk._verify_one`); `extra(target,
    E)` adds a linear claim's term to both. Leaves one claim on T."""
    return _combine_group([(name, None, pending, extra)], claims, tables, transcript, bank)


def _combine_group(members, claims, tables, transcript, bank: str) -> bytes:
    """One combination sum-check for tensors of one size (`zk._verify_group`),
    members (name, num_vars, claims, extra); num_vars only groups them (the
    prover reads the size off the tables). Leaves one claim per member."""
    from zkaudit.layers.claim import TensorClaim
    from zkaudit.poly.mle import eq_table
    from zkaudit.sumcheck import prover as sumcheck_prover

    prepared = []
    for name, _, pending, extra in members:
        pending, rhos, target = izk.repad_target(pending, transcript)  # rhos[0] = 1
        e = eq_table(pending[0].point) if pending else None
        for rho, c in zip(rhos[1:], pending[1:]):
            e = vec.add(e, eq_table(c.point, rho))
        if extra is not None:
            target, e = extra(target, e)
        prepared.append((name, target, e))
    k = len(members)
    alphas = izk.group_alphas(k, transcript)
    tabs, total = [], None
    for alpha, (name, target, e) in zip(alphas, prepared):
        tabs += [tables[name], e if total is None else vec.scale(alpha, e)]
        total = target if total is None else total + alpha * target
    sc, reduced, _ = sumcheck_prover.prove(tabs, izk.group_spec(k), transcript, claimed_sum=total,
                                           public=tuple(range(1, 2 * k, 2)), pad_bank={2 * t: bank for t in range(k)})
    for t, (name, _, _) in enumerate(prepared):
        claims[name] = [TensorClaim(name, reduced.point, reduced.values[2 * t])]
    return sc.to_bytes()

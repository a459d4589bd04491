"""Zero-knowledge inference, prover side (`zk.py` states the protocol)."""

from __future__ import annotations

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
    reveals one evaluation per weight tensor."""
    return combine_claims(circuit.weights, claims, tables, transcript, izk.ADVICE_BANK)


def combine_hidden_weights(circuit, plan, claims, tables, transcript, *, log_cols: int, domain_rows: int) -> bytes:
    """With hashed weights (`weights_link`): each weight tensor's and the
    digest table's claims become one where that is cheaper than opening
    them (`zk.worth_combining`, the advice commitment's shape)."""
    from zkaudit.layers.combine_verifier import dedupe
    from zkaudit.layers.tensor import num_vars

    def choose(spec, pending) -> bool:
        return izk.worth_combining(len(dedupe(pending)), num_vars(spec.shape), log_cols, domain_rows)

    return combine_claims(izk.hidden_combined_specs(circuit, plan), claims, tables, transcript, izk.ADVICE_BANK,
                          choose=choose)


def combine_claims(specs, claims, tables, transcript, bank: str, *, choose=None) -> bytes:
    """Per spec, its claims become one by a zero-knowledge sum-check of
    T * E, E = sum_j rho_j eq(z_j, .) (the table padded from `bank`): 1 and
    the proof, or 0 when it has no claim. With `choose(spec, claims)` the
    prover decides (0: the claims stay as they are; the flag is absorbed)."""
    from zkaudit.field import vec
    from zkaudit.layers.claim import TensorClaim
    from zkaudit.poly.mle import eq_table
    from zkaudit.sumcheck import prover as sumcheck_prover

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
        pending, rhos, target = izk.repad_target(pending, transcript)
        e = eq_table(pending[0].point)
        for rho, c in zip(rhos[1:], pending[1:]):
            e = vec.add(e, eq_table(c.point, rho))
        sc, reduced, _ = sumcheck_prover.prove([tables[spec.name], e], izk.REPAD, transcript, claimed_sum=target,
                                               public=(1,), pad_bank={0: bank})
        claims[spec.name] = [TensorClaim(spec.name, reduced.point, reduced.values[0])]
        out.append(b"\x01" + sc.to_bytes())
    return b"".join(out)

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


def combine_claims(specs, claims, tables, transcript, bank: str) -> bytes:
    from zkaudit.field import vec
    from zkaudit.layers.claim import TensorClaim
    from zkaudit.poly.mle import eq_table
    from zkaudit.sumcheck import prover as sumcheck_prover

    out = []
    for spec in specs:
        pending = claims.pop(spec.name, [])
        if not pending:
            out.append(b"\x00")
            continue
        pending, rhos, target = izk.repad_target(pending, transcript)
        e = eq_table(pending[0].point)
        for rho, c in zip(rhos[1:], pending[1:]):
            e = vec.add(e, vec.scale(rho, eq_table(c.point)))
        sc, reduced, _ = sumcheck_prover.prove([tables[spec.name], e], izk.REPAD, transcript, claimed_sum=target,
                                               public=(1,), pad_bank={0: bank})
        claims[spec.name] = [TensorClaim(spec.name, reduced.point, reduced.values[0])]
        out.append(b"\x01" + sc.to_bytes())
    return b"".join(out)

"""Zero-knowledge inference, prover side (`zk.py` states the protocol)."""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import zk as izk


def discharge(circuit, body, claims, tables, advice_names, transcript):
    values = []

    def weight_value(name, point, k):
        v = evaluate(tables[name], list(point))
        v = v if isinstance(v, Fp2) else Fp2.from_base(v)
        values.append(v)
        return v

    out, _ = izk.discharge(circuit, body, claims, advice_names, transcript, weight_value)
    return out, tuple(values)

"""Claims that flow between layers: "tensor T's MLE at `point` is `value`".

A layer's verifier takes claims on its output and returns claims on its
inputs and parameters; nothing is accepted until every claim is discharged
(by the next layer down, by the weight commitment's opening, or against the
public input)."""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.scalar import Fp2


@dataclass(frozen=True)
class TensorClaim:
    tensor: str
    point: tuple[Fp2, ...]
    value: Fp2

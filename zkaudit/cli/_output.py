"""How every command reports a model output: `output` dequantized in the
output's shape, `output_int` the integers (as `zkaudit run --json`). The
one definition lives in the API so scripts and commands agree."""

from __future__ import annotations


def output_doc(circuit, ints_by_name) -> dict:
    from zkaudit.api import output_doc as doc

    return doc(circuit, ints_by_name)

"""Verdicts and refusals in plain words, for the check page.

A verifier's reason is exact but technical ("[pcs] claims do not batch to
the committed values: ..."). The page leads with what it means for the
reader, chosen by where the check failed (the bracketed prefix every
`ProofRejected` carries), and keeps the exact reason below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zkaudit.statements.verify import Verdict

_WHERE = re.compile(r"^\[([a-z0-9_./-]+)\]")


@dataclass(frozen=True)
class Explained:
    valid: bool
    headline: str  # one short line: the verdict
    meaning: str  # what it means, in plain words
    reason: str  # the verifier's exact reason


def explain(verdict: Verdict, ref: str) -> Explained:
    """`verdict` of a proof checked against the registered version `ref` (NAME@VERSION)."""
    reason = verdict.reason
    if verdict.valid:
        what = "prediction" if verdict.statement == "inference" else f"{verdict.statement} statement"
        return Explained(True, "Valid proof",
                         f"The {what} in this file was computed by {ref} with the weights registered for it. "
                         "The check was done here, by the registry's verifier, on the file you uploaded.", reason)
    return Explained(False, "Not valid", _why_not(verdict, ref), reason)


def _why_not(verdict: Verdict, ref: str) -> str:
    reason = verdict.reason
    if verdict.statement is None and " was revoked: " in reason:
        return (f"{ref} was revoked, so no proof made with it is accepted any more. The reason given: "
                f"{reason.split(' was revoked: ', 1)[1]}")
    where = (m.group(1) if (m := _WHERE.match(reason)) else "")
    if where.startswith("envelope"):
        return ("This file is not a zkaudit proof, or it is damaged or cut short at its start. "
                "Ask the sender for the proof file exactly as `zkaudit prove` wrote it.")
    if verdict.statement is not None and "is not supported by verifier version" in reason:
        return (f"This file is a proof of a kind ({verdict.statement}) that this registry's verifier does not "
                "know, so it cannot be accepted.")
    if where == "inference.model":
        return (f"This proof was not made for {ref}: it names another model's circuit. "
                "Check that you chose the version the prediction says it came from.")
    if where == "inference.weights":
        return f"This proof does not use the weights registered for {ref}."
    if where == "inference.public":
        return ("The inputs or outputs written in this proof are impossible for this model (outside their "
                "declared ranges): the file was altered, or was not made by zkaudit for this model.")
    return (f"The proof's arithmetic does not check out against {ref}: the file was altered after it was made, "
            "or its output was not computed by this model with its registered weights. "
            "Do not rely on the prediction it carries.")


def refusal(status: int, detail: str) -> str:
    """Plain words for a check that could not be carried out (no verdict)."""
    if status == 404:
        return "There is no such model version in this registry."
    if status == 413:
        return "The file is larger than the registry accepts (16 MiB)."
    if status == 422:
        return ("The check did not finish within the registry's time or memory budget, so no verdict was "
                "reached. Nothing was stored.")
    if status == 503:
        return "Every verifier is busy. Try again in a minute."
    if status >= 500:
        return ("The registry could not carry out the check (an error on its side, not in your file). "
                "No verdict was reached.")
    return detail

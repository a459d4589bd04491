"""Table verifier.

Y = values[X - in_min] with D = len(values) <= 2^16. The output Y is advice;
the public table T has rows (i, values[i] - v0), v0 = values[0] (see
`values.py`). One LogUp argument shows every row of the pair of columns
    c0 = X - in_min I,   c1 = Y - v0 I       (I: indicator of real entries)
is a row of T; on the padding both are zero, which is row 0. The lookup
returns claims c0~(l) = alpha, c1~(l) = beta at its leaf point l and a claim
on the multiplicities (advice, committed before the lookup's challenges).
The verifier turns them into
    X~(l) = alpha + in_min I(l)   (down the walk: X is the true tensor)
    Y~(l) = beta + v0 I(l)        (to the advice opening).
Soundness: X's declared range lies inside [in_min, in_min + D) (checked), so
the true X - in_min is a row index j < D and the lookup forces
Y = values[j] (field equality of integers far below p). The lookup's
soundness is that of `lookup.protocol.soundness`.
"""

from __future__ import annotations

from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.lookup.protocol import Lookup, LookupInstance
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.table.proof import TableProof
from zkaudit.layers.table.values import ValueTable
from zkaudit.lookup.tables import ValuesTable
from zkaudit.layers.tensor import num_vars, real_indicator
from zkaudit.lookup import verifier as lookup_verifier


class UnexpectedClaim(ProofRejected):
    """The layer was handed a claim on its output, which must be advice."""


def table_layout(node, specs) -> tuple[ValuesTable, LookupInstance, tuple[int, ...]]:
    from zkaudit.layers.shapes import UnsupportedLayer

    x = specs[node.inputs[0]]
    shape = tuple(specs[node.output].shape)
    values = node.a["values"]
    in_min = int(node.a["in_min"])
    if not (in_min <= int(x.lo) and int(x.hi) < in_min + len(values)):
        raise UnsupportedLayer(f"node {node.name!r}: input range [{x.lo}, {x.hi}] is not inside the table's "
                               f"domain [{in_min}, {in_min + len(values) - 1}]")
    table = ValueTable(values)
    return table, LookupInstance((table,), (Lookup(0, 1 << num_vars(shape)),)), shape


def mult_name(node) -> str:
    return f"{node.name}/mult"


def claims_from_lookup(node, shape, table, claims) -> list[TensorClaim]:
    x_cl, y_cl = claims.columns[0]
    ind = real_indicator(shape, x_cl.point)
    in_min = int(node.a["in_min"])
    return [
        TensorClaim(node.inputs[0], tuple(x_cl.point), x_cl.value + ind * in_min),
        TensorClaim(node.output, tuple(y_cl.point), y_cl.value + ind * int(node.a["values"][0])),
        TensorClaim(mult_name(node), tuple(claims.multiplicities[0].point), claims.multiplicities[0].value),
    ]


def _handler(node, specs, claim, reader, transcript):
    if claim is not None:
        raise UnexpectedClaim("a claim on the output reached the layer; it must be advice",
                              where=f"node {node.name} (Table)")
    table, instance, shape = table_layout(node, specs)
    proof = reader.read(TableProof)
    batch = transcript.lookups
    deferred = batch is not None and batch.defers(node.inputs[0], node.output, mult_name(node))
    if deferred != (proof.lookup is None):
        raise MalformedProof("the table lookup sent inline where the statement batches it, or the reverse "
                             "(proofs made before inference protocol 5 send it inline: prove again)",
                             where=f"node {node.name} (Table)", expected=not deferred, got=proof.lookup is not None)
    if deferred:  # X is committed advice too: every claim lands on advice
        batch.add_mapped(node.name, instance, [mult_name(node)],
                         lambda claims: claims_from_lookup(node, shape, table, claims))
        return []
    return claims_from_lookup(node, shape, table, lookup_verifier.verify(instance, proof.lookup, transcript))


def _advice_shapes(node, specs):
    table, _, shape = table_layout(node, specs)
    return {node.output: shape, mult_name(node): (table.num_rows,)}


def register(handlers, advice_shapes) -> None:
    handlers["Table"] = _handler
    advice_shapes["Table"] = _advice_shapes

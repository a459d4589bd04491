"""Index-map prover (protocol in `verifier.py`): O(|Y| + |X|) to build each
wiring table, then a degree-2 sum-check per input."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers import kernels
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.index_map.proof import IndexMapProof
from zkaudit.layers.index_map.verifier import LABEL_PARTIALS, PRODUCT, constant_part
from zkaudit.layers.index_map.wiring import Wiring
from zkaudit.layers.tensor import num_vars
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.errors import RoundSumMismatch
from zkaudit.sumcheck.zk import check_equal, send
from zkaudit.transcript import Transcript


def prove(
    wiring: Wiring,
    in_shapes: list[tuple[int, ...]],
    names: list[str],
    claim: TensorClaim,
    in_tables: list[np.ndarray],
    transcript: Transcript,
) -> tuple[IndexMapProof, list[TensorClaim]]:
    if len(in_shapes) == 1 and wiring.is_identity(in_shapes[0]):
        return IndexMapProof((), ()), [TensorClaim(names[0], claim.point, claim.value)]
    eq_r = eq_table(claim.point)
    wirings, sums = [], []
    for j, (shape, table) in enumerate(zip(in_shapes, in_tables)):
        size = 1 << num_vars(shape)
        w = np.empty((size, 2), dtype=np.uint64)
        kernels.wiring_table(eq_r, wiring.src_id, wiring.src_idx, j, size, w)
        s = vec.inner(w, table)
        wirings.append(w)
        sums.append(Fp2.from_base(s) if isinstance(s, Fp) else s)
    padded = [send(transcript, s) for s in sums]
    sent, sums = [p[0] for p in padded], [p[1] for p in padded]
    total = constant_part(wiring, eq_r)
    for s in sums:
        total = s + total
    check_equal(transcript, total, claim.value, where="index-map", error=RoundSumMismatch)
    transcript.absorb_exts(LABEL_PARTIALS, sent)
    proofs, out = [], []
    for j, (table, w, s_j) in enumerate(zip(in_tables, wirings, sums)):
        sc, reduced, _ = sumcheck_prover.prove([table, w], PRODUCT, transcript, claimed_sum=s_j, public=(1,))
        proofs.append(sc)
        out.append(TensorClaim(names[j], reduced.point, reduced.values[0]))
    return IndexMapProof(tuple(sent), tuple(proofs)), out

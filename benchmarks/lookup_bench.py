"""LogUp-GKR figures (prints, asserts nothing).

Cases: 2^20 values into the 2^16 range table; 2^18 (x, g(x)) pairs into a
2^16-entry sigmoid table. Prove and verify wall time (best of a few runs
after a warm-up that compiles the kernels), proof bytes, soundness bits.
"prove" and "verify" include the multiplicities' commitment (bound in the
statement before the lookup's challenges) and the opening of the lookup's
claims on them; the GKR part alone is printed beside them.
"""

from __future__ import annotations

import math
import os
import time

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

import numpy as np  # noqa: E402

from zkaudit import pcs  # noqa: E402
from zkaudit.lookup import Lookup, LookupInstance, LookupProof, TableSpec, prover, soundness, verifier  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

REPEATS = 3


def _transcript(commitment: bytes = b"") -> Transcript:
    t = Transcript()
    t.absorb_statement("lookup-bench", 1, commitments={"multiplicities": commitment})
    return t


def _best(fn):
    best, out = float("inf"), None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _prove_all(inst, cols, params):
    """Multiplicities, their commitment, the LogUp-GKR proof, and the opening
    of the lookup's claims on the multiplicities."""
    m = prover.multiplicities(inst, cols)
    commitment, data = pcs.commit(m, params)
    com = commitment.to_bytes()
    t = _transcript(com)
    proof, claims = prover.prove(inst, cols, m, t)
    pcs_claims = [pcs.Claim(j, c.point, c.value) for j, c in enumerate(claims.multiplicities)]
    opening = pcs.open(data, pcs_claims, t)
    return com, proof.to_bytes(), opening.to_bytes()


def _verify_all(inst, com, proof, opening, params):
    t = _transcript(com)
    claims = verifier.verify(inst, LookupProof.from_bytes(proof), t)
    pcs_claims = [pcs.Claim(j, c.point, c.value) for j, c in enumerate(claims.multiplicities)]
    pcs.verify(pcs.Commitment.from_bytes(com), pcs_claims, pcs.OpeningProof.from_bytes(opening), t, params)
    return claims


def bench(name, inst, cols):
    params = pcs.PcsParams.default()
    t_m, m = _best(lambda: prover.multiplicities(inst, cols))
    t_g, (gkr_proof, _) = _best(lambda: prover.prove(inst, cols, m, _transcript()))
    gkr_bytes = gkr_proof.to_bytes()
    t_gv, _ = _best(lambda: verifier.verify(inst, LookupProof.from_bytes(gkr_bytes), _transcript()))
    t_p, (com, proof, opening) = _best(lambda: _prove_all(inst, cols, params))
    t_v, _ = _best(lambda: _verify_all(inst, com, proof, opening, params))
    total = len(com) + len(proof) + len(opening)
    print(f"{name}")
    print(f"  prove (all)     {t_p * 1e3:8.1f} ms   [multiplicities {t_m * 1e3:.1f} ms, GKR alone {t_g * 1e3:.1f} ms]"
          "   (target <= 1500 ms for 2^20)")
    print(f"  verify (all)    {t_v * 1e3:8.1f} ms   [GKR alone {t_gv * 1e3:.1f} ms]   (target <= 50 ms)")
    print(f"  proof bytes     {total:8d}   [GKR {len(proof)}, opening {len(opening)}, commitment {len(com)}]")
    combined = -math.log2(2.0 ** -soundness(inst).bits + 2.0 ** -params.soundness_bits)  # errors add
    print(f"  soundness       {combined:8.1f} bits"
          f"   [lookup {soundness(inst).bits:.1f}, commitment {params.soundness_bits:.1f}]")


def main():
    rng = np.random.default_rng(0)
    r16 = TableSpec.range(16)
    inst = LookupInstance((r16,), (Lookup(0, 1 << 20),))
    bench("2^20 values in [0, 2^16)", inst, [[rng.integers(0, 1 << 16, 1 << 20, dtype=np.uint64)]])

    sig = TableSpec.func("sigmoid", 16, scale_in=8, scale_out=12)
    idx = rng.integers(0, 1 << 16, 1 << 18)
    inst = LookupInstance((sig,), (Lookup(0, 1 << 18),))
    bench("2^18 pairs (x, sigmoid(x)) in a 2^16 table", inst, [[c[idx].copy() for c in sig.columns()]])
    print(soundness(inst))


if __name__ == "__main__":
    main()

"""LogUp-GKR figures (prints, asserts nothing).

Cases: 2^20 values into the 2^16 range table; 2^18 (x, g(x)) pairs into a
2^16-entry sigmoid table. Prove and verify wall time (best of a few runs
after a warm-up that compiles the kernels), proof bytes, soundness bits.
The multiplicities' commitment and opening are included when `zkaudit.pcs`
provides `PcsParams`/`commit`/`open`/`verify`; otherwise only the GKR part is
measured and the script says so.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

import numpy as np  # noqa: E402

from zkaudit import pcs  # noqa: E402
from zkaudit.lookup import Lookup, LookupInstance, LookupProof, TableSpec, prover, soundness, verifier  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

REPEATS = 3


def _transcript() -> Transcript:
    t = Transcript()
    t.absorb_statement("lookup-bench", 1)
    return t


def _best(fn):
    best, out = float("inf"), None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench(name, inst, cols):
    t_m, m = _best(lambda: prover.multiplicities(inst, cols))
    t_p, (proof, _) = _best(lambda: prover.prove(inst, cols, m, _transcript()))
    data = proof.to_bytes()
    t_v, _ = _best(lambda: verifier.verify(inst, LookupProof.from_bytes(data), _transcript()))
    print(f"{name}")
    print(f"  multiplicities  {t_m * 1e3:8.1f} ms")
    print(f"  prove (GKR)     {t_p * 1e3:8.1f} ms")
    print(f"  verify          {t_v * 1e3:8.1f} ms")
    print(f"  proof bytes     {len(data):8d}")
    print(f"  soundness       {soundness(inst).bits:8.1f} bits")


def main():
    has_pcs = all(hasattr(pcs, n) for n in ("PcsParams", "commit", "open", "verify"))
    if not has_pcs:
        print("zkaudit.pcs is not usable yet: figures are the LogUp-GKR part alone (no commitment/opening of m)")
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

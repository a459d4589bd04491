"""Poseidon2-Goldilocks width 8 figures (issue 16): permutations per second,
numba kernel vs the Python-int reference, and the salted weight commitment
(p2gl8-tree-v2) root of 10^4, 10^5 and 10^6 int8 weights. Prints figures;
asserts nothing. Warm timings (kernels compiled first), best and median of
`--reps` runs; wall time and this process's CPU time are both printed because
the machine is shared (CPU time / wall time > 1 means several threads ran).

    NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/poseidon2_bench.py [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def _timed(fn, reps: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus


def permutations(reps: int) -> None:
    from zkaudit.field.constants import P
    from zkaudit.hash import poseidon2, reference

    rng = np.random.default_rng(0)  # benchmark data only
    print("permutations per second (width 8):")
    for log_n in (10, 14, 17):
        states = rng.integers(0, P, size=(1 << log_n, 8), dtype=np.uint64)
        poseidon2.permute(states[:2])  # compile / load the cache
        walls, cpus = _timed(lambda: poseidon2.permute(states), reps)
        n = states.shape[0]
        print(f"  kernel    batch 2^{log_n:<2d}  {n / min(walls) / 1e6:6.3f} M/s wall "
              f"({min(walls) / n * 1e6:5.2f} us/perm; median {statistics.median(walls) / n * 1e6:5.2f}; "
              f"cpu {min(cpus) / n * 1e6:5.2f} us/perm)")  # fmt: skip
    rows = rng.integers(0, P, size=(200, 8), dtype=np.uint64).tolist()
    walls, _ = _timed(lambda: [reference.permute(r) for r in rows], max(1, reps))
    print(f"  reference 200 perms  {len(rows) / min(walls) / 1e3:6.3f} k/s wall ({min(walls) / len(rows) * 1e6:7.1f} us/perm)")


def _perms_hashed(msg_len: int, leaves: int) -> int:
    """Permutations the tree runs: real leaves, their ancestors (plus one
    padding node per level where the real count is odd), and one padding
    digest per level."""
    real, perms = -(-msg_len // 7), 0
    perms += real + 1
    size = leaves
    while size > 1:
        real = -(-real // 2)
        perms += real + 1
        size //= 2
    return perms


def roots(reps: int) -> None:
    from zkaudit.hash import commitment
    from zkaudit.hash.merkle import num_leaves_for

    rng = np.random.default_rng(1)
    print("weight-commitment root (salt || header || 7 x int8 per element, tagged leaves, 2-to-1 nodes):")
    def layout(n):
        return (commitment.TensorLayout("bench", (n,), -128, 127),)

    commitment.commit_weights(layout(100), [rng.integers(-128, 128, size=100)])  # warm
    for n in (10**4, 10**5, 10**6):
        w = [rng.integers(-128, 128, size=n)]
        msg_len = commitment.PREFIX_LEN + layout(n)[0].num_elements
        leaves = num_leaves_for(msg_len)
        perms = _perms_hashed(msg_len, leaves)
        walls, cpus = _timed(lambda: commitment.commit_weights(layout(n), w), reps)
        print(f"  {n:>9,d} weights: {min(walls) * 1e3:8.2f} ms wall (median {statistics.median(walls) * 1e3:8.2f}; "
              f"cpu {min(cpus) * 1e3:8.2f} ms)  {perms:,d} perms, {leaves:,d} leaves after padding  "
              f"{min(walls) / n * 1e9:6.1f} ns/weight")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3, help="timed runs per figure (best and median printed)")
    args = ap.parse_args()
    print(f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', '(default)')}")
    permutations(args.reps)
    roots(args.reps)


if __name__ == "__main__":
    main()

"""Polynomial-commitment figures (issue 3): commit, open (16 claims), verify,
proof bytes and peak memory for one table of 2^16, 2^20 and 2^24 base-field
entries at the default parameters; plus the Merkle hash comparison. Prints
figures; asserts nothing. Timings are warm (kernels compiled by a first run)
and the best and median of `--reps` runs.

    .venv/bin/python benchmarks/pcs_bench.py [--sizes 16 20 24] [--reps 3]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import statistics
import time
import tracemalloc

import numpy as np

TARGETS = {20: {"commit": 0.5, "open": 0.5, "verify": 0.060, "proof_kb": 600}, 24: {"commit": 10.0}}


def _best_median(ts: list[float]) -> str:
    return f"{min(ts) * 1e3:9.1f} ms (median {statistics.median(ts) * 1e3:8.1f})"


def hash_comparison(leaf_bytes: int = 2048, count: int = 4096) -> None:
    data = np.random.default_rng(0).integers(0, 1 << 63, size=leaf_bytes * count // 8, dtype=np.uint64)
    buf = memoryview(data.view(np.uint8))
    print(f"hash throughput, {count} leaves of {leaf_bytes} B, one call per leaf:")
    for name in ("sha256", "blake2b", "blake2s", "sha3_256"):
        state = hashlib.new(name)
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            for j in range(count):
                h = state.copy()
                h.update(buf[j * leaf_bytes : (j + 1) * leaf_bytes])
                h.digest()
            ts.append(time.perf_counter() - t)
        print(f"  {name:9s} {leaf_bytes * count / min(ts) / 1e9:5.2f} GB/s")


def run_size(log_n: int, reps: int, num_claims: int = 16) -> None:
    from zkaudit import poly
    from zkaudit.field import Fp2, vec
    from zkaudit.pcs import Claim, OpeningProof, PcsParams, commit, open, verify
    from zkaudit.transcript import Transcript

    params = PcsParams.default()
    rng = np.random.default_rng(log_n)
    table = vec.random(1 << log_n, rng)

    def transcript(c):
        t = Transcript()
        t.absorb_statement("pcs-bench", 1, commitments={"table": c.to_bytes()})
        return t

    commit_ts = []
    for _ in range(reps):
        t = time.perf_counter()
        c, data = commit([table], params)
        commit_ts.append(time.perf_counter() - t)

    points = [tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(log_n, rng)) for _ in range(num_claims)]
    claims = [Claim(0, p, poly.evaluate(table, p)) for p in points]

    open_ts = []
    for _ in range(reps):
        t = time.perf_counter()
        proof = open(data, claims, transcript(c))
        open_ts.append(time.perf_counter() - t)
    raw = proof.to_bytes()

    verify_ts = []
    for _ in range(max(reps, 5)):
        t = time.perf_counter()
        verify(c, claims, OpeningProof.from_bytes(raw), transcript(c), params)
        verify_ts.append(time.perf_counter() - t)

    # Peak memory of one commit + open, traced separately (tracing slows it).
    del data
    tracemalloc.start()
    c, data = commit([table], params)
    open(data, claims, transcript(c))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del data

    lay = f"{1 << c.log_cols} cols x {len(table) >> c.log_cols} rows, n = {(1 << c.log_cols) << params.log_blowup}"
    print(f"2^{log_n} entries ({lay})")
    print(f"  commit            {_best_median(commit_ts)}")
    print(f"  open ({num_claims} claims)   {_best_median(open_ts)}")
    print(f"  verify (+parse)   {_best_median(verify_ts)}")
    print(f"  proof             {len(raw) / 1e3:9.1f} KB")
    print(f"  peak traced alloc {peak / 2**20:9.1f} MiB (table itself {table.nbytes / 2**20:.1f} MiB)")
    tgt = TARGETS.get(log_n)
    if tgt:
        got = {"commit": min(commit_ts), "open": min(open_ts), "verify": min(verify_ts), "proof_kb": len(raw) / 1e3}
        print("  vs targets: " + ", ".join(f"{k} {got[k]:.3g}/{v}" for k, v in tgt.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 20, 24])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--skip-hash", action="store_true")
    args = ap.parse_args()

    from zkaudit.pcs import PcsParams

    params = PcsParams.default()
    print(f"default parameters: {params.describe()}")
    print(f"  delta = {params.delta:.4f}, {params.bits_per_query:.3f} bits/query")
    if not args.skip_hash:
        hash_comparison()
    run_size(10, 1)  # compile / warm every kernel once
    for log_n in args.sizes:
        run_size(log_n, args.reps)
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")


if __name__ == "__main__":
    main()

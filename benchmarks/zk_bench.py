"""Hiding vs plain commitment, masked vs unmasked sum-check: prints figures
and ratios (no assertions). Plain and hiding run interleaved in one process;
best and median of --reps repetitions, in wall time and in this process's
CPU time (all threads; steadier than wall time when other work shares the
cores). The garbage collector runs between timed steps, not inside them
(a full collection in this numba-heavy process takes tens of ms and,
the loop being periodic, kept landing in the same step). Usage:
    NUMBA_NUM_THREADS=2 python benchmarks/zk_bench.py [log_n ...] [--reps N]"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time

import numpy as np

from zkaudit.field import Fp2, vec
from zkaudit.pcs import Claim, PcsParams, commit, open, verify
from zkaudit.poly import evaluate
from zkaudit.sumcheck import MaskingPolynomial, SumOfProducts
from zkaudit.sumcheck import prover as sc_prover
from zkaudit.sumcheck.verifier import verify as sc_verify
from zkaudit.sumcheck.verifier import verify_masked
from zkaudit.transcript import Transcript


def _t(c=None):
    t = Transcript()
    t.absorb_statement("zk-bench", 1, digests={"c": b"\0" * 32})
    return t


def best(fn, reps=3):
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def _pcs_case(log_n: int, params: PcsParams):
    rng = np.random.default_rng(1)
    table = vec.random(1 << log_n, rng)
    pt = tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(log_n, rng))
    c, data = commit([table], params)
    value = data.masked_value(0, pt) if params.hiding else evaluate(table, pt)
    claims = [Claim(0, pt, value)]
    proof = open(data, claims, _t())
    verify(c, claims, proof, _t(), params)  # warm (numba caches, twiddles)
    steps = {"commit": lambda: commit([table], params), "open": lambda: open(data, claims, _t()),
             "verify": lambda: verify(c, claims, proof, _t(), params)}
    return steps, proof.num_bytes()


def pcs_rows(log_n: int, plain: PcsParams, zk: PcsParams, reps: int):
    """Plain and hiding in the same process, each repetition running one
    step of each back to back (so load spikes hit both); (best, median)
    seconds per step and mode, and proof bytes."""
    cases = {"plain": _pcs_case(log_n, plain), "hiding": _pcs_case(log_n, zk)}
    wall = {(mode, step): [] for mode in cases for step in ("commit", "open", "verify")}
    cpu = {key: [] for key in wall}
    for _ in range(reps):
        for step in ("commit", "open", "verify"):
            for mode, (steps, _) in cases.items():
                gc.collect()  # as timeit does: a collection between steps, never inside one
                gc.disable()
                try:
                    t0, c0 = time.perf_counter(), time.process_time()
                    steps[step]()
                    wall[mode, step].append(time.perf_counter() - t0)
                    cpu[mode, step].append(time.process_time() - c0)
                finally:
                    gc.enable()
    stats = {key: (min(v), statistics.median(v)) for key, v in wall.items()}
    cpu_stats = {key: (min(v), statistics.median(v)) for key, v in cpu.items()}
    return stats, cpu_stats, {mode: nbytes for mode, (_, nbytes) in cases.items()}


def sumcheck_row(log_n: int):
    rng = np.random.default_rng(2)
    f, g = vec.random(1 << log_n, rng), vec.random(1 << log_n, rng)
    spec = SumOfProducts.product(2)
    t_plain, (p, _, s) = best(lambda: sc_prover.prove([f, g], spec, _t()))
    t_masked, (pm, _, _) = best(lambda: sc_prover.prove([f, g], spec, _t(), mask=MaskingPolynomial.sample(log_n, 2)))
    v_plain, _ = best(lambda: sc_verify(p, s, log_n, spec, _t()))
    v_masked, _ = best(lambda: verify_masked(pm, s, log_n, spec, _t()))
    return t_plain, t_masked, v_plain, v_masked, len(p.to_bytes()), len(pm.to_bytes())


def main(sizes, reps):
    plain, zk = PcsParams.default(), PcsParams.default_hiding()
    print(plain.describe())
    print(zk.describe())
    print(f"{reps} repetitions, NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    for log_n in sizes:
        from zkaudit.pcs.hiding import all_num_vars

        shaped = zk.hiding_shape(all_num_vars([log_n], zk))
        print(f"PCS 2^{log_n} hiding shape: rows of 2^{shaped.row_log_cols}, rate 1/{1 << shaped.log_blowup}, "
              f"{shaped.num_queries} queries, {shaped.pad_symbols} pad symbols, {shaped.soundness_bits:.1f} bits "
              f"(plain: rows of 2^{plain.choose_log_cols([log_n])}, {plain.num_queries} queries)")
        stats, cpu_stats, nbytes = pcs_rows(log_n, plain, zk, reps)
        for label, table in (("wall", stats), ("cpu", cpu_stats)):
            parts = []
            for step in ("commit", "open", "verify"):
                (pb, pm), (hb, hm) = table["plain", step], table["hiding", step]
                parts.append(f"{step} {pb*1e3:.1f}/{pm*1e3:.1f} -> {hb*1e3:.1f}/{hm*1e3:.1f} ms "
                             f"({hb/pb:.2f}x best, {hm/pm:.2f}x median)")
            print(f"PCS 2^{log_n} {label} (best/median, plain -> hiding): " + ", ".join(parts))
        print(f"PCS 2^{log_n} proof {nbytes['plain']/1024:.0f} -> {nbytes['hiding']/1024:.0f} KiB "
              f"({nbytes['hiding']/nbytes['plain']:.2f}x)")
        s = sumcheck_row(log_n)
        print(f"sum-check 2^{log_n} (f*g): prove {s[0]*1e3:.1f} -> {s[1]*1e3:.1f} ms ({s[1]/s[0]:.2f}x), "
              f"verify {s[2]*1e3:.2f} -> {s[3]*1e3:.2f} ms ({s[3]/s[2]:.2f}x), "
              f"bytes {s[4]} -> {s[5]} ({s[5]/s[4]:.2f}x)")
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("log_n", type=int, nargs="*", default=[12, 16, 20])
    parser.add_argument("--reps", type=int, default=9, help="repetitions per step (best and median printed)")
    args = parser.parse_args()
    main(args.log_n, args.reps)

"""Proof-system core figures (issue 2): field multiply throughput, sum-check
prover/verifier, and cold/cached compile time. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/core_bench.py [--log-n 22]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

WARMUP = r"""
import time
t0 = time.perf_counter()
import numpy as np
from zkaudit.field import vec, Fp2
from zkaudit import poly
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck.prover import prove
from zkaudit.sumcheck.verifier import verify
from zkaudit.transcript import Transcript
t_import = time.perf_counter() - t0
rng = np.random.default_rng(0)
a, b = vec.random(64, rng), vec.random(64, rng)
ea, eb = vec.ext_random(64, rng), vec.ext_random(64, rng)
for x, y in ((a, b), (ea, eb), (ea, b)):
    vec.add(x, y); vec.sub(x, y); vec.mul(x, y); vec.fma(x, y, x if x.ndim == 2 else x); vec.inner(x, y)
    vec.sum(x); vec.neg(x); vec.batch_inv(x[1:])
vec.scale(Fp2(1, 2), a); vec.scale(Fp2(1, 2), ea); vec.scale(3, a); vec.pow(a, 5); vec.from_int64(np.arange(-3, 3))
pt = [Fp2(3, 4)] * 6
poly.evaluate(a, pt); poly.evaluate(ea, pt); poly.eq_table(pt)
for spec, tabs in ((SumOfProducts.product(2), [a, b]), (SumOfProducts.product(2), [ea, eb]),
                   (SumOfProducts.of(3, [(1, (0, 1, 2)), (2, (0,))]), [a, b, a]),
                   (SumOfProducts.of(3, [(1, (0, 1, 2))]), [ea, eb, ea])):
    t = Transcript(); t.absorb_statement("w", 1); proof, c, s = prove(tabs, spec, t)
    t = Transcript(); t.absorb_statement("w", 1); verify(proof, s, 6, spec, t)
print(f"{t_import:.3f} {time.perf_counter() - t0:.3f}")
"""


def _timed(fn, reps: int = 7) -> list[float]:
    fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def compile_times() -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        runs = []
        for _ in range(2):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", WARMUP], env=env, capture_output=True, text=True, check=True)
            runs.append((time.perf_counter() - t, out.stdout.split()))
    cold, cached = runs[0][0], runs[1][0]
    return cold, cached, float(runs[1][1][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--log-n", type=int, default=22)
    ap.add_argument("--skip-compile", action="store_true", help="skip the cold-compile measurement")
    args = ap.parse_args()

    from zkaudit.field import vec
    from zkaudit.sumcheck import SumcheckProof, SumOfProducts
    from zkaudit.sumcheck.prover import prove
    from zkaudit.sumcheck.verifier import verify
    from zkaudit.sumcheck.protocol import soundness_bits
    from zkaudit.transcript import Transcript

    n = 1 << args.log_n
    rng = np.random.default_rng(1)
    print(f"zkaudit core benchmark, n = 2^{args.log_n}, {os.cpu_count()} cores, "
          f"numba threading layer {os.environ.get('NUMBA_THREADING_LAYER')}")

    a, b = vec.random(n, rng), vec.random(n, rng)
    out = np.empty_like(a)
    ts = _timed(lambda: vec.mul(a, b, out))
    print(f"base multiply      : {n / min(ts):.3e} /s best, {n / statistics.median(ts):.3e} /s median   (target >= 5e8)")
    ea, eb = vec.ext_random(n, rng), vec.ext_random(n, rng)
    eout = np.empty_like(ea)
    ts = _timed(lambda: vec.mul(ea, eb, eout))
    print(f"extension multiply : {n / min(ts):.3e} /s best, {n / statistics.median(ts):.3e} /s median   (target >= 1e8)")
    del ea, eb, eout

    spec = SumOfProducts.product(2)
    result = {}

    def run_prove():
        t = Transcript()
        t.absorb_statement("bench", 1)
        result["p"] = prove([a, b], spec, t)

    ts = _timed(run_prove, reps=5)
    proof, _, claimed = result["p"]
    data = proof.to_bytes()

    def run_verify():
        t = Transcript()
        t.absorb_statement("bench", 1)
        verify(SumcheckProof.from_bytes(data), claimed, args.log_n, spec, t)

    tv = _timed(run_verify, reps=20)
    print(f"sum-check prove  (f*g, 2^{args.log_n} base tables, GF(p^2) challenges): "
          f"{min(ts) * 1e3:.0f} ms best, {statistics.median(ts) * 1e3:.0f} ms median   (target <= 250 ms)")
    print(f"sum-check verify : {min(tv) * 1e3:.2f} ms best, {statistics.median(tv) * 1e3:.2f} ms median   (target <= 5 ms)")
    print(f"sum-check proof  : {len(data)} bytes, soundness {soundness_bits(args.log_n, 2):.1f} bits")

    if not args.skip_compile:
        cold, cached, imp = compile_times()
        print(f"cold import + numba compile of the core: {cold:.1f} s   (target <= 60 s)")
        print(f"cached (second process)                : {cached:.2f} s, of which imports {imp:.2f} s   (target <= 2 s)")


if __name__ == "__main__":
    main()

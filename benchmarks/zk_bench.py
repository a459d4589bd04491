"""Hiding vs plain commitment, masked vs unmasked sum-check: prints figures
and ratios (no assertions). Usage: python benchmarks/zk_bench.py [log_n ...]"""

from __future__ import annotations

import sys
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


def pcs_row(log_n: int, params: PcsParams):
    rng = np.random.default_rng(1)
    table = vec.random(1 << log_n, rng)
    pt = tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(log_n, rng))
    t_commit, (c, data) = best(lambda: commit([table], params))
    value = data.masked_value(0, pt) if params.hiding else evaluate(table, pt)
    claims = [Claim(0, pt, value)]
    t_open, proof = best(lambda: open(data, claims, _t()))
    t_verify, _ = best(lambda: verify(c, claims, proof, _t(), params))
    return t_commit, t_open, t_verify, proof.num_bytes()


def sumcheck_row(log_n: int):
    rng = np.random.default_rng(2)
    f, g = vec.random(1 << log_n, rng), vec.random(1 << log_n, rng)
    spec = SumOfProducts.product(2)
    t_plain, (p, _, s) = best(lambda: sc_prover.prove([f, g], spec, _t()))
    t_masked, (pm, _, _) = best(lambda: sc_prover.prove([f, g], spec, _t(), mask=MaskingPolynomial.sample(log_n, 2)))
    v_plain, _ = best(lambda: sc_verify(p, s, log_n, spec, _t()))
    v_masked, _ = best(lambda: verify_masked(pm, s, log_n, spec, _t()))
    return t_plain, t_masked, v_plain, v_masked, len(p.to_bytes()), len(pm.to_bytes())


def main(sizes):
    plain, zk = PcsParams.default(), PcsParams.default_hiding()
    print(plain.describe())
    print(zk.describe())
    for log_n in sizes:
        a = pcs_row(log_n, plain)
        b = pcs_row(log_n, zk)
        print(f"PCS 2^{log_n}: commit {a[0]*1e3:.0f} -> {b[0]*1e3:.0f} ms ({b[0]/a[0]:.2f}x), "
              f"open {a[1]*1e3:.0f} -> {b[1]*1e3:.0f} ms ({b[1]/a[1]:.2f}x), "
              f"verify {a[2]*1e3:.1f} -> {b[2]*1e3:.1f} ms ({b[2]/a[2]:.2f}x), "
              f"proof {a[3]/1024:.0f} -> {b[3]/1024:.0f} KiB ({b[3]/a[3]:.2f}x)")
        s = sumcheck_row(log_n)
        print(f"sum-check 2^{log_n} (f*g): prove {s[0]*1e3:.1f} -> {s[1]*1e3:.1f} ms ({s[1]/s[0]:.2f}x), "
              f"verify {s[2]*1e3:.2f} -> {s[3]*1e3:.2f} ms ({s[3]/s[2]:.2f}x), "
              f"bytes {s[4]} -> {s[5]} ({s[5]/s[4]:.2f}x)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [16, 20])

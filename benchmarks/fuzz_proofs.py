"""Proof fuzzing campaign: prints what was tried and how it ended.

    .venv/bin/python benchmarks/fuzz_proofs.py [--models logistic_risk,...] [--random N] [--quick]

Every proof type (public input, batch of two, committed input) of each zoo
model is mutated at every byte of its prefix (three values each), at a
sample of the section, sum-check and lookup header bytes further in, with
targeted round/evaluation-count values at a sample of its sum-checks, at N
random offsets, as 32-bit words set to extremes, truncated, extended, with
a byte inserted or deleted.
Each mutant is verified in a forked child under RLIMIT_AS and a timeout
(tests/fuzz/fuzz_harness.py). Prints: mutants tried, rejected by cause,
accepted, hangs, crashes, and each non-rejection. Exit 1 unless all were
rejected.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one child per mutant; no thread pools to fork
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))

import fuzz_harness as fh  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(fh.LARGE_MODELS))
    ap.add_argument("--random", type=int, default=fh.LARGE_SETTINGS["random_offsets"])
    ap.add_argument("--seed", type=int, default=fh.LARGE_SETTINGS["seed"])
    ap.add_argument("--timeout", type=float, default=fh.LARGE_SETTINGS["timeout"])
    ap.add_argument("--structural", type=int, default=fh.LARGE_SETTINGS["structural"],
                    help="header bytes further in to mutate per proof (-1: all)")
    ap.add_argument("--sumchecks", type=int, default=fh.LARGE_SETTINGS["sumchecks"],
                    help="located sum-check headers per proof given the targeted round/eval-count mutations")
    ap.add_argument("--quick", action="store_true", help="one value per prefix byte, 40 structural bytes")
    args = ap.parse_args()
    t0 = time.time()
    targets = fh.build_targets(tuple(args.models.split(",")))
    for t in targets:
        print(f"{t.name}: {len(t.proof)} bytes, prefix {t.prefix_end} bytes, "
              f"{len(t.header_offsets)} header bytes further in", flush=True)
    structural = 40 if args.quick else (None if args.structural < 0 else args.structural)
    report = fh.campaign(targets, seed=args.seed, random_offsets=args.random, timeout=args.timeout,
                         structural=structural, thorough=not args.quick, sumchecks=args.sumchecks,
                         progress=lambda r: print(f"  ... {r.tried} tried, {dict(r.outcomes)}", flush=True))
    print(f"\nmutations tried: {report.tried}  ({time.time() - t0:.0f} s)")
    print(f"rejected:        {report.outcomes['rejected']}")
    for cause, n in report.causes.most_common():
        print(f"  {n:6d}  {cause}")
    for kind in ("accepted", "hang", "crash"):
        print(f"{kind + ':':16s} {report.outcomes[kind]}")
    for target, label, outcome in report.failures:
        print(f"  {target} {label}: {outcome.kind}: {outcome.cause}")
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())

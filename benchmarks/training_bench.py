"""The integer DP-SGD reference trainer on breast cancer (issue 19): time and epsilon.

Workload: scikit-learn's breast-cancer data, 455 training rows, 30 features
at Q8 in [-1, 1], logistic regression, q = round(64/455 * 2^32) / 2^32
(batch 64 expected), B_max = 128, 20 epochs = 143 steps, C = 1, sigma = 1,
eta = 1/2, delta = 1e-3. Printed, each the best of --repeat runs in one
process (wall and CPU time; the machine is shared, compare CPU):

  tables     the three public tables built cold (rounded-Gaussian CDT, gap CDT, sigmoid)
  train      the vectorised trainer, tables warm (what `zkaudit train` runs per run)
  reference  the naive trainer (Python integers), same words, same result
  check      the non-ZK checker over every step of the trace
  coin       BLS sign + verify of the coin, mask and masked words
  epsilon    dp-accounting 0.6.0 PLD (+ RDP cross-check) with the delta slack
and the test accuracy against float DP-SGD with the same hyperparameters
(mean of --seeds seeds). Needs scikit-learn (the dev extra). Nothing is asserted.

    python benchmarks/training_bench.py [--repeat 3] [--seeds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def _best(fn, repeat: int):
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall, best_cpu = min(best_wall, time.perf_counter() - w), min(best_cpu, time.process_time() - c)
    return out, best_wall, best_cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from zkaudit.train import check, example, float_reference, randomness, tables, trainer
    from zkaudit.train.accountant import epsilon
    from zkaudit.train.policy import Policy, example_policy

    Xtr, ytr, Xte, yte = example.breast_cancer()
    X8, X8te = (np.round(A * 256).astype(np.int64) for A in (Xtr, Xte))
    policy = Policy.from_json(example_policy(example.feature_names(), example.LABEL, num_rows=len(Xtr)))
    rows = {}

    def cold_tables():
        for f in (tables.rounded_gaussian, tables.geometric, tables.sigmoid):
            f.cache_clear()
        return trainer.Semantics.of(policy, len(X8))

    sem, w, c = _best(cold_tables, 1)
    rows["tables"] = (w, c)
    tape = randomness.Tape.generate(policy.tape_words, np.random.default_rng(0))
    sk = 12345678901234567890

    def coin():
        run_id = bytes(32)
        sig = randomness.sign_coin(sk, run_id)
        return check.check_randomness(run_id, tape, tape.commitment(), policy.tape_words,
                                      randomness.public_key(sk), sig, policy.digest)

    words, w, c = _best(coin, 1)
    rows["coin"] = (w, c)
    trace, w, c = _best(lambda: trainer.train(policy, X8, ytr, words), args.repeat)
    rows["train"] = (w, c)
    ref, w, c = _best(lambda: trainer.train_reference(policy, X8, ytr, words), 1)
    rows["reference"] = (w, c)
    same = all(np.array_equal(getattr(trace, f), getattr(ref, f)) for f in trainer.Trace.FIELDS)
    _, w, c = _best(lambda: check.check_trace(sem, X8, ytr, trace), args.repeat)
    rows["check"] = (w, c)
    report, w, c = _best(lambda: epsilon(policy, len(X8)), 1)
    rows["epsilon"] = (w, c)

    acc_i, acc_f = [], []
    for seed in range(args.seeds):
        tr = trainer.train(policy, X8, ytr, randomness.Tape.generate(policy.tape_words,
                                                                     np.random.default_rng(100 + seed)).words)
        acc_i.append(float((trainer.predict(policy, tr.final_theta, X8te) == yte).mean()))
        theta = float_reference.train_float(policy, Xtr, ytr, seed)
        acc_f.append(float_reference.accuracy_float(theta, Xte, yte))

    doc = {"workload": {"rows": len(X8), "features": X8.shape[1], "steps": policy.steps, "expected_batch": 64,
                        "max_batch": policy.max_batch, "sigma": 1, "delta": float(policy.delta),
                        "tape_words": policy.tape_words, "mean_batch": float(trace.live.sum(1).mean())},
           "seconds": {k: {"wall": round(v[0], 4), "cpu": round(v[1], 4)} for k, v in rows.items()},
           "reference_equals_vectorised": same,
           "epsilon_pld": report.epsilon, "epsilon_rdp": report.epsilon_rdp, "delta_slack": report.slack,
           "tv_noise": report.tv_noise, "tv_gap": report.tv_gap, "noise_table_entries": sem.noise_table.size,
           "test_accuracy_integer": float(np.mean(acc_i)), "test_accuracy_float": float(np.mean(acc_f)),
           "seeds": args.seeds, "load_average": os.getloadavg()}
    if args.json:
        print(json.dumps(doc, indent=1))
        return
    wl = doc["workload"]
    print(f"breast cancer: {wl['rows']} rows x {wl['features']} features, {wl['steps']} steps, batch 64 "
          f"(mean {wl['mean_batch']:.1f}, B_max {wl['max_batch']}), {wl['tape_words']} tape words")
    for k, v in doc["seconds"].items():
        print(f"  {k:<10} wall {v['wall']:8.3f} s   cpu {v['cpu']:8.3f} s")
    print(f"  reference == vectorised: {same}")
    print(f"  epsilon {report.epsilon:.3f} (PLD; RDP {report.epsilon_rdp:.3f}) at delta {report.delta:g}, "
          f"slack {report.slack:.2g} (TV noise {report.tv_noise:.2g}/sample, gap {report.tv_gap:.2g}/draw)")
    print(f"  test accuracy over {args.seeds} seeds: integer {doc['test_accuracy_integer']:.4f}, "
          f"float DP-SGD {doc['test_accuracy_float']:.4f}")
    print(f"  load average {doc['load_average'][0]:.2f}")


if __name__ == "__main__":
    main()

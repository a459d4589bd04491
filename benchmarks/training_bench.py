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
(mean of --seeds seeds). With --mlp, also the issue's second workload: an
MLP 30-64-1 on a generated 10^4-row set (labels from a random teacher MLP,
features uniform on the Q8 grid of [-1, 1]), batch 64, 10 epochs (1563
steps), B_max 128, delta 1e-5: its trainer time, epsilon and test accuracy.
Needs scikit-learn (the dev extra). Nothing is asserted.

    python benchmarks/training_bench.py [--repeat 3] [--seeds 5] [--mlp] [--json]
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
    ap.add_argument("--mlp", action="store_true", help="also the MLP 30-64-1 on 10^4 generated rows")
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
    if args.mlp:
        doc["mlp"] = _mlp(args)
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
    if args.mlp:
        m = doc["mlp"]
        print(f"MLP 30-64-1 (d = {m['params']}), {m['rows']} generated rows, {m['steps']} steps, "
              f"mean batch {m['mean_batch']:.1f}:")
        for k, v in m["seconds"].items():
            print(f"  {k:<10} wall {v['wall']:8.3f} s   cpu {v['cpu']:8.3f} s")
        print(f"  epsilon {m['epsilon_pld']:.3f} (PLD; RDP {m['epsilon_rdp']:.3f}) at delta 1e-05, "
              f"slack {m['delta_slack']:.2g}; test accuracy {m['test_accuracy']:.4f} (teacher labels)")
    print(f"  load average {doc['load_average'][0]:.2f}")


def _mlp(args) -> dict:
    from zkaudit.train import randomness, trainer
    from zkaudit.train.accountant import epsilon
    from zkaudit.train.policy import Policy, example_policy

    rng = np.random.default_rng(0)
    n, n_test, d_in = 10_000, 2_000, 30
    X = rng.integers(-256, 257, size=(n + n_test, d_in)).astype(np.int64)
    W1, w2 = rng.normal(0, 1 / np.sqrt(d_in), (d_in, 16)), rng.normal(0, 1, 16)
    y = ((np.maximum(X / 256 @ W1, 0) @ w2 - 0.3) > 0).astype(np.int64)
    doc = example_policy([f"f{i:02d}" for i in range(d_in)], "y", num_rows=n, epochs=10, family="mlp", hidden=64)
    doc["privacy"]["delta"] = "0.00001"
    policy = Policy.from_json(doc)
    out = {"rows": n, "params": policy.num_params, "steps": policy.steps, "seconds": {}}
    _, w, c = _best(lambda: trainer.Semantics.of(policy, n), 1)
    out["seconds"]["tables"] = {"wall": round(w, 3), "cpu": round(c, 3)}
    words = randomness.Tape.generate(policy.tape_words, rng).words
    tr, w, c = _best(lambda: trainer.train(policy, X[:n], y[:n], words), 1)
    out["seconds"]["train"] = {"wall": round(w, 3), "cpu": round(c, 3)}
    report, w, c = _best(lambda: epsilon(policy, n), 1)
    out["seconds"]["epsilon"] = {"wall": round(w, 3), "cpu": round(c, 3)}
    out.update(mean_batch=float(tr.live.sum(1).mean()), epsilon_pld=report.epsilon, epsilon_rdp=report.epsilon_rdp,
               delta_slack=report.slack, tape_words=policy.tape_words,
               test_accuracy=float((trainer.predict(policy, tr.final_theta, X[n:]) == y[n:]).mean()))
    return out


if __name__ == "__main__":
    main()

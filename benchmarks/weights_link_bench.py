"""Private weights (issue 16): what the hashed weight commitment costs a
zero-knowledge inference proof, per zoo model. Prints figures; asserts nothing.

Each model is compiled twice: `--weight-commitment plain` (the tensor-code
commitment every proof opens, so proofs leak the weights) and `hashed` (the
salted Poseidon2 root, never opened: each proof re-commits the weights and
proves with the Poseidon2 GKR that they hash to it). Both prove and verify
the first --batch samples of input.json (default 1: one prediction), zero-knowledge, interleaved; best of --runs
after one warm-up, in wall time and in this process's CPU time (steadier on
a shared machine; with several numba threads it counts them all). The overhead per weight is (hashed - plain) / weights.
A second line gives the median of the paired CPU and wall differences (run
i of each scheme, back to back), steadier than the difference of the bests.

    NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/weights_link_bench.py [--models a,b] [--runs 3] [--batch 1] [--breakdown]

`--breakdown` adds, per model, where the hashed proof's CPU time goes that
the plain one does not spend (best of the runs, each step timed around its
call): the link's witness (the registered tree, traced into the GKR's
batch), the link's Poseidon2 GKR (its round kernels apart), the rest of the
link (steps 1-3 of `weights_link`; step 4 of the tensors whose sums do not
join their claims' combination), the claim combination before the
opening, and the commitments and openings beside the plain proof's. The two schemes'
runs alternate, so load that comes and goes hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "logistic_risk,clinical_mlp,wide_mlp,digits_cnn,big_cnn"


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


# (module, attribute, label): the steps `--breakdown` times; steps that share
# a label add up (the GKR's kernels: full and partial rounds, the partial
# rounds' line table and lanes at the point)
STEPS = (("zkaudit.statements.inference.weights_link_prover", "LinkWitness", "link witness (tree)"),
         ("zkaudit.hash.gkr_prover", "prove", "link GKR"),
         ("zkaudit.hash.gkr_prover", "prove_blocked", "link GKR"),
         ("zkaudit.hash.gkr_block_prover", "prove", "  its partial-round block"),
         ("zkaudit.hash.gkr_kernels", "round_evals", "  its round kernels"),
         ("zkaudit.hash.gkr_kernels", "partial_round_evals", "  its round kernels"),
         ("zkaudit.hash.gkr_kernels", "line_table", "  its round kernels"),
         ("zkaudit.hash.gkr_kernels", "lanes_at", "  its round kernels"),
         ("zkaudit.statements.inference.weights_link_prover", "prove", "link in all"),
         ("zkaudit.statements.inference.weights_link_prover", "prove_deferred", "link in all"),
         ("zkaudit.statements.inference.weights_link_prover", "prove_tensor_sums", "  step 4 (tensors not merged)"),
         ("zkaudit.statements.inference.zk_prover", "combine_hidden_weights", "claim combination"),
         ("zkaudit.statements.inference.zk_prover", "combine_weights", "claim combination"),
         ("zkaudit.statements.inference.prover", "commit", "commitments"),
         ("zkaudit.statements.inference.prover", "pcs_open", "openings"))


class StepTimer:
    """CPU time per step of one call, by wrapping module attributes (the
    callers look them up at call time)."""

    def __init__(self):
        import importlib

        self.spent: dict[str, float] = {}
        for mod_name, attr, label in STEPS:
            mod = importlib.import_module(mod_name)
            if hasattr(mod, attr):  # a step an older tree lacks (to compare trees with one script) is not timed
                setattr(mod, attr, self._wrap(getattr(mod, attr), label))

    def _wrap(self, fn, label):
        def run(*args, **kwargs):
            c = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.process_time() - c
        return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=DEFAULT)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--breakdown", action="store_true", help="where the hashed proof's extra CPU time goes")
    ap.add_argument("--batch", type=int, default=1, help="samples of input.json in the proof (its first ones)")
    a = ap.parse_args()
    import zkaudit.api as api
    from zkaudit.circuit import load_circuit

    timer = StepTimer() if a.breakdown else None
    print(f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', '(default)')}")
    print(f"{'model':<14}{'weights':>10} {'prove plain':>12} {'hashed':>9} {'+ cpu':>8} {'us/weight':>10}"
          f" {'verify plain':>13} {'hashed':>8} {'bytes plain':>12} {'hashed':>9}")
    work = Path(tempfile.mkdtemp(prefix="zkaudit-wlink-"))
    for name in [m for m in a.models.split(",") if m]:
        src = ROOT / "circuits" / name
        doc = json.loads((src / "input.json").read_text())
        key = "inputs_int" if "inputs_int" in doc else "inputs"
        inputs = work / f"{name}-input.json"
        inputs.write_text(json.dumps({key: {k: v[: a.batch] for k, v in doc[key].items()}}))
        outs = {}
        for scheme in ("plain", "hashed"):
            outs[scheme] = work / f"{name}-{scheme}"
            api.compile(src / "model.onnx", outs[scheme], calibration=src / "calibration.npy",
                        weight_commitment=scheme)
            api.prove(outs[scheme], inputs)  # warm: kernels loaded, bank size learned
        rows: dict[str, list] = {"plain": [], "hashed": []}
        steps: dict[str, dict[str, float]] = {"plain": {}, "hashed": {}}
        for _ in range(a.runs):
            for scheme, out in outs.items():
                if timer is not None:
                    timer.spent.clear()
                pw, pc, proof = timed(lambda: api.prove(out, inputs))
                if timer is not None:
                    for k, v in timer.spent.items():
                        steps[scheme][k] = min(steps[scheme].get(k, v), v)
                vw, vc, verdict = timed(lambda: api.verify(proof.proof, circuit=out))
                if not verdict.valid:
                    raise SystemExit(f"{name} {scheme}: {verdict.reason}")
                rows[scheme].append((pw, pc, vw, vc, len(proof.proof)))
        res = {s: tuple(min(r[i] for r in rs) for i in range(4)) + (rs[-1][4],) for s, rs in rows.items()}
        n = sum(s.size for s in load_circuit(outs["hashed"]).weights)
        (ppw, ppc, pvw, pvc, pb), (hpw, hpc, hvw, hvc, hb) = res["plain"], res["hashed"]
        print(f"{name:<14}{n:>10,} {ppw:>10.3f} s {hpw:>7.3f} s {hpc - ppc:>6.3f} s {(hpc - ppc) / n * 1e6:>9.2f}"
              f" {pvw:>11.3f} s {hvw:>6.3f} s {pb:>12,} {hb:>9,}")
        print(f"{'':<14}{'':>10} cpu {ppc:>6.3f} s {hpc:>7.3f} s {'':>8} {'':>10} cpu {pvc:>7.3f} s {hvc:>6.3f} s",
              flush=True)
        # the runs alternate, so run i of each scheme saw about the same load: the median of the
        # paired differences is steadier than the difference of the two bests on a noisy machine
        def paired_median(i: int) -> float:
            paired = sorted(h[i] - q[i] for h, q in zip(rows["hashed"], rows["plain"]))
            return (paired[(len(paired) - 1) // 2] + paired[len(paired) // 2]) / 2

        mid, mid_wall = paired_median(1), paired_median(0)
        print(f"{'':<14}{'':>10} + cpu, median of {len(rows['plain'])} paired runs: {mid:.3f} s ({mid / n * 1e6:.2f} "
              f"us/weight); + wall {mid_wall:.3f} s ({mid_wall / n * 1e6:.2f} us/weight)", flush=True)
        if timer is not None:
            for label in dict.fromkeys(label for _, _, label in STEPS):
                h, p = steps["hashed"].get(label, 0.0), steps["plain"].get(label, 0.0)
                print(f"{'':<14}  {label:<22} hashed {h:>7.3f} s  plain {p:>7.3f} s  ({(h - p) / n * 1e6:>5.2f} us/weight)")


if __name__ == "__main__":
    main()

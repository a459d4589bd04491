"""Fidelity of every zoo circuit: compiles each circuits/<name>/model.onnx
(calibrated on its calibration.npy, measured on the held-out inputs in its
input.json) and prints top-1 agreement and max abs error against the float
model, and exact-match rate / max LSB difference against onnxruntime for
onnxruntime-quantized models.

    .venv/bin/python benchmarks/fidelity.py [--json]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zkaudit.onnx import compile_model  # noqa: E402


def main() -> None:
    warnings.simplefilter("ignore")
    rows = []
    for folder in sorted(p for p in (ROOT / "circuits").iterdir() if (p / "gen.py").exists()):
        doc = json.loads((folder / "input.json").read_text())
        x = np.asarray((doc.get("inputs") or doc["inputs_int"])["x"], dtype=np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            s = compile_model(folder / "model.onnx", Path(tmp) / "out", calibration=folder / "calibration.npy",
                              eval_data={"x": x})
            seconds = time.perf_counter() - start
        f = s.summary["fidelity"]
        ours = np.asarray(doc["expected"]["output"])
        ref = np.asarray(doc["float_output"]).reshape(ours.shape)
        vs_float = (np.mean(ours.argmax(-1) == ref.argmax(-1)) if ours.shape[-1] > 1
                    else np.mean((ours > 0.5) == (ref > 0.5)))
        rows.append({"model": folder.name, "kind": s.summary["kind"], "parameters": s.summary["parameters"],
                     "samples": f["samples"], "top1_vs_float": float(vs_float),
                     "max_abs_err_vs_float": float(np.max(np.abs(ours - ref))),
                     "ort_exact": f.get("ort_exact_match_rate"), "ort_max_lsb": f.get("ort_max_lsb_diff"),
                     "compile_s": round(seconds, 2)})
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'model':<18}{'kind':<11}{'params':>10}{'n':>4}{'top1':>8}{'max|err|':>10}{'ort exact':>11}"
          f"{'LSB':>5}{'compile s':>11}")
    for r in rows:
        ort = "-" if r["ort_exact"] is None else f"{r['ort_exact']:.2%}"
        lsb = "-" if r["ort_max_lsb"] is None else str(r["ort_max_lsb"])
        print(f"{r['model']:<18}{r['kind']:<11}{r['parameters']:>10}{r['samples']:>4}{r['top1_vs_float']:>8.1%}"
              f"{r['max_abs_err_vs_float']:>10.4f}{ort:>11}{lsb:>5}{r['compile_s']:>11}")
    print("top1 / max|err|: dequantized circuit output vs the float model (for onnxruntime-quantized models, the "
          "float model they were quantized from)")


if __name__ == "__main__":
    main()

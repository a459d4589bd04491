"""Recompile every zoo model from its committed model.onnx and calibration.npy
and rewrite the golden fields of its input.json (expected outputs, circuit
digest, fidelity), keeping the models, inputs, labels and float outputs.
Run it on purpose when a change to the compiler changes circuits
(tests/test_zoo.py says so); gen.py rebuilds a model from scratch.

    python circuits/refresh.py [NAME ...]
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import compiled_record, held_out_inputs  # noqa: E402

ZOO = Path(__file__).resolve().parent


def main(names: list[str]) -> None:
    folders = [ZOO / n for n in names] if names else sorted(p for p in ZOO.iterdir() if (p / "gen.py").exists())
    for folder in folders:
        path = folder / "input.json"
        doc = json.loads(path.read_text())
        old = doc["digest"]
        doc.update(compiled_record(folder, held_out_inputs(doc).astype(np.float32)))
        path.write_text(json.dumps(doc) + "\n")
        print(f"{folder.name}: digest {old[:12]} -> {doc['digest'][:12]}")


if __name__ == "__main__":
    main(sys.argv[1:])

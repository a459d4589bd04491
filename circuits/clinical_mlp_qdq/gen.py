"""The clinical MLP quantized by onnxruntime's quantize_static in QDQ form
(int8 activations, per-channel int8 weights), calibrated on the training set."""

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import N_TEST, quantize_with_ort, report, write_folder  # noqa: E402


def main():
    spec = importlib.util.spec_from_file_location("clinical", Path(__file__).parent.parent / "clinical_mlp" / "gen.py")
    clinical = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clinical)
    float_model, xtr, xte, yte = clinical.train()
    model = quantize_with_ort(float_model, xtr, "qdq", "int8")
    doc = write_folder(Path(__file__).parent, model, xtr, xte[:N_TEST], yte[:N_TEST],
                       "QDQ (int8) clinical MLP; y: [P(malignant), P(benign)]", float_model=float_model)
    report("clinical_mlp_qdq", doc)


if __name__ == "__main__":
    main()

"""The digits CNN quantized by onnxruntime's quantize_static in QOperator
form (QLinearConv, QGemm/QLinearMatMul; uint8 activations, per-channel int8
weights), calibrated on 256 training images. The float model is
digits_cnn's, trained by its gen.py."""

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import N_TEST, quantize_with_ort, report, write_folder  # noqa: E402


def main():
    spec = importlib.util.spec_from_file_location("digits", Path(__file__).parent.parent / "digits_cnn" / "gen.py")
    digits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(digits)
    float_model, xtr, xte, yte, accuracy = digits.build()
    model = quantize_with_ort(float_model, xtr[:256], "qoperator", "uint8")
    doc = write_folder(Path(__file__).parent, model, xtr[:256], xte[:N_TEST], yte[:N_TEST],
                       f"QOperator (uint8) digits CNN; y: 10 logits; float model's test accuracy {accuracy:.4f} "
                       f"on {len(yte)} held-out images", float_model=float_model)
    report("digits_cnn_qop", doc)


if __name__ == "__main__":
    main()

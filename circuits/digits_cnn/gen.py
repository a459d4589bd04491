"""A small CNN on scikit-learn's 8x8 digits:
Conv(1->16, 3x3) -> BatchNorm -> ReLU -> MaxPool -> Conv(16->32, 3x3) ->
BatchNorm -> ReLU -> MaxPool -> Flatten -> Gemm(128 -> 10).

Training without a deep-learning framework: the convolution filters are
seeded random Gaussians (a random-feature CNN), the BatchNorm statistics are
measured on the training set, and the classifier head is a multinomial
logistic regression fitted by scikit-learn on the resulting features."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (N_TEST, apply_bn, bn_stats, conv2d, conv_block_nodes, make_model, maxpool2,  # noqa: E402
                    report, tensor, write_folder)
from onnx import helper  # noqa: E402


def build(channels=(16, 32), seed=0):
    """(float ONNX model, train x, test x, test y); shared with digits_cnn_qop."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    nodes, inits, cur, feats = [], [], "x", xtr.astype(np.float64)
    cin = 1
    for i, cout in enumerate(channels):
        w = rng.normal(0, np.sqrt(2.0 / (cin * 9)), size=(cout, cin, 3, 3))
        pre = conv2d(feats, w, 1)
        bn = bn_stats(pre)
        feats = maxpool2(np.maximum(apply_bn(pre, *bn), 0))
        n, ini, cur = conv_block_nodes(i, cur, w, bn)
        nodes += n
        inits += ini
        cin = cout
    flat = feats.reshape(len(feats), -1)
    head = LogisticRegression(max_iter=3000, C=0.5).fit(flat, ytr)
    nodes += [helper.make_node("Flatten", [cur], ["flat"], axis=1, name="flatten"),
              helper.make_node("Gemm", ["flat", "Wh", "bh"], ["y"], transB=1, name="head")]
    inits += [tensor("Wh", head.coef_), tensor("bh", head.intercept_)]
    model = make_model(nodes, inits, (1, 1, 8, 8), (1, 10), name="digits_cnn")
    print("train accuracy", head.score(flat, ytr))
    return model, xtr, xte, yte


def main():
    model, xtr, xte, yte = build()
    doc = write_folder(Path(__file__).parent, model, xtr[:256], xte[:N_TEST], yte[:N_TEST],
                       "x: 8x8 digit image / 16 (1x1x8x8); y: 10 logits")
    report("digits_cnn", doc)


if __name__ == "__main__":
    main()

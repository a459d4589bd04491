"""A CNN of 1.1M parameters, for scale, on 28x28 images (scikit-learn's 8x8
digits upsampled 3x and padded): three Conv(3x3)+BatchNorm+ReLU blocks
(32, 64, 128 channels; max-pooling after the first two), Gemm(6272 -> 160)
+ ReLU, Gemm(160 -> 10).

A random-feature network (no deep-learning framework here): the convolution
and first dense weights are seeded He-initialized Gaussians, BatchNorm
statistics are measured on training images, and the last layer is a
logistic regression fitted by scikit-learn on the 160 features."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (N_TEST, apply_bn, bn_stats, conv2d, conv_block_nodes, make_model, maxpool2,  # noqa: E402
                    report, tensor, write_folder)
from onnx import helper  # noqa: E402

CHANNELS = (32, 64, 128)
HIDDEN = 160


def images():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = np.kron((x / 16.0).reshape(-1, 8, 8), np.ones((3, 3)))  # 24x24
    x = np.pad(x, ((0, 0), (2, 2), (2, 2))).astype(np.float32).reshape(-1, 1, 28, 28)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


def main():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    xtr, xte, ytr, yte = images()
    xfit = xtr[:400].astype(np.float64)
    nodes, inits, cur, feats, cin = [], [], "x", xfit, 1
    for i, cout in enumerate(CHANNELS):
        w = rng.normal(0, np.sqrt(2.0 / (cin * 9)), size=(cout, cin, 3, 3))
        pre = conv2d(feats, w, 1)
        bn = bn_stats(pre)
        pool = i < len(CHANNELS) - 1
        feats = np.maximum(apply_bn(pre, *bn), 0)
        feats = maxpool2(feats) if pool else feats
        n, ini, cur = conv_block_nodes(i, cur, w, bn, pool=pool)
        nodes += n
        inits += ini
        cin = cout
    flat = feats.reshape(len(feats), -1)
    w1 = rng.normal(0, np.sqrt(2.0 / flat.shape[1]), size=(HIDDEN, flat.shape[1]))
    hidden = np.maximum(flat @ w1.T, 0)
    head = LogisticRegression(max_iter=3000, C=0.1).fit(hidden, ytr[:400])
    print("train accuracy", head.score(hidden, ytr[:400]))
    nodes += [helper.make_node("Flatten", [cur], ["flat"], axis=1, name="flatten"),
              helper.make_node("Gemm", ["flat", "W1", "b1"], ["h"], transB=1, name="fc1"),
              helper.make_node("Relu", ["h"], ["hr"], name="relu_fc1"),
              helper.make_node("Gemm", ["hr", "Wh", "bh"], ["y"], transB=1, name="head")]
    inits += [tensor("W1", w1), tensor("b1", np.zeros(HIDDEN)), tensor("Wh", head.coef_),
              tensor("bh", head.intercept_)]
    model = make_model(nodes, inits, (1, 1, 28, 28), (1, 10), name="big_cnn")
    doc = write_folder(Path(__file__).parent, model, xtr[:64], xte[:N_TEST], yte[:N_TEST],
                       "x: 28x28 upsampled digit image (1x1x28x28); y: 10 logits")
    report("big_cnn", doc)


if __name__ == "__main__":
    main()

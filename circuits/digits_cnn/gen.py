"""A small CNN on scikit-learn's 8x8 digits:
Conv(1->16, 3x3) -> BatchNorm -> ReLU -> MaxPool -> Conv(16->32, 3x3) ->
BatchNorm -> ReLU -> MaxPool -> Flatten -> Gemm(128 -> 10).

Trained end to end with the numpy training loop in circuits/training.py
(Adam, softmax cross-entropy, seeded); BatchNorm exports its running
statistics. The float test accuracy (on the held-out 25%) is printed and
recorded in input.json's note."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import N_TEST, conv_block_nodes, make_model, report, tensor, write_folder  # noqa: E402
from onnx import helper  # noqa: E402
from training import BatchNorm2d, Conv2d, Dense, Flatten, MaxPool2, Relu, Sequential, fit  # noqa: E402

EPOCHS = 30


def build(channels=(16, 32), seed=0):
    """(float ONNX model, train x, test x, test y, test accuracy); shared with digits_cnn_qop."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    layers, cin = [], 1
    for cout in channels:
        layers += [Conv2d(cin, cout, rng), BatchNorm2d(cout), Relu(), MaxPool2()]
        cin = cout
    layers += [Flatten(), Dense(cin * 2 * 2, 10, rng, gain=1.0)]
    net = Sequential(layers)
    fit(net, xtr, ytr, epochs=EPOCHS, batch_size=32, lr=3e-3, seed=seed)
    accuracy = net.accuracy(xte, yte)
    print(f"float train accuracy {net.accuracy(xtr, ytr):.4f}, test accuracy {accuracy:.4f} ({len(yte)} images)")

    nodes, inits, cur = [], [], "x"
    for i in range(len(channels)):
        conv, bn = layers[4 * i], layers[4 * i + 1]
        n, ini, cur = conv_block_nodes(i, cur, conv.params["w"], bn.onnx_stats())
        nodes += n
        inits += ini
    head = layers[-1]
    nodes += [helper.make_node("Flatten", [cur], ["flat"], axis=1, name="flatten"),
              helper.make_node("Gemm", ["flat", "Wh", "bh"], ["y"], transB=1, name="head")]
    inits += [tensor("Wh", head.params["w"]), tensor("bh", head.params["b"])]
    model = make_model(nodes, inits, (1, 1, 8, 8), (1, 10), name="digits_cnn")
    return model, xtr, xte, yte, accuracy


def main():
    model, xtr, xte, yte, accuracy = build()
    doc = write_folder(Path(__file__).parent, model, xtr[:256], xte[:N_TEST], yte[:N_TEST],
                       f"x: 8x8 digit image / 16 (1x1x8x8); y: 10 logits; "
                       f"float test accuracy {accuracy:.4f} on {len(yte)} held-out images")
    report("digits_cnn", doc)


if __name__ == "__main__":
    main()

"""A CNN of 1.1M parameters, for scale, on 28x28 images (scikit-learn's 8x8
digits upsampled 3x and padded): three Conv(3x3)+BatchNorm+ReLU blocks
(32, 64, 128 channels; max-pooling after the first two), Gemm(6272 -> 160)
+ ReLU, Gemm(160 -> 10).

Trained end to end with the numpy training loop in circuits/training.py
(Adam with a cosine schedule, softmax cross-entropy, seeded) on the 1,347
training images; BatchNorm exports its running statistics. The float test
accuracy (on the held-out 25%) is printed and recorded in input.json's note."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import N_TEST, conv_block_nodes, make_model, report, tensor, write_folder  # noqa: E402
from onnx import helper  # noqa: E402
from training import BatchNorm2d, Conv2d, Dense, Flatten, MaxPool2, Relu, Sequential, fit  # noqa: E402

CHANNELS = (32, 64, 128)
HIDDEN = 160
EPOCHS = 4


def images():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = np.kron((x / 16.0).reshape(-1, 8, 8), np.ones((3, 3)))  # 24x24
    x = np.pad(x, ((0, 0), (2, 2), (2, 2))).astype(np.float32).reshape(-1, 1, 28, 28)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


def main():
    rng = np.random.default_rng(0)
    xtr, xte, ytr, yte = images()
    layers, blocks, cin = [], [], 1
    for i, cout in enumerate(CHANNELS):
        conv, bn = Conv2d(cin, cout, rng), BatchNorm2d(cout)
        layers += [conv, bn, Relu()] + ([MaxPool2()] if i < len(CHANNELS) - 1 else [])
        blocks.append((conv, bn))
        cin = cout
    fc1, head = Dense(cin * 7 * 7, HIDDEN, rng), Dense(HIDDEN, 10, rng, gain=1.0)
    net = Sequential(layers + [Flatten(), fc1, Relu(), head])
    fit(net, xtr, ytr, epochs=EPOCHS, batch_size=32, lr=1e-3, seed=0)
    accuracy = net.accuracy(xte, yte)
    print(f"float train accuracy {net.accuracy(xtr, ytr):.4f}, test accuracy {accuracy:.4f} ({len(yte)} images)")

    nodes, inits, cur = [], [], "x"
    for i, (conv, bn) in enumerate(blocks):
        n, ini, cur = conv_block_nodes(i, cur, conv.params["w"], bn.onnx_stats(), pool=i < len(CHANNELS) - 1)
        nodes += n
        inits += ini
    nodes += [helper.make_node("Flatten", [cur], ["flat"], axis=1, name="flatten"),
              helper.make_node("Gemm", ["flat", "W1", "b1"], ["h"], transB=1, name="fc1"),
              helper.make_node("Relu", ["h"], ["hr"], name="relu_fc1"),
              helper.make_node("Gemm", ["hr", "Wh", "bh"], ["y"], transB=1, name="head")]
    inits += [tensor("W1", fc1.params["w"]), tensor("b1", fc1.params["b"]), tensor("Wh", head.params["w"]),
              tensor("bh", head.params["b"])]
    model = make_model(nodes, inits, (1, 1, 28, 28), (1, 10), name="big_cnn")
    doc = write_folder(Path(__file__).parent, model, xtr[:64], xte[:N_TEST], yte[:N_TEST],
                       f"x: 28x28 upsampled digit image (1x1x28x28); y: 10 logits; "
                       f"float test accuracy {accuracy:.4f} on {len(yte)} held-out images")
    report("big_cnn", doc)


if __name__ == "__main__":
    main()

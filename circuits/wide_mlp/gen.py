"""A wider MLP (166k parameters) on scikit-learn's 8x8 digits:
64 -> 512 -> 256 -> 10, ReLU, logits out. Pixels scaled to [0, 1]."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import N_TEST, make_model, mlp_nodes, report, sklearn_mlp_weights, write_folder  # noqa: E402


def main():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    clf = MLPClassifier(hidden_layer_sizes=(512, 256), max_iter=60, random_state=0).fit(xtr, ytr)
    print("test accuracy", clf.score(xte, yte))
    nodes, inits = mlp_nodes(*sklearn_mlp_weights(clf))
    model = make_model(nodes, inits, (1, 64), (1, 10), name="wide_mlp")
    doc = write_folder(Path(__file__).parent, model, xtr[:256], xte[:N_TEST], yte[:N_TEST],
                       "x: 8x8 digit pixels / 16, flattened; y: 10 logits")
    report("wide_mlp", doc)


if __name__ == "__main__":
    main()

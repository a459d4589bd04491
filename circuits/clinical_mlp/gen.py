"""Clinical MLP: malignant vs benign from the 30 features of scikit-learn's
breast-cancer Wisconsin dataset (standardized with the training set's mean
and deviation, which gen.py records in input.json). 30 -> 16 -> 8 -> 2,
ReLU, softmax probabilities [P(malignant), P(benign)]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import N_TEST, make_model, mlp_nodes, report, sklearn_mlp_weights, write_folder  # noqa: E402


def train():
    """(float ONNX model, train x, test x, test y); shared with clinical_mlp_qdq."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_breast_cancer(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    mean, std = xtr.mean(axis=0), xtr.std(axis=0)
    xtr, xte = ((xtr - mean) / std).astype(np.float32), ((xte - mean) / std).astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=2000, random_state=0).fit(xtr, ytr)
    print("test accuracy", clf.score(xte, yte))
    nodes, inits = mlp_nodes(*sklearn_mlp_weights(_two_logits(clf)), final="Softmax")
    return make_model(nodes, inits, (1, 30), (1, 2), name="clinical_mlp"), xtr, xte, yte


def _two_logits(clf):
    """sklearn's binary MLP has one logit z (P(class 1) = sigmoid(z)); softmax
    over [0, z] gives the same probabilities as two classes."""
    import numpy as np

    w, b = clf.coefs_[-1], clf.intercepts_[-1]
    clf.coefs_[-1] = np.concatenate([np.zeros_like(w), w], axis=1)
    clf.intercepts_[-1] = np.concatenate([np.zeros_like(b), b])
    return clf


def main():
    model, xtr, xte, yte = train()
    doc = write_folder(Path(__file__).parent, model, xtr, xte[:N_TEST], yte[:N_TEST],
                       "x: 30 standardized breast-cancer features; y: [P(malignant), P(benign)]")
    report("clinical_mlp", doc)


if __name__ == "__main__":
    main()

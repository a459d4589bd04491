"""Logistic-regression risk score on scikit-learn's diabetes dataset: the
probability that disease progression after one year exceeds the median,
from the 10 (already standardized) baseline features. Gemm -> Sigmoid."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import N_TEST, make_model, mlp_nodes, report, write_folder  # noqa: E402


def main():
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    x, target = load_diabetes(return_X_y=True)
    y = (target > np.median(target)).astype(int)
    x = (x / x.std(axis=0)).astype(np.float32)  # unit variance: the sklearn copy is scaled to unit norm
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    clf = LogisticRegression(max_iter=1000).fit(xtr, ytr)
    print("test accuracy", clf.score(xte, yte))
    nodes, inits = mlp_nodes([clf.coef_], [clf.intercept_], final="Sigmoid")
    model = make_model(nodes, inits, (1, 10), (1, 1), name="logistic_risk")
    doc = write_folder(Path(__file__).parent, model, xtr, xte[:N_TEST], yte[:N_TEST],
                       "x: diabetes baseline features / std; y: P(progression > median)")
    report("logistic_risk", doc)


if __name__ == "__main__":
    main()

"""A random forest on scikit-learn's breast-cancer data: 50 trees of depth
6 (RandomForestClassifier), malignant vs benign from 30 standardized
features; skl2onnx's TreeEnsembleClassifier as exported (label and
probabilities). Proven by each tree's path (`zkaudit.onnx.ml_trees`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import breast_cancer_trees, report  # noqa: E402


def main():
    doc = breast_cancer_trees(Path(__file__).parent, "RandomForestClassifier", 50, 6,
                              "x: breast-cancer features, standardized; y: label, P(benign)")
    report("breast_cancer_rf", doc)


if __name__ == "__main__":
    main()

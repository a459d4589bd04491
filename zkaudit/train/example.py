"""The breast-cancer example: scikit-learn's 569-row, 30-feature Wisconsin
data (shipped with scikit-learn, no download), split 455 / 114 as in the
design's prototype, features mapped to [-1, 1] and written as a CSV with a
schema for `zkaudit data commit`. Needs scikit-learn (the dev extra).

The scaling constants come from the training split's 1st and 99th
percentiles: a stand-in. A real policy declares public preprocessing
constants, since constants derived from the private data leak about it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FEATURE_BITS = 8
LABEL = "malignant"


def feature_names(n: int = 30) -> list[str]:
    return [f"f{i:02d}" for i in range(n)]


def breast_cancer() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test), features in [-1, 1] rounded to Q8
    (returned as reals: k / 256)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    lo, hi = np.percentile(Xtr, 1, axis=0), np.percentile(Xtr, 99, axis=0)
    scale = lambda A: np.round(np.clip((A - lo) / (hi - lo) * 2 - 1, -1, 1) * (1 << FEATURE_BITS)) \
        / (1 << FEATURE_BITS)  # noqa: E731
    return scale(Xtr), ytr.astype(np.int64), scale(Xte), yte.astype(np.int64)


def schema() -> dict:
    cols = [{"name": "patient_id", "type": "id"}]
    cols += [{"name": n, "type": "fixed", "scale": FEATURE_BITS, "min": -1, "max": 1} for n in feature_names()]
    cols += [{"name": LABEL, "type": "bool"}]
    return {"columns": cols, "id_column": "patient_id",
            "population": "Wisconsin diagnostic breast cancer (scikit-learn), training split"}


def write_csv(path: Path, X: np.ndarray, y: np.ndarray, *, id_domain: str = "breast-cancer") -> None:
    """One row per record with a pseudonymous ID (deterministic, 32 hex digits)."""
    import hashlib

    names = feature_names(X.shape[1])
    lines = [",".join(["patient_id", *names, LABEL])]
    for i, (row, label) in enumerate(zip(X, y)):
        pid = hashlib.sha256(f"{id_domain}/{i}".encode()).hexdigest()[:32]
        lines.append(",".join([pid, *(f"{v:.8f}" for v in row), str(int(label))]))
    Path(path).write_text("\n".join(lines) + "\n")


def write_example(folder: Path) -> dict:
    """train.csv, test.csv, schema.json in `folder`; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    Xtr, ytr, Xte, yte = breast_cancer()
    write_csv(folder / "train.csv", Xtr, ytr)
    write_csv(folder / "test.csv", Xte, yte, id_domain="breast-cancer/test")  # other patients, other pseudonyms
    (folder / "schema.json").write_text(json.dumps(schema(), indent=1) + "\n")
    return {"train": folder / "train.csv", "test": folder / "test.csv", "schema": folder / "schema.json"}

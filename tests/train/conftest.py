"""Shared fixtures: the breast-cancer example (455 training rows, 30 features
in [-1, 1] at Q8) as arrays and as a sealed dataset, its policy, and tapes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from train_helpers import policy_doc, words_for

from zkaudit.train import example, policy as pol, trainer


@pytest.fixture(scope="session")
def bc():
    Xtr, ytr, Xte, yte = example.breast_cancer()
    q = 1 << example.FEATURE_BITS
    return {"Xtr": Xtr, "ytr": ytr, "Xte": Xte, "yte": yte,
            "X8": np.round(Xtr * q).astype(np.int64), "X8te": np.round(Xte * q).astype(np.int64)}


@pytest.fixture(scope="session")
def policy():
    return pol.Policy.from_json(policy_doc())


@pytest.fixture(scope="session")
def short_policy():
    """20 steps: enough for every constraint, fast for the naive reference and the checker."""
    return pol.Policy.from_json(policy_doc(steps=20))


@pytest.fixture(scope="session")
def short_trace(bc, short_policy):
    w = words_for(short_policy, 7)
    return w, trainer.train(short_policy, bc["X8"], bc["ytr"], w)


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    """The training split sealed with `commit_dataset` (unsigned: training reads the opening)."""
    from zkaudit.data.dataset import commit_dataset, write_dataset

    folder = tmp_path_factory.mktemp("bc")
    files = example.write_example(folder)
    record, opening = commit_dataset(files["train"], json.loads(files["schema"].read_text()))
    write_dataset(folder / "DS", record, opening, None)
    return folder / "DS"

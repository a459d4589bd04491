"""Helpers the training tests share (imported as a module: tests/ has no packages)."""

from __future__ import annotations

import numpy as np

from zkaudit.train import example, policy as pol, randomness


def policy_doc(**changes) -> dict:
    doc = pol.example_policy(example.feature_names(), example.LABEL, num_rows=455)
    for path, value in changes.items():
        obj, keys = doc, path.split("__")
        for k in keys[:-1]:
            obj = obj[k]
        obj[keys[-1]] = value
    return doc


def words_for(policy, seed: int) -> np.ndarray:
    return randomness.Tape.generate(policy.tape_words, np.random.default_rng(seed)).words

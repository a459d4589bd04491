"""Shared pytest setup."""

import os

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

from hypothesis import settings  # noqa: E402

# Field kernels are compiled on first call; keep property tests deterministic
# and free of per-example deadlines (a first call may include a compile).
settings.register_profile("zkaudit", deadline=None, derandomize=True, max_examples=100)
settings.load_profile("zkaudit")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _known_heads_per_test(tmp_path, monkeypatch):
    """Registry clients remember the highest signed tree head they have seen
    (`$ZKAUDIT_KNOWN_HEADS`, like known_hosts); tests keep theirs in their
    own folder, never in the home directory."""
    monkeypatch.setenv("ZKAUDIT_KNOWN_HEADS", str(tmp_path / "known-heads.json"))

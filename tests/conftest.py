"""Shared pytest setup.

Tests marked `heavy` (an expensive case whose property a cheaper test in the
default run already covers; each says which) run only when asked for:
`pytest -m heavy tests` runs them alone, `pytest -m "heavy or not heavy"`
the whole suite with them. The default run (`pytest -q`, what CI runs)
deselects them, as tests/adversarial and tests/fuzz do their markers."""

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


def pytest_collection_modifyitems(config, items):
    # the clean-clone check takes minutes in one test: start it first, so that
    # under `-n 2 --dist loadfile` the other worker runs the rest beside it
    # instead of the suite waiting on it at the end
    items.sort(key=lambda item: item.get_closest_marker("first_run") is None)
    if "heavy" in (config.getoption("markexpr") or ""):
        return
    dropped = [item for item in items if item.get_closest_marker("heavy") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item.get_closest_marker("heavy") is None]

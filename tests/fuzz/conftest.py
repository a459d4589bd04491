"""The large proof-fuzzing run is marked `fuzz` and runs only when asked
for (`pytest -m fuzz tests/fuzz`); the default run keeps a smaller one."""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    keep = [item for item in items if item.get_closest_marker("fuzz") is None]
    dropped = [item for item in items if item.get_closest_marker("fuzz") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep

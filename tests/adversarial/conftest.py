"""The full malicious-prover sweeps (`@pytest.mark.adversarial`, minutes)
run only when asked for: `pytest -m adversarial tests/adversarial`. The
default run keeps the regressions, a one-value-per-tensor sweep of every
circuit and the hypothesis cases."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def pytest_collection_modifyitems(config, items):
    if "adversarial" in (config.option.markexpr or ""):
        return
    kept = [i for i in items if i.get_closest_marker("adversarial") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept

"""Shared pytest setup."""

import os

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

from hypothesis import settings  # noqa: E402

# Field kernels are compiled on first call; keep property tests deterministic
# and free of per-example deadlines (a first call may include a compile).
settings.register_profile("zkaudit", deadline=None, derandomize=True, max_examples=100)
settings.load_profile("zkaudit")

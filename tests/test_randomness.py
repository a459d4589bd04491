"""Prover randomness hygiene (zero-knowledge.md §9.6): one CSPRNG module,
no numpy.random or seeded generators in prover code, fresh draws."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import zkaudit
from zkaudit.field import randomness
from zkaudit.field.constants import P

ROOT = Path(zkaudit.__file__).parent
# Every package whose modules make or use prover masks.
PROVER_PACKAGES = ["field", "sumcheck", "pcs", "hash", "statements"]
FORBIDDEN_MODULES = {"random", "numpy.random"}
FORBIDDEN_CALLS = {"default_rng", "RandomState", "seed", "Generator", "PCG64", "Philox"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            if node.module in FORBIDDEN_MODULES:
                bad.append(node.module)
            if node.module == "numpy":
                bad += [f"numpy.{a.name}" for a in node.names if a.name == "random"]
        elif isinstance(node, ast.Attribute):
            # np.random.<anything> or <rng>.seed / default_rng(...)
            if isinstance(node.value, ast.Attribute) and node.value.attr == "random":
                bad.append(f"*.random.{node.attr}")
            elif node.attr in FORBIDDEN_CALLS:
                bad.append(node.attr)
    return bad


def test_no_prover_module_draws_from_numpy_random_or_a_seeded_prng():
    found = {}
    for pkg in PROVER_PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            # field/vec.py's `random`/`ext_random` are test-data helpers taking
            # an explicit numpy Generator; no prover module may call them.
            if path.name == "vec.py":
                continue
            v = _violations(path)
            if v:
                found[str(path.relative_to(ROOT))] = v
    assert not found, f"prover modules using non-CSPRNG randomness: {found}"


def test_no_prover_module_uses_the_numpy_test_data_helpers():
    for pkg in ["sumcheck", "pcs"]:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            src = path.read_text()
            assert "vec.random(" not in src and "vec.ext_random(" not in src, path


def test_the_static_check_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nmask = np.random.default_rng(1).integers(0, 5)\n")
    assert _violations(bad)
    bad.write_text("from numpy import random\n")
    assert _violations(bad)


def test_draws_are_canonical_and_fresh():
    a, b = randomness.random_base(4096), randomness.random_base(4096)
    assert int(a.max()) < P and int(b.max()) < P
    assert len(set(a.tolist()) & set(b.tolist())) == 0  # a collision has probability ~2^-40
    e = randomness.random_ext(100)
    assert e.shape == (100, 2) and int(e.max()) < P
    s = randomness.random_salts(1000)
    assert len({tuple(x) for x in s.tolist()}) == 1000


def test_draws_are_roughly_uniform():
    # The top bit of a uniform element of F_p is 1 with probability ~1/2.
    x = randomness.random_base(20000)
    ones = int(np.count_nonzero(x >> np.uint64(63)))
    assert 9000 < ones < 11000

"""`System.instance` is cached by (padded rows, limb widths): it must equal
`instance_reference` (built per call) for systems of every shape the layers
build, cold and warm, and equal systems of other names share it. The
quantities' cached widths and limb names are the definitions'."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from zkaudit.layers.clamp import system as system_mod
from zkaudit.layers.clamp.system import Quantity


def _systems():
    path = Path(__file__).with_name("test_system_spec.py")
    spec = importlib.util.spec_from_file_location("_system_spec_cases", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod._systems()


def test_instance_is_the_reference():
    systems = _systems()
    for cold in (True, False):
        if cold:
            system_mod._INSTANCES.clear()
        for s in systems:
            fast, ref = s.instance(), s.instance_reference()
            assert fast == ref and fast.encode() == ref.encode() and fast.layout() == ref.layout()


def test_quantity_widths_and_names():
    for bits in range(1, 70):
        for limb_bits in (1, 4, 8, 13, 16):
            q = Quantity(f"n{bits}", bits, limb_bits=limb_bits)
            full, rest = divmod(bits, limb_bits)
            widths = (limb_bits,) * full + ((rest,) if rest else ())
            assert q.widths == widths
            names = q.limb_names
            assert names == [f"n{bits}/limb{j}" for j in range(len(widths))]
            names.append("x")  # a caller's list is its own
            assert len(q.limb_names) == len(widths)
            assert q == Quantity(f"n{bits}", bits, limb_bits=limb_bits) and hash(q) == hash(Quantity(f"n{bits}", bits, limb_bits=limb_bits))


def test_public_evals_is_public_eval():
    import random

    from zkaudit.field.constants import P
    from zkaudit.field.scalar import Fp2
    from zkaudit.layers.clamp.system import IND
    from zkaudit.layers.tensor import num_vars

    rng = random.Random(4)
    for s in _systems():
        keys = [IND, *s.public]
        n = num_vars(s.shape)
        for point in ([Fp2(rng.randrange(P), rng.randrange(P)) for _ in range(n)], [Fp2(rng.randrange(2)) for _ in range(n)]):
            assert s.public_evals(keys, point) == [s.public_eval(k, point) for k in keys]
            assert s.public_evals(keys[::-1], point) == [s.public_eval(k, point) for k in keys[::-1]]

"""`System.spec` builds its zero-check polynomial from an expansion cached
by the system's structure (names replaced by positions). It must be term
for term `spec_reference`, the expansion rebuilt per call: for systems of
every shape the layers build, for two nodes of one structure under
different names (the cache's hit), and for systems that differ only in a
coefficient, a limb width or a signedness (each a different structure)."""

from __future__ import annotations

import random

import pytest

from zkaudit.circuit import Node, TensorSpec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.layers.clamp import system as system_mod
from zkaudit.layers.clamp.verifier import clamp_system
from zkaudit.layers.requantize.verifier import requantize_system


def _rq(name, m, s, axis=1, zi=0, zo=0, lo=-128, hi=127):
    return Node.make(name, "Requantize", ["x"], "y", axis=axis, in_zero_point=zi, multiplier=m, out_max=hi,
                     out_min=lo, out_zero_point=zo, shift=s)


def _specs(shape, xlo, xhi, lo=-128, hi=127):
    return {"x": TensorSpec("x", shape, xlo, xhi), "y": TensorSpec("y", shape, lo, hi)}


def _systems():
    rng = random.Random(7)
    out = []
    for name in ("rq", "gru/step3/rq_z", "q:odd/name"):  # the same structure under three names
        out.append(requantize_system(_rq(name, [1518500250], [38], zo=-3), _specs((4, 8), -(2**20), 2**20)))
    out.append(requantize_system(_rq("pc", [1073741824, 1518500250, 3, 1999999999], [31, 38, 1, 40], zi=5, zo=2),
                                 _specs((3, 4), -(2**20), 2**20)))
    out.append(requantize_system(_rq("spread", [1 << 30, 1800000000, 1 << 30, 1999999999], [41, 50, 45, 48], zo=-3),
                                 _specs((2, 4), -(2**31), 2**31 - 1)))
    out.append(requantize_system(_rq("exact", [1 << 30], [34], zo=-128, lo=-128, hi=127), _specs((5, 3), -(2**24), 2**24)))
    out.append(requantize_system(_rq("inexact", [1 << 30], [34], zo=-128, lo=-100, hi=127), _specs((5, 3), -(2**24), 2**24)))
    for _ in range(12):
        shape = (rng.randrange(1, 5), rng.randrange(1, 9))
        m, s = rng.randrange(1, 1 << 31), rng.randrange(1, 50)
        lo = rng.randrange(-128, 0)
        out.append(requantize_system(_rq(f"r{_}", [m], [s], zo=rng.randrange(-5, 5), lo=lo, hi=rng.randrange(lo, 128)),
                                     _specs(shape, -(1 << rng.randrange(4, 24)), 1 << rng.randrange(4, 24))))
    for lo, hi in ((0, 127), (-128, 127), (0, 6), (-3, 3)):
        node = Node.make(f"clip{lo}", "Clip", ["x"], "y", lo=lo, hi=hi)
        try:
            out.append(clamp_system(node, _specs((3, 5), -300, 300, lo, hi)))
        except Exception as exc:  # a Clip's attribute names differ: the test needs some clamp systems
            pytest.fail(f"clamp_system: {exc!r}")
    return out


@pytest.mark.parametrize("cold", [True, False])
def test_spec_is_the_reference_term_for_term(cold):
    if cold:
        system_mod._EXPANSIONS.clear()
    rng = random.Random(11)
    for system in _systems():
        for gamma in (Fp2(0), Fp2(1), Fp2(P - 1), Fp2(rng.randrange(P), rng.randrange(P))):
            fast, ref = system.spec(gamma), system.spec_reference(gamma)
            assert fast == ref
            assert fast.to_bytes() == ref.to_bytes()


def test_one_structure_under_different_names_shares_an_expansion():
    system_mod._EXPANSIONS.clear()
    systems = _systems()
    assert systems[0]._structure() == systems[1]._structure() == systems[2]._structure()
    assert len({s._structure() for s in systems}) < len(systems)
    for s in systems:
        s.spec(Fp2(5))
    assert len(system_mod._EXPANSIONS) == len({s._structure() for s in systems})


def test_a_changed_coefficient_width_or_sign_is_another_structure():
    base = _systems()[0]
    import dataclasses

    rel = [list(r) for r in base.relations]
    coeff, keys = rel[0][1]
    rel[0][1] = (coeff + 1, keys)
    changed = dataclasses.replace(base, relations=rel)
    wider = dataclasses.replace(base, quantities=[dataclasses.replace(q, bits=q.bits + 1) for q in base.quantities])
    flipped = dataclasses.replace(base, quantities=[dataclasses.replace(q, signed=not q.signed) for q in base.quantities])
    for other in (changed, wider, flipped):
        assert other._structure() != base._structure()
        assert other.spec(Fp2(3)) == other.spec_reference(Fp2(3))
        assert other.spec(Fp2(3)) != base.spec(Fp2(3))

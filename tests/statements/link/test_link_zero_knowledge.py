"""The link proof is zero-knowledge in the way the inference tests check it
(`tests/statements/zk_harness.py`): with the challenges fixed, two runs on
theta_1 with two banks and one run on theta_2 (one entry changed, the same
quantized weights) with the first bank. A revealed coordinate that the bank
does not move but theta does is a leak of theta; there is none. Tampering
with the bank's role (pads switched off) makes the detector fire."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from link_helpers import build, theta_commitment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zk_harness  # noqa: E402

import zkaudit.sumcheck.zk as zk_mod  # noqa: E402
from zkaudit import pcs  # noqa: E402
from zkaudit.field.randomness import random_ext  # noqa: E402
from zkaudit.statements.link import prover as link_prover  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build("logreg", tmp_path_factory.mktemp("zk"))


def _revealed(model, theta, ct, bank, size, monkeypatch, *, no_pads=False):
    made = {}

    def factory():
        t = zk_harness.FixedChallenges()
        made["t"] = t
        return t

    class FixedBank(zk_mod.ZkProver):
        def __init__(self, sizes, values=None):
            super().__init__(sizes, values)
            self.values["advice"] = np.ascontiguousarray(bank[: sizes["advice"]])
            if no_pads:
                self.values["advice"][:] = 0

    def stop(*args, **kwargs):
        raise zk_harness._Stop

    with monkeypatch.context() as m:
        m.setattr(link_prover, "Transcript", factory)
        m.setattr(zk_mod, "ZkProver", FixedBank)
        m.setattr(pcs, "open", stop, raising=False)
        m.setattr(link_prover, "_bank_size", lambda estimate: size)
        with pytest.raises(zk_harness._Stop):
            model.prove(theta=theta, theta_commitment=ct)
    return made["t"].revealed


def test_no_value_in_the_clear_depends_on_theta(model, monkeypatch):
    theta2 = np.array(model.theta, dtype=np.int64)
    theta2[5] += 1  # same quantized weights (the rounding absorbs one unit at Q16)
    ct2 = theta_commitment(model.policy, theta2, model.theta_salt)
    model.prove(theta=theta2, theta_commitment=ct2)  # an honest statement

    seen = {}
    orig_init = zk_mod.ZkProver.__init__

    def init(self, sizes, values=None):
        orig_init(self, sizes, values)
        seen["zk"] = self

    with monkeypatch.context() as m:
        m.setattr(zk_mod.ZkProver, "__init__", init)
        model.prove()
    size, used = seen["zk"].sizes["advice"], seen["zk"].banks_used()["advice"]

    def bank():
        out = np.zeros((size, 2), dtype=np.uint64)
        out[:used] = random_ext(used)
        return out

    b, b2 = bank(), bank()
    a = _revealed(model, model.theta, model.theta_commitment, b, size, monkeypatch)
    a2 = _revealed(model, model.theta, model.theta_commitment, b2, size, monkeypatch)
    c = _revealed(model, theta2, ct2, b, size, monkeypatch)
    assert len(a) == len(a2) == len(c) > 100
    leaks = [i for i in range(len(a)) if a[i] == a2[i] and a[i] != c[i]]
    assert not leaks, f"{len(leaks)} revealed coordinates move with theta and not with the bank: {leaks[:10]}"
    assert sum(u != v for u, v in zip(a, a2)) > len(a) // 2
    # the detector works: without pads (a zero bank) theta's footprint shows
    z = _revealed(model, model.theta, model.theta_commitment, b, size, monkeypatch, no_pads=True)
    z2 = _revealed(model, theta2, ct2, b, size, monkeypatch, no_pads=True)
    assert any(u != v for u, v in zip(z, z2))

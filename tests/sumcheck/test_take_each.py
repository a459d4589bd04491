"""`ZkSession.take_each` (one take per bank for a sum-check's pads) gives
the keys and cursors the element-by-element takes give, and raises the same
overrun at the same point when a bank runs short."""

from __future__ import annotations

import random

import pytest

from zkaudit.sumcheck.zk import BankOverrun, ZkSession


def _single(session, banks):
    return [session.take(1, b)[0] for b in banks]


def _outcome(f, sizes, used, banks):
    s = ZkSession(dict(sizes))
    for b, n in used.items():
        s.take(n, b)
    try:
        keys = f(s, banks)
    except Exception as exc:  # noqa: BLE001 -- the typed rejection and its fields are compared
        return ("raised", type(exc), str(exc), s.banks_used())
    return ("keys", keys, s.banks_used())


def test_take_each_is_single_takes():
    rng = random.Random(2)
    for _ in range(300):
        sizes = {"advice": rng.randrange(0, 12), "input": rng.randrange(0, 6)}
        used = {b: rng.randrange(0, n + 1) for b, n in sizes.items()}
        names = ["advice", "input"] + (["nobank"] if rng.random() < 0.1 else [])
        banks = [rng.choice(names) for _ in range(rng.randrange(0, 10))]
        assert _outcome(ZkSession.take_each, sizes, used, banks) == _outcome(_single, sizes, used, banks)


def test_take_each_overrun_is_rejected():
    s = ZkSession({"advice": 2})
    with pytest.raises(BankOverrun):
        s.take_each(["advice"] * 3)


def _receive_outcome(many, size, used, values):
    s = ZkSession({"advice": size})
    s.take(used, "advice")
    try:
        got = s.receive_many(values) if many else [s.receive(v) for v in values]
    except BankOverrun as exc:
        return ("raised", str(exc), s.banks_used())
    return ([(h.const, h.terms) for h in got], s.banks_used())


def test_receive_many_is_receive():
    from zkaudit.field.constants import P
    from zkaudit.field.scalar import Fp, Fp2

    rng = random.Random(8)
    for _ in range(200):
        size = rng.randrange(0, 12)
        used = rng.randrange(0, size + 1)
        values = [rng.choice((Fp2(rng.randrange(P), rng.randrange(P)), Fp2(0), Fp(rng.randrange(P)), 3))
                  for _ in range(rng.randrange(0, 8))]
        assert _receive_outcome(True, size, used, values) == _receive_outcome(False, size, used, values)

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

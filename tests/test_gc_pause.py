"""`gc_pause.paused`: the collector is off inside, back on after (also
after an exception), nested sections resume it once, and a caller that
disabled it keeps it disabled. A verification and an inference proof run
inside one."""

from __future__ import annotations

import gc
import threading

import pytest

from zkaudit.gc_pause import paused


@pytest.fixture(autouse=True)
def _enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_and_resumed():
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_exception():
    with pytest.raises(ValueError):
        with paused():
            raise ValueError("a rejected proof")
    assert gc.isenabled()


def test_nested_sections_resume_once():
    with paused():
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()


def test_overlapping_threads_resume_when_the_last_ends():
    inside, release = threading.Event(), threading.Event()

    def worker():
        with paused():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    with paused():
        t.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the worker's section is still open
    release.set()
    t.join(5)
    assert gc.isenabled()


def test_verify_proof_runs_the_verifier_paused(monkeypatch):
    from zkaudit.statements import verify as verify_mod

    seen = []
    monkeypatch.setitem(verify_mod.VERIFIERS, "probe", lambda body, **kw: seen.append(gc.isenabled()) or {"ok": 1})
    monkeypatch.setattr(verify_mod, "_discover", lambda statement=None: None)
    monkeypatch.setattr(verify_mod, "parse_envelope", lambda data: type("E", (), {"statement": "probe", "version": 0,
                                                                                "body": b""})())
    verdict = verify_mod.verify_proof(b"", circuit_bin=b"", weight_commitment=b"")
    assert verdict.valid and seen == [False] and gc.isenabled()


def test_the_inference_prover_runs_paused_and_resumes(monkeypatch):
    from zkaudit.statements.inference import prover as inference_prover

    seen = []

    def probe(*args):  # the prover's first step: record the collector's state, then stop the proof
        seen.append(gc.isenabled())
        raise ValueError("stop")

    monkeypatch.setattr(inference_prover, "_link", probe)
    with pytest.raises(ValueError):
        inference_prover.prove_witness(object())
    assert seen == [False] and gc.isenabled()


def test_pausing_wraps_a_prover_entry_point():
    from zkaudit.gc_pause import pausing
    from zkaudit.statements.consent.prover import prove_consent
    from zkaudit.statements.link.prover import prove_link
    from zkaudit.statements.training.run_proof import prove_training

    @pausing
    def entry(x, *, y):
        return x + y, gc.isenabled()

    assert entry(1, y=2) == (3, False) and gc.isenabled() and entry.__name__ == "entry"
    assert all(getattr(f, "__wrapped__", None) is not None for f in (prove_consent, prove_link, prove_training))

"""Transcript: known-answer vectors, lockstep, statement binding, uniform sampling."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import P, Fp, Fp2, vec
from zkaudit.transcript import Transcript, TranscriptError


def _fresh():
    t = Transcript()
    t.absorb_statement("kat", 1, digests={"circuit": b"\x01" * 32}, public={"x": vec.from_ints([1, 2, 3])},
                       commitments={"w": b"\x02" * 32})
    return t


# Known-answer vectors: regenerate only on purpose (a change here changes every proof).
KAT_PATH = __file__.replace("test_transcript.py", "data/transcript_kat.txt")


def _kat_values():
    t = _fresh()
    t.absorb_ext(b"test/e", Fp2(5, 6))
    t.absorb_base(b"test/b", Fp(P - 1))
    c1 = t.challenge_ext(b"test/c")
    idx = t.challenge_indices(b"test/q", 1000, 3)
    c2 = t.challenge_base(b"test/c2")
    return [c1.c0, c1.c1, *idx, c2.value]


def test_known_answer_vectors():
    with open(KAT_PATH) as fh:
        expected = [int(x) for x in fh.read().split()]
    assert _kat_values() == expected


def test_prover_and_verifier_in_lockstep():
    a, b = _fresh(), _fresh()
    for t in (a, b):
        t.absorb_vec(b"v", vec.ext_random(4, np.random.default_rng(1)))
    assert a.state_digest() == b.state_digest()
    assert a.challenge_ext(b"c") == b.challenge_ext(b"c")
    assert a.state_digest() == b.state_digest()


def test_every_difference_changes_the_challenge():
    base = _fresh().challenge_ext(b"c")
    t = Transcript()
    t.absorb_statement("kat", 2, digests={"circuit": b"\x01" * 32}, public={"x": vec.from_ints([1, 2, 3])},
                       commitments={"w": b"\x02" * 32})
    assert t.challenge_ext(b"c") != base  # version differs
    t = Transcript()
    t.absorb_statement("kat", 1, digests={"circuit": b"\x01" * 32}, public={"x": vec.from_ints([1, 2, 4])},
                       commitments={"w": b"\x02" * 32})
    assert t.challenge_ext(b"c") != base  # public value differs
    t = _fresh()
    assert t.challenge_ext(b"d") != base  # label differs
    # framing: (ab, c) and (a, bc) differ
    x, y = _fresh(), _fresh()
    x.absorb_bytes(b"l", b"ab")
    x.absorb_bytes(b"l", b"c")
    y.absorb_bytes(b"l", b"a")
    y.absorb_bytes(b"l", b"bc")
    assert x.challenge_ext(b"c") != y.challenge_ext(b"c")


def test_challenge_before_statement_is_refused():
    t = Transcript()
    with pytest.raises(TranscriptError):
        t.challenge_ext(b"c")


def test_successive_challenges_differ():
    t = _fresh()
    cs = t.challenge_exts(b"c", 50)
    assert len(set(cs)) == 50


def test_indices_uniform_and_in_range():
    t = _fresh()
    n = 6
    counts = np.bincount(t.challenge_indices(b"q", n, 6000), minlength=n)
    assert counts.sum() == 6000 and counts.min() > 850 and counts.max() < 1150
    assert t.challenge_index(b"q", 1) == 0
    with pytest.raises(TranscriptError):
        t.challenge_index(b"q", 0)


def test_soundness_ledger_is_the_union_bound():
    import math

    from zkaudit.transcript import DEFAULT_DEGREE, Transcript

    t = Transcript()
    assert t.soundness_bits() == math.inf
    t.absorb_statement("ledger", 1)
    for _ in range(1000):
        t.challenge_ext(b"x")
    t.challenge_index(b"i", 10)  # indices are charged by the protocol that draws them
    assert t.ext_challenges == 1000
    default = 2 * math.log2(2**64 - 2**32 + 1) - math.log2(1000 * DEFAULT_DEGREE)
    assert abs(t.soundness_bits() - default) < 1e-9
    t.charge("opening", -101.0)
    t.charge("opening", -101.0)
    expected = -math.log2(2 * 2.0**-101 + 2.0**-default)
    assert abs(t.soundness_bits() - expected) < 1e-9 and t.soundness_bits() < 100.1

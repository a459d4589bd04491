"""Instruments for the zero-knowledge tests: a transcript whose challenges
do not depend on what it absorbs (so the prover's run is an affine function
of its bank), the revealed vector of a run, and exact linear algebra over
GF(p) (galois, the test oracle).

Every value a zero-knowledge proof reveals outside the hiding commitments'
own openings is absorbed into the transcript before it is used (that is
how Fiat-Shamir binds it), so recording the absorbed field elements from
the statement to the end of the layer walk (before the openings, whose
hiding `tests/pcs/test_hiding.py` checks with its own rank test) records
exactly what the proof reveals of the witness through its protocols."""

from __future__ import annotations

import hashlib
import struct

import galois
import numpy as np

import zkaudit.sumcheck.zk as zk_mod
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.statements.inference import prover as inference_prover
from zkaudit.statements.inference import witness as witness_mod
from zkaudit.statements.inference import zk_prover
from zkaudit.transcript import Transcript

GF = galois.GF(P)


class FixedChallenges(Transcript):
    """Challenges from a counter only; records every field element absorbed
    after the statement."""

    def __init__(self):
        super().__init__()
        self.revealed: list[int] = []

    def _squeeze(self, label: bytes) -> bytes:
        out = hashlib.sha256(b"fixed" + label + struct.pack("<Q", self._counter)).digest()
        self._counter += 1
        return out

    def absorb_ext(self, label, x):
        self.revealed += [x.c0, x.c1]
        super().absorb_ext(label, x)

    def absorb_exts(self, label, xs):
        xs = list(xs)
        for x in xs:
            self.revealed += [x.c0, x.c1] if isinstance(x, Fp2) else [x.value]
        super().absorb_exts(label, xs)

    def absorb_base(self, label, x: Fp):
        self.revealed.append(x.value)
        super().absorb_base(label, x)


class _Stop(Exception):
    pass


def revealed_vector(w: witness_mod.Witness, bank_size: int, banks: dict[str, np.ndarray],
                    opening: bytes | None = None):
    """The revealed base-field coordinates of one zero-knowledge run of `w`
    with the given bank values ((size, 2) words per bank; unused entries 0),
    and the run's final-value pads (key, f~(r), Z(r))."""
    made = {}
    orig = inference_prover.statement_transcript

    def transcript_factory(*args, **kwargs):
        t = FixedChallenges()
        real = orig(*args, **kwargs)  # binds the statement as usual
        t._h, t._counter, t._statement_bound = real._h.copy(), real._counter, True
        made["t"] = t
        return t

    class FixedBanks(zk_mod.ZkProver):
        def __init__(self, sizes, values=None):
            super().__init__(sizes, values)
            for name, arr in banks.items():
                self.values[name] = np.ascontiguousarray(arr[: sizes[name]])
            made["zk"] = self

    real_discharge = zk_prover.discharge

    def discharge(*args, **kwargs):
        real_discharge(*args, **kwargs)
        raise _Stop

    saved = (zk_mod.ZkProver,)
    inference_prover.statement_transcript = transcript_factory
    zk_mod.ZkProver = FixedBanks
    zk_prover.discharge = discharge
    try:
        inference_prover._prove(w, None, None, bank_size, opening)
    except _Stop:
        pass
    finally:  # restored at once: the rest of the suite proves for real
        inference_prover.statement_transcript = orig
        (zk_mod.ZkProver,) = saved
        zk_prover.discharge = real_discharge
    return made["t"].revealed, made["zk"].final_pads


def bank_usage(w, opening=None) -> tuple[int, dict[str, int]]:
    """(advice bank size to use, entries each bank uses) of an honest run."""
    seen = {}
    orig = zk_mod.ZkProver.__init__

    def init(self, sizes, values=None):
        orig(self, sizes, values)
        seen["zk"] = self

    zk_mod.ZkProver.__init__ = init
    try:
        inference_prover.prove_witness(w, input_opening=opening)
    finally:
        zk_mod.ZkProver.__init__ = orig
    return seen["zk"].sizes["advice"], seen["zk"].banks_used()


def ext_to_base_block(c: Fp2) -> np.ndarray:
    """The 2x2 base matrix of multiplication by c = c0 + c1 X (X^2 = 7)."""
    return np.array([[c.c0, 7 * c.c1 % P], [c.c1, c.c0]], dtype=object)


def solve_in_span(columns: list[list[int]], target: list[int]):
    """Solve sum_j a_j columns[j] = target over GF(p); None when target is
    outside their span. Also returns the rank."""
    A = GF(np.array(columns, dtype=object).T % P)
    b = GF(np.array(target, dtype=object) % P)
    aug = np.hstack([A, b.reshape(-1, 1)])
    rank_a = np.linalg.matrix_rank(A)
    rank_aug = np.linalg.matrix_rank(aug)
    return rank_aug == rank_a, int(rank_a)


def hidden_weight_claims(monkeypatch, verify) -> dict:
    """Run `verify()` (an honest proof's verification, which must accept)
    with `zk.verify_hidden_weights` watched: the claims before and after
    the weights' combinations ("before", "after", tensor -> claims) and the
    link's tensor sums ("sums")."""
    from zkaudit.statements.inference import zk as izk

    seen: dict = {}
    real = izk.verify_hidden_weights

    def spy(circuit_, sums, claims, reader, transcript):
        before = {k: list(v) for k, v in claims.items()}
        real(circuit_, sums, claims, reader, transcript)
        seen.update(before=before, after={k: list(v) for k, v in claims.items()}, sums=sums)

    monkeypatch.setattr(izk, "verify_hidden_weights", spy)
    try:
        assert verify().valid
    finally:
        monkeypatch.setattr(izk, "verify_hidden_weights", real)
    return seen


HIDDEN_WEIGHT_FLAGS = ("weight sum merged", "claim combination")  # one per weight tensor; D's


def hidden_weight_flags(monkeypatch, verify) -> tuple[bytes, list[tuple[int, int, str]]]:
    """Run `verify()` (an honest proof's verification, which must accept)
    and record the flags `zk.verify_hidden_weights` reads: (the layer
    stream they are read from, [(offset, flag, kind)] in reading order)."""
    from zkaudit.layers.stream import ProofReader
    from zkaudit.statements.inference import zk as izk

    seen: list = []
    state = {"on": False, "data": b""}
    real_flag, real_hidden = ProofReader.read_flag, izk.verify_hidden_weights

    def hidden(*a, **k):
        state["on"] = True
        try:
            return real_hidden(*a, **k)
        finally:
            state["on"] = False

    def spy(self, what):
        off = self.offset
        got = real_flag(self, what)
        if state["on"] and what in HIDDEN_WEIGHT_FLAGS:
            state["data"] = self.data
            seen.append((off, int(got), what))
        return got

    monkeypatch.setattr(ProofReader, "read_flag", spy)
    monkeypatch.setattr(izk, "verify_hidden_weights", hidden)
    try:
        verdict = verify()
    finally:
        monkeypatch.setattr(ProofReader, "read_flag", real_flag)
        monkeypatch.setattr(izk, "verify_hidden_weights", real_hidden)
    assert verdict.valid, verdict.reason
    return state["data"], seen

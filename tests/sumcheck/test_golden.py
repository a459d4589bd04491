"""Golden vector: one stored sum-check proof for the current format. If this
fails, the wire format or the transcript changed: regenerate on purpose with
    python tests/sumcheck/test_golden.py --regenerate
and say why in the commit."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkaudit.errors import ProofRejected
from zkaudit.field import vec
from zkaudit.sumcheck import SumcheckProof, SumOfProducts
from zkaudit.sumcheck.prover import prove
from zkaudit.sumcheck.verifier import verify
from zkaudit.transcript import Transcript

GOLDEN = Path(__file__).parent.parent / "data" / "sumcheck_v1.bin"
NUM_VARS = 4
SPEC = SumOfProducts.of(3, [(3, (0, 1, 2)), (1, (1,))])


def _tables():
    rng = np.random.default_rng(2026)
    return [vec.random(1 << NUM_VARS, rng) for _ in range(3)]


def _transcript():
    t = Transcript()
    t.absorb_statement("golden", 1, digests={"case": b"sumcheck-v1".ljust(32, b"\0")})
    return t


def _make() -> bytes:
    proof, _, s = prove(_tables(), SPEC, _transcript())
    return s.to_bytes() + proof.to_bytes()


def _check(data: bytes):
    from zkaudit.field import Fp2

    s = Fp2.from_bytes(data[:16])
    return verify(SumcheckProof.from_bytes(data[16:]), s, NUM_VARS, SPEC, _transcript())


def test_prover_reproduces_golden_proof():
    assert _make() == GOLDEN.read_bytes()


def test_golden_proof_verifies():
    claim = _check(GOLDEN.read_bytes())
    for i, t in enumerate(_tables()):
        claim.check_table(i, t)


@settings(max_examples=150)
@given(st.data())
def test_any_single_byte_change_is_rejected(data):
    raw = bytearray(GOLDEN.read_bytes())
    pos = data.draw(st.integers(0, len(raw) - 1))
    delta = data.draw(st.integers(1, 255))
    raw[pos] = (raw[pos] + delta) % 256
    with pytest.raises(ProofRejected):
        _check(bytes(raw))


if __name__ == "__main__" and "--regenerate" in sys.argv:
    GOLDEN.write_bytes(_make())
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")

"""`keys.verify_batch` (several signatures by one key, checked as one
random linear combination) against py_ecc's own Verify / PopVerify, the
naive reference; and concurrent signed writes that share tree heads."""

from __future__ import annotations

import threading

import pytest
from py_ecc.bls import G2ProofOfPossession as bls
from py_ecc.bls.g2_primitives import G2_to_signature, signature_to_G2
from py_ecc.optimized_bls12_381 import G2, Z2, add, multiply, neg
from registry_helpers import bad_proofs, key, publish

from zkaudit.registry import keys
from zkaudit.registry.errors import BadSignature
from zkaudit.registry.keys import read_keystore
from zkaudit.registry.store import Registry

K, OTHER = key("batch-signer"), key("batch-other")
M1, M2 = b"first statement", b"second statement"


def _items(pk, sigs):
    return [keys.pop_item(pk, sigs[0]), keys.signature_item(M1, sigs[1], what="one"),
            keys.signature_item(M2, sigs[2], what="two")]


def _reference(pk, sigs) -> bool:
    return bls.PopVerify(pk, sigs[0]) and bls.Verify(pk, M1, sigs[1]) and bls.Verify(pk, M2, sigs[2])


def _shift(sig: bytes, by) -> bytes:
    return G2_to_signature(add(signature_to_G2(sig), by))


HONEST = (K.proof_of_possession(), K.sign(M1), K.sign(M2))
X = multiply(G2, 987654321)
CASES = {
    "honest": HONEST,
    "pop of another key": (OTHER.proof_of_possession(),) + HONEST[1:],
    "signature by another key": (HONEST[0], OTHER.sign(M1), HONEST[2]),
    "signatures swapped": (HONEST[0], HONEST[2], HONEST[1]),
    # valid as a sum, invalid one by one: what an unrandomised sum would accept
    "offsetting signatures": (HONEST[0], _shift(HONEST[1], X), _shift(HONEST[2], neg(X))),
    "pop reused as a signature": (HONEST[0], HONEST[0], HONEST[2]),
    "infinity signature": (HONEST[0], G2_to_signature(Z2), HONEST[2]),
    "not a point": (HONEST[0], b"\x8f" + b"\x01" * 95, HONEST[2]),
    "short": (HONEST[0], HONEST[1][:95], HONEST[2]),
}


@pytest.mark.parametrize("case", CASES)
def test_batch_agrees_with_py_ecc(case):
    sigs = CASES[case]
    try:
        expected = _reference(K.public_key, sigs)
    except Exception:  # py_ecc raises on some malformed encodings: that is a rejection
        expected = False
    if expected:
        keys.verify_batch(K.public_key, _items(K.public_key, sigs))
    else:
        with pytest.raises(BadSignature):
            keys.verify_batch(K.public_key, _items(K.public_key, sigs))
    assert expected == (case == "honest")


def test_batch_names_the_failing_item():
    with pytest.raises(BadSignature, match="invalid signature on two"):
        keys.verify_batch(K.public_key, _items(K.public_key, (HONEST[0], HONEST[1], OTHER.sign(M2))))


@pytest.mark.parametrize("pk", [b"\x00" * 48, b"\xc0" + b"\x00" * 47, b"\x01" * 47])
def test_batch_refuses_invalid_public_keys(pk):
    with pytest.raises(BadSignature, match="not a valid BLS12-381 G1 point"):
        keys.verify_batch(pk, [keys.signature_item(M1, HONEST[1], what="one")])


def test_concurrent_signed_writes_are_all_covered_by_signed_heads(sqlite_url, tmp_path):
    """Writers sign heads outside the write lock and share them: each write
    is covered by a signed head when it returns, and the log verifies."""
    reg, _, key_path = Registry.init(sqlite_url, tmp_path / "r.key")
    reg.key = None
    publish(reg, tmp_path, "m", "1")
    reg.key = read_keystore(key_path)
    covered: list[bool] = []

    def write(t: int) -> None:
        out = reg.submit_proof(model="m", version="1", proof=bad_proofs()["bad magic"] + bytes([t]),
                               submitter=key("acme").public_key)
        covered.append(reg.head()["signed_head"]["tree_size"] > out["log_index"])

    threads = [threading.Thread(target=write, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert covered == [True] * 6
    rep = reg.verify_log()
    assert rep.ok, rep.problems
    assert rep.size == 11 and reg.head()["signed_head"]["tree_size"] == 11

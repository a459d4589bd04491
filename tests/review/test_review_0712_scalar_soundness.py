"""Review of inference protocol 11 (commit f73be40, `zk.discharge`): a
one-entry advice table's first claim is opened, each later claim is only a
deferred equality with the first (folded into the bank claim).

Attacked as the prover-adversary, on a model whose tensors are all one
entry (x (1, 1) times w (1, 1), requantized), in four proof kinds: public
input, committed input, hashed weights (w is then a hidden advice table,
also a weight name) and a two-record batch; plus the (1, 4) x (4, 1) score.
The tamper ("a prover slipped a false value past a layer": the discharge
sees a false claim on a scalar table) is applied on both sides, prover and
verifier, so the opening's transcript is the verifier's and only the false
value can fail it. (A verifier-only tamper, as in
`test_scalar_claims.py`, is refused by any change to the claim set: the
opening's transcript diverges; it cannot show the deferred check works.)

* a later claim shifted (Hidden + d) or replaced by a public wrong value, a
  first claim replaced by a public wrong value, every claim shifted by the
  same d: refused by the advice opening;
* teeth: with the deferred advice equalities dropped on both sides
  (mutant), the shifted later claim is accepted, so the deferred check is
  what catches it;
* verifier-only: each tamper, and a later claim moved onto the input bank
  (a deferred check spanning banks), is refused through a `Verdict`;
* hashed weights: w's limb tables are one-entry advice tables whose later
  claims are deferred;
* a witness-level prover (`malicious_prover.Attack`): every one-entry advice
  table's value changed by +1 and -1, downstream made consistent, proven
  zero-knowledge: refused (at the layers), never forged;
* honest proofs of every kind verify (the batch of two widens the record's
  tensors, so only w's tables stay one-entry).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.statements.inference import zk as izk
from zkaudit.statements.inference.commitment import hashed_weight_commitment
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof
from zkaudit.sumcheck import zk as szk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
from malicious_prover import Attack  # noqa: E402
from small_circuits import _rq, chain  # noqa: E402

SALT = (123456789, 987654321)
OPENING = bytes(range(32))


def _tiny():
    x = TensorSpec("x", (1, 1), -128, 127, 0.1, 0)
    w = TensorSpec("w", (1, 1), -127, 127)
    nodes = [Node.make("mm", "MatMul", ["x", "w"], "acc", a_zero_point=0, b_zero_point=0),
             _rq("rq", "acc", "y", channels=1, shift=4)]
    return chain("scalars", [x], [w], nodes, ["y"]), Weights({"w": np.array([[-93]])}), {"x": np.array([[77]])}


def _score():
    x = TensorSpec("x", (1, 4), -128, 127, 0.1, 0)
    w = TensorSpec("w", (4, 1), -127, 127)
    nodes = [Node.make("mm", "MatMul", ["x", "w"], "acc", a_zero_point=0, b_zero_point=0),
             _rq("rq", "acc", "y", channels=1)]
    return (chain("score", [x], [w], nodes, ["y"]), Weights({"w": np.array([[3], [-7], [11], [-2]])}),
            {"x": np.array([[5, -9, 100, 17]])})


KINDS = ["public", "committed", "hashed", "batch", "score"]


def _make(kind):
    circuit, weights, record = _score() if kind == "score" else _tiny()
    kw = {}
    if kind == "hashed":
        com = hashed_weight_commitment(circuit, weights, SALT)[0].to_bytes()
        kw["weight_salt"] = SALT
    else:
        com = commit_weights(circuit, weights)[0].to_bytes()
    if kind == "committed":
        kw.update(commit_input=True, input_opening=OPENING)
    inputs = [record, {"x": np.array([[-12]])}] if kind == "batch" else record

    def make():
        return circuit, com, prove(circuit, weights, inputs, weight_commitment=com, **kw)

    return make


@pytest.fixture(scope="module")
def proofs():
    return {kind: _make(kind)() for kind in KINDS}


def _verify(entry):
    circuit, com, proof = entry
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


def _scalar_tables(claims, advice_names):
    names = set(advice_names)
    return {n: cl for n, cl in sorted(claims.items()) if n in names and cl and all(not len(c.point) for c in cl)}


def _tampering(monkeypatch, how, seen):
    real = izk.discharge

    def tampered(circuit, body, claims, advice_names, transcript, weight_value, **kw):
        scalars = {n: cl for n, cl in _scalar_tables(claims, advice_names).items() if len(cl) >= 2}
        seen["tables"] = sorted(scalars)
        seen["weights_hidden"] = kw.get("weights_hidden")
        if scalars:
            name = sorted(scalars)[seen.get("pick", 0) % len(scalars)]
            how(scalars[name])
            seen["hit"] = name
        return real(circuit, body, claims, advice_names, transcript, weight_value, **kw)

    monkeypatch.setattr(izk, "discharge", tampered)


def _replace(cl, i, value):
    c = cl[i]
    cl[i] = type(c)(c.tensor, c.point, value)


def _shift_later(cl):
    _replace(cl, len(cl) - 1, Hidden.of(cl[-1].value) + Fp2(1))


def _public_later(cl):
    _replace(cl, len(cl) - 1, Fp2(12345))


def _input_bank_later(cl):
    v = Hidden.of(cl[-1].value)
    _replace(cl, len(cl) - 1, Hidden(v.const, tuple((("input", k[1]), c) for k, c in v.terms)))


def _shift_all(cl):
    for i in range(len(cl)):
        _replace(cl, i, Hidden.of(cl[i].value) + Fp2(5))


def _public_first(cl):
    """The first claim public and wrong, the later ones untouched."""
    _replace(cl, 0, Fp2(777))


ATTACKS = {"shift_later": _shift_later, "public_later": _public_later, "input_bank_later": _input_bank_later,
           "shift_all": _shift_all, "public_first": _public_first}


@pytest.mark.parametrize("kind", KINDS)
def test_honest_proofs_verify_and_have_repeated_scalar_claims(proofs, kind, monkeypatch):
    seen = {}
    _tampering(monkeypatch, lambda cl: None, seen)
    verdict = _verify(proofs[kind])
    assert verdict.valid, verdict.reason
    if kind == "batch":  # the batch widens every record tensor: (2, 1) tables, no scalar left but w's
        return
    assert seen["tables"], "no one-entry advice table with two claims: nothing exercised"
    if kind == "hashed":
        assert seen["weights_hidden"] is True


def _both_sides(kind, how, pick, monkeypatch):
    """The adversarial prover's run: the same tamper applied where the
    prover discharges (it then opens its own, false, claim set as best it
    can) and where the verifier does, so the opening's transcript is the
    verifier's and only the false value can make it fail."""
    seen = {"pick": pick}
    _tampering(monkeypatch, how, seen)
    try:
        entry = _make(kind)()
    except Exception as exc:  # the honest prover code may refuse to open a false claim
        return seen, f"prover refused: {type(exc).__name__}: {exc}", None
    return seen, None, _verify(entry)


@pytest.mark.parametrize("attack", ["shift_later", "public_later", "shift_all", "public_first"])
@pytest.mark.parametrize("kind", ["public", "committed", "hashed", "score"])
def test_false_scalar_claims_are_refused(kind, attack, monkeypatch):
    for pick in range(2):  # two of the scalar tables in turn
        seen, refused, verdict = _both_sides(kind, ATTACKS[attack], pick, monkeypatch)
        assert "hit" in seen
        if refused is not None:
            pytest.fail(f"the prover refused, so the test shows nothing about the verifier: {refused}")
        assert not verdict.valid, f"{kind}: {attack} on {seen['hit']} accepted"
        assert verdict.reason.startswith("[pcs"), verdict.reason  # the opening (bank claim or the first claim)


@pytest.mark.parametrize("kind", ["public", "committed", "hashed", "score"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_tampered_claim_set_is_refused_through_a_verdict(proofs, kind, attack, monkeypatch):
    """Verifier side only (the honest proof, a discharge that sees a false
    claim): refused as a Verdict, never a traceback; a later claim moved
    onto the input bank is refused by the discharge itself (a check
    spanning banks, or a deferred check on the input bank)."""
    seen = {}
    _tampering(monkeypatch, ATTACKS[attack], seen)
    verdict = _verify(proofs[kind])
    assert "hit" in seen
    assert not verdict.valid and verdict.reason.startswith("["), verdict.reason
    if attack == "input_bank_later":
        assert "spans banks" in verdict.reason or "input commitment's bank" in verdict.reason, verdict.reason


def test_hashed_weight_scalar_is_an_advice_table(proofs, monkeypatch):
    """Hashed weights: w (1, 1) is hidden advice; its claims are combined
    before the discharge (the weights' combination), so what reaches the
    discharge on w's tables is its limbs' one-entry tables, deferred like
    any other; a lie on them is refused (above, `hashed`)."""
    seen = {}
    _tampering(monkeypatch, lambda cl: None, seen)
    assert _verify(proofs["hashed"]).valid
    assert seen["weights_hidden"] is True
    assert any(n.startswith("weights/w/") for n in seen["tables"]), seen["tables"]


def _lenient(monkeypatch):
    real_require = szk.ZkSession.require_equal

    def lenient(self, got, expected, *, where, **kw):
        if where.startswith("inference.advice"):
            return None
        return real_require(self, got, expected, where=where, **kw)

    monkeypatch.setattr(szk.ZkSession, "require_equal", lenient)


@pytest.mark.parametrize("kind", ["public", "committed", "hashed", "score"])
def test_teeth_dropping_the_deferred_equality_accepts_the_lie(kind, monkeypatch):
    """The mutant (prover and verifier) that drops the advice equalities
    accepts a shifted later claim: the deferred check is the only thing
    that catches it, and the attack above is a real one."""
    _lenient(monkeypatch)
    seen, refused, verdict = _both_sides(kind, _shift_later, 0, monkeypatch)
    assert refused is None, refused
    assert "hit" in seen
    assert verdict.valid, verdict.reason


@pytest.mark.parametrize("kind", ["public", "committed"])
def test_a_prover_changing_a_scalar_advice_value_is_refused(kind):
    circuit, weights, record = _tiny()
    attack = Attack(circuit, weights, record, commit_input=(kind == "committed"))
    scalars = [n for n in attack.advice() if attack.honest.table(n).size == 1]
    assert scalars
    tried = 0
    for name in scalars:
        v = int(attack.honest.table(name).ravel()[0])
        for nv in (v + 1, v - 1):
            out = attack.attempt((name, 0, nv))
            assert not out.forged, (name, nv, out.stage)
            assert not out.accepted or out.outputs == out.reference, (name, nv, out.stage)
            tried += 1
    assert tried >= 2

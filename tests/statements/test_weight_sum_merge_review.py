"""Independent adversarial review of inference protocol 9 (commit e21ee29),
kept through protocol 10 (the merged tensors of one size share one
combination sum-check, `zk.size_groups`; the flags come first):
a hidden weight tensor's link sum S_t = sum_x K_t(x) W_t(x) may join its
claims' combination (`zk.worth_merging`, the prover's flagged choice): one
sum-check of T E, E = sum_j rho_j eq(z_j, .) + rho_K K_t, claimed sum
sum_j rho_j v_j + rho_K S_t; the tensors not merged run the link's step 4
after the merged ones (`zk.verify_hidden_weights`).

mlp_clip against a hashed registered commitment (w1 (5, 3) and w2 (3, 5) of
5 variables, b1 (3,) of 2), by a prover that commits what it likes:

* substituted weights: the advice commitment holds W' (one entry of one
  tensor changed, the inference run on W'), the link's tree is the
  registered one and the sent S_t is the registered weights' sum (so the
  link's step-2 identity holds): rejected with the tensor merged (by its
  combination) and not merged (by step 4), whichever strategy the prover
  follows (always / never / alternate / one tensor merged);
* a wrong S_t: shifted in the proof bytes (step 2), or only in what the
  prover's combination claims (the combination);
* flags: a flipped or out-of-range "weight sum merged" flag, a merged flag
  with no section, a section after a "not merged" flag, two tensors'
  merged sections swapped, the merged sections in another tensor order;
* mutants of the verifier (the test's teeth): rho_K = 0, the extra term
  dropped from target and E (a prover that merges without S_t), S_t
  dropped from the target, K(s) dropped from E: each either accepts the
  substituted-weights forgery or rejects an honest proof, while the real
  verifier rejects the forgery and accepts the honest proof;
* zero knowledge: each merged combination's claim on W_t carries a fresh
  pad of the advice bank (none of its claims' nor S_t's).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.circuit import encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.hash import commitment as hc
from zkaudit.statements.inference import prover as inference_prover
from zkaudit.statements.inference import weights_link as wl
from zkaudit.statements.inference import weights_link_prover as wlp
from zkaudit.statements.inference import witness as inference_witness
from zkaudit.statements.inference import zk as izk
from zkaudit.statements.inference import zk_prover
from zkaudit.statements.inference.commitment import hashed_weight_commitment, weight_layouts
from zkaudit.statements.inference.prover import prove
from zkaudit.statements.inference.weights_link_prover import LinkWitness
from zkaudit.statements.verify import verify_proof
from zkaudit.transcript import Transcript

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
from small_circuits import instance, mlp_clip  # noqa: E402
from zk_harness import HIDDEN_WEIGHT_FLAGS, hidden_weight_claims, hidden_weight_flags  # noqa: E402

SALT = (31337, 27182)
TENSORS = ("w1", "b1", "w2")  # layout order


@pytest.fixture(scope="module")
def model():
    circuit, weights, x = instance(mlp_clip, seed=3)
    com = hashed_weight_commitment(circuit, weights, SALT)[0].to_bytes()
    plan = wl.LinkPlan.of(circuit, com)
    assert tuple(t.name for t in plan.layouts) == TENSORS
    return circuit, weights, x, com


@pytest.fixture(autouse=True)
def _bank_from_the_estimate(monkeypatch):
    """Each proof starts from the bank estimate (a retry after BankExhausted
    would otherwise run with whatever another test left behind, and a
    forgery patched into one attempt must be the one that is sent)."""
    monkeypatch.setattr(inference_prover, "_BANK_SIZES", {})


def _verify(circuit, proof, com):
    """verify_proof turns every ProofRejected into a verdict; any other exception fails the test."""
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


# ------------------------------------------------------------ the prover's strategies


def _strategy(choice: str):
    """worth_merging replaced: 'always', 'never', 'alternate' (w1 and w2
    merged, b1 not), 'b1' (b1 only). Called once per tensor in layout order
    on each attempt, so the call count mod 3 names the tensor."""
    calls = itertools.count()

    def choose(*_a) -> bool:
        t = next(calls) % len(TENSORS)
        return {"always": True, "never": False, "alternate": t % 2 == 0, "b1": t == 1}[choice]
    return choose


def _merging(monkeypatch, choice: str) -> None:
    monkeypatch.setattr(izk, "worth_merging", _strategy(choice))


def _merged_by(choice: str) -> set[str]:
    return {name for t, name in enumerate(TENSORS)
            if {"always": True, "never": False, "alternate": t % 2 == 0, "b1": t == 1}[choice]}


def _flags(circuit, proof, com, monkeypatch) -> tuple[bytes, dict]:
    """(the layer stream, {'weight sum merged': [(offset, flag)], 'claim
    combination': [...]}) read by the verifier inside verify_hidden_weights."""
    data, read = hidden_weight_flags(monkeypatch, lambda: _verify(circuit, proof, com))
    seen = {kind: [(off, flag) for off, flag, k in read if k == kind] for kind in HIDDEN_WEIGHT_FLAGS}
    return data, seen


@pytest.mark.parametrize("choice", ["always", "never", "alternate", "b1"])
def test_honest_proofs_verify_whatever_the_prover_merges(model, monkeypatch, choice):
    """The choice is the prover's: every strategy verifies, and the proof's
    flags say exactly which tensors it merged."""
    circuit, weights, x, com = model
    _merging(monkeypatch, choice)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    _, flags = _flags(circuit, proof, com, monkeypatch)
    merged = {TENSORS[i] for i, (_, f) in enumerate(flags["weight sum merged"]) if f}
    assert len(flags["weight sum merged"]) == len(TENSORS)
    assert merged == _merged_by(choice)
    assert len(flags["claim combination"]) == 1  # D's


# ------------------------------------------------------------ substituted weights


def _changed(weights, name: str, index: int = 0) -> Weights:
    w = np.array(weights[name])
    flat = w.reshape(-1)
    flat[index] = flat[index] + 1 if flat[index] < 100 else flat[index] - 1
    return Weights({**{k: weights[k] for k in weights}, name: w})


def _substitute(monkeypatch, circuit, weights, x, com, name: str) -> Weights:
    """The forger's prover: it proves the inference on W' (one entry of
    `name` changed), commits W' in the advice commitment, but hashes the
    registered W in the link (the registered tree) and sends each S_t
    computed from the registered W's tables, so that the link's step-2
    identity holds. Returns W'."""
    used = _changed(weights, name)
    layouts = weight_layouts(circuit)
    msg = hc.message(layouts, [np.asarray(weights[t.name]) for t in layouts], SALT)
    registered = inference_prover._Tables(inference_witness.build(circuit, weights, x))
    plan = wl.LinkPlan.of(circuit, com)
    real_deferred = wlp.prove_deferred

    def link(*a, **k):  # a fresh witness per attempt (an attempt takes the trace's layers)
        return plan, LinkWitness.from_message(plan, msg, SALT)

    def deferred(plan_, witness, tables, transcript, stream):
        assert not np.array_equal(tables[name], registered[name]), "the advice table is not W'"
        return real_deferred(plan_, witness, {t.name: registered[t.name] for t in plan_.layouts}, transcript, stream)

    monkeypatch.setattr(inference_prover, "_link", link)
    monkeypatch.setattr(wlp, "prove_deferred", deferred)
    return used


def _forge(model, monkeypatch, name: str, choice: str) -> bytes:
    circuit, weights, x, com = model
    _merging(monkeypatch, choice)
    used = _substitute(monkeypatch, circuit, weights, x, com, name)
    try:
        return prove(circuit, used, x, weight_commitment=com, weight_salt=SALT)
    finally:
        monkeypatch.undo()
        monkeypatch.setattr(inference_prover, "_BANK_SIZES", {})


def _in_combination(name: str, reason: str) -> bool:
    """The reason names the merged combination of `name`'s size group
    ("inference.weights w1+w2", `zk.size_groups`; w1 and w2 share the
    5-variable group, b1 has its own)."""
    return re.search(rf"inference\.weights (\w+\+)*{name}\b", reason) is not None


def _caught_where(name: str, merged: bool, reason: str) -> bool:
    """Where the forgery must be caught: the tensor's combination, or step 4."""
    if merged:
        return _in_combination(name, reason)
    return f"inference.weights-link tensors of {5 if name != 'b1' else 2} variables" in reason


@pytest.mark.parametrize("name", ["w1", "b1"])
@pytest.mark.parametrize("choice", ["always", "never", "alternate", "b1"])
def test_substituted_weights_with_the_registered_sum_are_rejected(model, monkeypatch, name, choice):
    circuit, weights, x, com = model
    proof = _forge(model, monkeypatch, name, choice)
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid, f"W' in {name} accepted ({choice})"
    assert _caught_where(name, name in _merged_by(choice), verdict.reason), verdict.reason


def test_the_substitution_alone_passes_the_link_steps_1_to_3(model, monkeypatch):
    """The forgery is the one this change is about: the link's steps 1-3
    (the GKR, step 2's identity with the sent S_t, D's root) accept it; only
    the reduction of S_t to W' (here the merged combination) is left."""
    circuit, weights, x, com = model
    proof = _forge(model, monkeypatch, "w1", "always")
    passed = {}
    real = wl.verify_deferred

    def spy(*a):
        out = real(*a)
        passed["deferred"] = True
        return out

    monkeypatch.setattr(wl, "verify_deferred", spy)
    verdict = _verify(circuit, proof, com)
    monkeypatch.undo()
    assert passed.get("deferred") and not verdict.valid


# ------------------------------------------------------------ mutants of the verifier


def _zero_challenge(monkeypatch, zeroed: bytes):
    """Both sides draw the challenges labelled `zeroed` as 0 (one Transcript)."""
    real = Transcript.challenge_ext

    def challenge(self, label):
        v = real(self, label)
        return Fp2(0) if label == zeroed else v
    monkeypatch.setattr(Transcript, "challenge_ext", challenge)


def _zero_rho_k(monkeypatch):
    _zero_challenge(monkeypatch, izk.LABEL_SUM_WEIGHT)


def test_mutant_rho_k_zero_accepts_the_forgery(model, monkeypatch):
    """rho_K = 0 (both sides draw it from the one Transcript): the merged
    combination no longer checks S_t and the substituted weights are
    accepted; with the real challenge the same forger is rejected."""
    circuit, weights, x, com = model
    _zero_rho_k(monkeypatch)
    _merging(monkeypatch, "always")
    used = _substitute(monkeypatch, circuit, weights, x, com, "w1")
    proof = prove(circuit, used, x, weight_commitment=com, weight_salt=SALT)
    mutant = _verify(circuit, proof, com)
    monkeypatch.undo()
    assert mutant.valid, f"the mutant caught it: the forgery is not the one the test means ({mutant.reason})"
    assert not _verify(circuit, _forge(model, monkeypatch, "w1", "always"), com).valid


def _zero_alpha(monkeypatch):
    _zero_challenge(monkeypatch, izk.LABEL_GROUP)


def test_mutant_group_alpha_zero_accepts_the_forgery_in_the_second_member(model, monkeypatch):
    """w1 and w2 share one merged sum-check (protocol 10). With its alpha for
    w2 at 0 (both sides), W' in w2 is accepted: w2's claims and S_w2 drop out
    of the group's sum; with the real alpha the same forger is rejected."""
    circuit, weights, x, com = model
    _zero_alpha(monkeypatch)
    _merging(monkeypatch, "always")
    used = _substitute(monkeypatch, circuit, weights, x, com, "w2")
    proof = prove(circuit, used, x, weight_commitment=com, weight_salt=SALT)
    mutant = _verify(circuit, proof, com)
    monkeypatch.undo()
    assert mutant.valid, f"the mutant caught it: the forgery is not the one the test means ({mutant.reason})"
    verdict = _verify(circuit, _forge(model, monkeypatch, "w2", "always"), com)
    assert not verdict.valid and _in_combination("w2", verdict.reason), verdict.reason


def test_mutant_verifier_without_the_sum_term_accepts_a_forgery_that_merges_without_it(model, monkeypatch):
    """A verifier whose merged combination drops rho_K (S_t, K_t) (target
    and E alike) accepts a forger that merges its claims only; the real
    verifier rejects the same proof."""
    circuit, weights, x, com = model
    real_combine, real_verify = zk_prover._combine_group, izk._verify_group

    def no_extras(members):
        return [(name, n, pending, None) for name, n, pending, _ in members]

    def no_extra_prover(members, *a, **k):
        return real_combine(no_extras(members), *a, **k)

    def no_extra_verifier(members, *a, **k):
        return real_verify(no_extras(members), *a, **k)

    _merging(monkeypatch, "always")
    used = _substitute(monkeypatch, circuit, weights, x, com, "w1")
    monkeypatch.setattr(zk_prover, "_combine_group", no_extra_prover)
    proof = prove(circuit, used, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    real = _verify(circuit, proof, com)
    monkeypatch.setattr(izk, "_verify_group", no_extra_verifier)
    mutant = _verify(circuit, proof, com)
    monkeypatch.undo()
    assert mutant.valid, mutant.reason
    assert not real.valid and _in_combination("w1", real.reason), real.reason


@pytest.mark.parametrize("drop", ["sum", "k"])
def test_mutant_verifier_dropping_one_half_of_the_term_rejects_honest_proofs(model, monkeypatch, drop):
    """_verify_group with S_t dropped from the target (or K(s) from E(s)):
    the honest merged proof is rejected (and the real verifier accepts it),
    so both halves of the term are what the honest proof is checked by."""
    circuit, weights, x, com = model
    _merging(monkeypatch, "always")
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    assert _verify(circuit, proof, com).valid
    real_verify = izk._verify_group

    def dropped(extra):
        if extra is None:
            return None
        s, k_value = extra
        return (Fp2(0), k_value) if drop == "sum" else (s, lambda point: Fp2(0))

    def mutant(members, *a, **k):
        return real_verify([(name, n, pending, dropped(extra)) for name, n, pending, extra in members], *a, **k)

    monkeypatch.setattr(izk, "_verify_group", mutant)
    verdict = _verify(circuit, proof, com)
    monkeypatch.undo()
    assert not verdict.valid and "inference.weights" in verdict.reason, verdict.reason


# ------------------------------------------------------------ a wrong S_t


def test_a_shifted_sent_sum_is_rejected(model, monkeypatch):
    """S_w1 + 1 in the proof's bytes (the tensor merged): step 2's identity fails."""
    circuit, weights, x, com = model
    _merging(monkeypatch, "always")
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    where = {}
    real = wl._read_exts

    def spy(reader, count):
        if count == wl.sent_count(plan):
            where.update(data=reader.data, offset=reader.offset)
        return real(reader, count)

    plan = wl.LinkPlan.of(circuit, com)
    monkeypatch.setattr(wl, "_read_exts", spy)
    assert _verify(circuit, proof, com).valid
    monkeypatch.undo()
    base = proof.find(where["data"])
    assert base >= 0 and proof.find(where["data"], base + 1) < 0
    at = base + where["offset"] + (wl.WIDTH + 2) * BYTES_EXT  # S_w1, the first tensor's sum
    sent = Fp2.from_bytes(proof[at: at + BYTES_EXT])
    bad = proof[:at] + (sent + Fp2(1)).to_bytes() + proof[at + BYTES_EXT:]
    verdict = _verify(circuit, bad, com)
    # step 2's identity is a deferred check of padded values: the merged
    # combination, checked first, is where the shifted S_w1 shows
    assert not verdict.valid and ("weights-link" in verdict.reason or _in_combination("w1", verdict.reason)), \
        verdict.reason


@pytest.mark.parametrize("name", TENSORS)
def test_a_combination_over_a_shifted_sum_is_rejected(model, monkeypatch, name):
    """The prover's merged combination claims S_t + 1 (the sent S_t honest):
    the verifier's target is its own, from the sent value."""
    circuit, weights, x, com = model
    real = zk_prover.combine_hidden_weights
    t = TENSORS.index(name)

    def shifted(circuit_, sums, *a, **k):
        values = list(sums.sums)
        values[t] = values[t] + Fp2(1)
        return real(circuit_, dataclasses.replace(sums, sums=tuple(values)), *a, **k)

    _merging(monkeypatch, "always")
    monkeypatch.setattr(zk_prover, "combine_hidden_weights", shifted)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid and _in_combination(name, verdict.reason), verdict.reason


# ------------------------------------------------------------ flags and sections


@pytest.mark.parametrize("choice", ["always", "never", "alternate"])
def test_a_flipped_or_bad_merged_flag_is_rejected(model, monkeypatch, choice):
    circuit, weights, x, com = model
    _merging(monkeypatch, choice)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    layers, flags = _flags(circuit, proof, com, monkeypatch)
    base = proof.find(layers)
    assert base >= 0 and proof.find(layers, base + 1) < 0
    tried = 0
    for off, flag in flags["weight sum merged"]:
        assert proof[base + off] == flag
        for new in (1 - flag, 2, 255):
            bad = bytearray(proof)
            bad[base + off] = new
            verdict = _verify(circuit, bytes(bad), com)
            assert not verdict.valid, (off, flag, new)
            tried += 1
    assert tried == 3 * len(TENSORS)


def _sections(monkeypatch) -> list:
    """Spy: each merged size group's section, in the order proven, under
    each of its tensors' names."""
    out = []
    real = zk_prover._combine_group

    def spy(members, *a, **k):
        sc = real(members, *a, **k)
        if members[0][3] is not None:  # a merged group (its members carry the link sum)
            out.extend((m[0], sc) for m in members)
        return sc
    monkeypatch.setattr(zk_prover, "_combine_group", spy)
    return out


def _edited_section(monkeypatch, edit):
    """The prover's combination bytes (before they join the layer stream, so
    the proof's framing stays right) edited by edit(bytes, sections). The
    bytes open with one "merged" flag per tensor (layout order), then the
    merged groups' sections."""
    sections = _sections(monkeypatch)
    real = zk_prover.combine_hidden_weights

    def wrapped(*a, **k):
        sections.clear()
        out = real(*a, **k)
        assert out[: len(TENSORS)] == b"\x01" * len(TENSORS)
        return edit(out, dict(sections))
    monkeypatch.setattr(zk_prover, "combine_hidden_weights", wrapped)


def _flag(out: bytes, name: str, value: int) -> bytes:
    t = TENSORS.index(name)
    return out[:t] + bytes([value]) + out[t + 1:]


def _no_section(out, sections):
    sec = sections["b1"]  # b1's group is b1 alone
    assert out.count(sec) == 1
    return out.replace(sec, b"")


def _section_not_flagged(out, sections):
    return _flag(out, "b1", 0)


def _swapped(out, sections):
    a, b = sections["w1"], sections["b1"]  # the 5-variable group's section and the 2-variable one's
    assert sections["w2"] == a and a != b
    i, j = out.index(a), out.index(b)
    assert i < j
    return out[:i] + b + out[i + len(a): j] + a + out[j + len(b):]


@pytest.mark.parametrize("edit", [_no_section, _section_not_flagged, _swapped], ids=lambda f: f.__name__.strip("_"))
def test_a_merged_section_missing_unflagged_or_swapped_is_rejected(model, monkeypatch, edit):
    circuit, weights, x, com = model
    _merging(monkeypatch, "always")
    _edited_section(monkeypatch, edit)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid and verdict.reason


def test_a_merged_proof_without_its_flag_but_one_sent_after_step_4_is_rejected(model, monkeypatch):
    """Flag 0 for b1 while its merged section is moved behind the (empty)
    step 4: a proof in which the verifier finds every byte it reads, in a
    place it reads a sum-check; it must still not be the same statement."""
    circuit, weights, x, com = model

    def moved(out, sections):
        sec = sections["b1"]
        body = _flag(out, "b1", 0).replace(sec, b"")
        return body[:-1] + sec + body[-1:]  # before D's flag (0: D not combined)

    monkeypatch.setattr(izk, "worth_combining", lambda *a: False)
    _merging(monkeypatch, "always")
    _edited_section(monkeypatch, moved)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid and verdict.reason


def test_merged_sections_in_another_tensor_order_are_rejected(model, monkeypatch):
    """An honest prover for the layouts in reversed order (each section
    right for its own tensor, sums and K_t reordered with it): the verifier
    reads w1's section where w2's is."""
    circuit, weights, x, com = model
    real = zk_prover.combine_hidden_weights

    def reversed_order(circuit_, sums, *a, **k):
        plan = dataclasses.replace(sums.plan, layouts=tuple(reversed(sums.plan.layouts)))
        return real(circuit_, dataclasses.replace(sums, plan=plan, sums=tuple(reversed(sums.sums)),
                                                  k_tables=tuple(reversed(sums.k_tables))), *a, **k)

    _merging(monkeypatch, "always")
    monkeypatch.setattr(zk_prover, "combine_hidden_weights", reversed_order)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid and "inference.weights" in verdict.reason, verdict.reason


# ------------------------------------------------------------ zero knowledge


@pytest.mark.parametrize("choice", ["always", "alternate"])
def test_a_merged_claim_carries_a_fresh_pad_of_the_advice_bank(model, monkeypatch, choice):
    """Verifier side: each merged tensor's one claim left is Hidden with an
    advice-bank pad that none of its point claims nor its S_t carried (the
    combination's final padded from the bank, never sent in the clear); a
    tensor not merged keeps step 4's claim added to its own."""
    circuit, weights, x, com = model
    _merging(monkeypatch, choice)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    seen = hidden_weight_claims(monkeypatch, lambda: _verify(circuit, proof, com))
    merged = _merged_by(choice)
    assert merged
    for t, name in enumerate(TENSORS):
        after = seen["after"][name]
        if name not in merged:
            assert len(after) == len(seen["before"][name]) + 1, name
            continue
        (claim,) = after
        old = {k for c in seen["before"][name] for k, _ in Hidden.of(c.value).terms}
        old |= {k for k, _ in Hidden.of(seen["sums"].sums[t]).terms}
        assert old, name
        v = Hidden.of(claim.value)
        fresh = [k for k, _ in v.terms if k not in old and k[0] == izk.ADVICE_BANK]
        assert fresh, (name, v)

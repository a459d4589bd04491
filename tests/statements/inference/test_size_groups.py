"""Protocol 10: the weight tensors' claim combinations batched by size
(`zk.size_groups`): one zero-knowledge sum-check of sum_t T_t E'_t per group
of equal-sized tensors, E'_t = alpha_t (sum_j rho_j eq(z_j, .) [+ rho_K K_t]),
alpha_1 = 1 and the others drawn after every member's weights.

mlp_clip: w1 (5, 3) and w2 (3, 5) share the 5-variable group, b1 (3,) is
alone. Checked: the groups the verifier runs, on plain and hashed weights;
a tampered E'_t that keeps the group's sum (caught only by the verifier's
own E'_t(s)) for each member; the group's sum-check bytes moved between
groups; an extra, missing or flipped flag. The alpha = 0 mutant (a forgery
in the second member accepted) is in `test_weight_sum_merge_review.py`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from zkaudit.circuit import encode_circuit
from zkaudit.statements.inference import prover as inference_prover
from zkaudit.statements.inference import zk as izk
from zkaudit.statements.inference import zk_prover
from zkaudit.statements.inference.commitment import hashed_weight_commitment
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parent.parent / "adversarial"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
from small_circuits import instance, mlp_clip  # noqa: E402
from test_claim_combination_review import _tamper_e_keeping_the_sum  # noqa: E402

SALT = (31337, 27182)


@pytest.fixture(autouse=True)
def _bank_from_the_estimate(monkeypatch):
    monkeypatch.setattr(inference_prover, "_BANK_SIZES", {})


@pytest.fixture(scope="module", params=["plain", "hashed"])
def model(request):
    circuit, weights, x = instance(mlp_clip, seed=3)
    if request.param == "plain":
        com = commit_weights(circuit, weights)[0].to_bytes()
    else:
        com = hashed_weight_commitment(circuit, weights, SALT)[0].to_bytes()
    return request.param, circuit, weights, x, com


def _prove(model, monkeypatch):
    scheme, circuit, weights, x, com = model
    if scheme == "hashed":
        monkeypatch.setattr(izk, "worth_merging", lambda *a: True)  # every tensor merged: the groups hold them all
    try:
        return prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT if scheme == "hashed" else None)
    finally:
        monkeypatch.undo()
        monkeypatch.setattr(inference_prover, "_BANK_SIZES", {})


def _verify(model, proof):
    _, circuit, _, _, com = model
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


def test_the_verifier_runs_one_combination_per_size(model, monkeypatch):
    proof = _prove(model, monkeypatch)
    groups = []
    real = izk._verify_group

    def spy(members, *a, **k):
        groups.append([m[0] for m in members])
        return real(members, *a, **k)

    monkeypatch.setattr(izk, "_verify_group", spy)
    verdict = _verify(model, proof)
    monkeypatch.undo()
    assert verdict.valid, verdict.reason
    weights_groups = [g for g in groups if set(g) <= {"w1", "w2", "b1"}]
    assert sorted(map(sorted, weights_groups)) == [["b1"], ["w1", "w2"]], groups


def test_size_groups_keep_order_and_split_by_size():
    members = [("a", 3), ("b", 0), ("c", 3), ("d", 1), ("e", 0), ("f", 3)]
    assert [[m[0] for m in g] for g in izk.size_groups(members)] == [["a", "c", "f"], ["b", "e"], ["d"]]
    assert izk.size_groups([]) == []
    assert izk.group_spec(1) is izk.REPAD
    spec = izk.group_spec(3)
    assert spec.num_tables == 6 and spec.degree == 2
    assert [t.tables for t in spec.terms] == [(0, 1), (2, 3), (4, 5)]


@pytest.mark.parametrize("member", [0, 1])
def test_a_member_E_that_keeps_the_group_sum_is_caught_by_the_recomputed_E(model, monkeypatch, member):
    """E'_t + d with sum_x T_t d = 0 for one member of the (w1, w2) group:
    every round is honest, only E'_t(s) differs, and the verifier names the
    member."""
    from zkaudit.sumcheck import prover as sumcheck_prover

    state, rng = {}, random.Random(7 + member)
    real_prove = sumcheck_prover.prove

    def tampered(tables, spec, transcript, **kw):
        if spec.num_tables == 4 and kw.get("pad_bank") == {0: izk.ADVICE_BANK, 2: izk.ADVICE_BANK} \
                and "tampered" not in state:
            state["tampered"] = True
            tables = list(tables)
            tables[2 * member + 1] = _tamper_e_keeping_the_sum(tables[2 * member], tables[2 * member + 1], rng)
        return real_prove(tables, spec, transcript, **kw)

    monkeypatch.setattr(sumcheck_prover, "prove", tampered)
    proof = _prove(model, monkeypatch)
    assert state.get("tampered")
    verdict = _verify(model, proof)
    assert not verdict.valid and "combination weight" in verdict.reason, verdict.reason
    assert f"[{('w1', 'w2')[member]}]" in verdict.reason, verdict.reason


def _edit_sections(model, monkeypatch, edit):
    """The weights' combination bytes (flags, then the groups' sum-checks in
    group order) edited by edit(out, sections) before they join the stream."""
    sections = []
    real_group = zk_prover._combine_group

    def spy(members, *a, **k):
        sc = real_group(members, *a, **k)
        sections.append(([m[0] for m in members], sc))
        return sc

    scheme = model[0]
    name = "combine_weights" if scheme == "plain" else "combine_hidden_weights"
    real = getattr(zk_prover, name)

    def wrapped(*a, **k):
        sections.clear()
        out = real(*a, **k)
        return edit(out, [sc for names, sc in sections if set(names) <= {"w1", "w2", "b1"}])

    monkeypatch.setattr(zk_prover, "_combine_group", spy)
    monkeypatch.setattr(zk_prover, name, wrapped)
    return _prove(model, monkeypatch)


def _swap(out, secs):
    a, b = secs
    i, j = out.index(a), out.index(b)
    assert i < j
    return out[:i] + b + out[i + len(a): j] + a + out[j + len(b):]


def _drop_second(out, secs):
    return out.replace(secs[1], b"")


def _repeat_first(out, secs):
    i = out.index(secs[0]) + len(secs[0])
    return out[:i] + secs[0] + out[i:]


def _flip_first_flag(out, secs):
    return bytes([out[0] ^ 1]) + out[1:]


def _bad_flag(out, secs):
    return bytes([2]) + out[1:]


@pytest.mark.parametrize("edit", [_swap, _drop_second, _repeat_first, _flip_first_flag, _bad_flag],
                         ids=lambda f: f.__name__.strip("_"))
def test_group_sections_moved_dropped_repeated_or_flags_changed_are_rejected(model, monkeypatch, edit):
    proof = _edit_sections(model, monkeypatch, edit)
    verdict = _verify(model, proof)
    assert not verdict.valid and verdict.reason


def test_repad_target_on_ints_is_the_expression():
    """The combined claim's target (sum_j rho_j v_j on ints) is the form of
    Hidden.of(0) + rho_j v_j ..., for public and Hidden values, and draws
    the same weights from the transcript."""
    import random

    from zkaudit.field.constants import P
    from zkaudit.field.hidden import Hidden
    from zkaudit.field.scalar import Fp2
    from zkaudit.layers.claim import TensorClaim
    from zkaudit.statements.inference import zk as izk
    from zkaudit.transcript import Transcript

    rnd = random.Random(7)

    def ext():
        return Fp2(rnd.randrange(P), rnd.randrange(P))

    for trial in range(60):
        claims = []
        for j in range(rnd.randrange(1, 5)):
            value = (ext() if rnd.randrange(2)
                     else Hidden(ext(), [(("advice", rnd.randrange(6)), ext()) for _ in range(rnd.randrange(1, 3))]))
            claims.append(TensorClaim("t", (ext(), ext()), value))
        if trial % 7 == 0:
            claims.append(claims[0])  # a repeated claim: deduplicated by both
        t1, t2 = Transcript(), Transcript()
        for t in (t1, t2):
            t.absorb_statement("test/repad", 1)
        got, want = izk.repad_target(claims, t1), izk.repad_target_reference(claims, t2)
        assert got[0] == want[0] and got[1] == want[1]
        assert type(got[2]) is Hidden and got[2] == want[2]
        assert t1.challenge_ext(b"after") == t2.challenge_ext(b"after")

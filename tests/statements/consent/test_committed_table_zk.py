"""The consent proof's LogUp against a committed table, run zero-knowledge
(lookup/committed_table.py): tested below the PCS. The verifier's deferred
checks are affine forms in the bank; evaluated at the prover's bank (what
the bank opening would confirm) they are all zero on an honest run, and
each lie (a row outside the table, a wrong multiplicity, a numerator on a
padding row's value) leaves one that is not. The claims handed back are
Hidden and, at the prover's bank, equal the tables' true evaluations. Each
check runs on both zero-knowledge forms: the trees in lock step (version
3, what the provers make) and one after the other (version 2, a prover with
its own layer prover); then the forms' own attacks: a version byte
changed, a lock-step layer dropped, swapped or repeated, layers under a
tree, a version-2 proof's layers moved into lock step."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import committed_table_prover as prover
from zkaudit.lookup import gkr
from zkaudit.lookup import committed_table_verifier as verifier
from zkaudit.lookup.committed_table import CommittedTableInstance, CommittedTableProof
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.zk import ZkProver, ZkSession
from zkaudit.transcript import Transcript

U64 = np.uint64
BANK = 4096


def _transcript(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/committed-table-zk", 1)
    t.zk = zk
    return t


def _case(rng, nf=4, nt=5, table_rows=20, used=9):
    th, tl = np.zeros(1 << nt, U64), np.zeros(1 << nt, U64)
    th[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    tl[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    pick = rng.choice(table_rows, used, replace=False)
    fh, fl, e = np.zeros(1 << nf, U64), np.zeros(1 << nf, U64), np.zeros(1 << nf, U64)
    fh[:used], fl[:used], e[:used] = th[pick], tl[pick], 1
    inst = CommittedTableInstance(2, nf, nt, table_rows)
    return inst, [fh, fl], e, [th, tl]


FORMS = {"lock_step": {}, "per_tree": {"layer_prove": gkr.fused_layer_prove}}


@pytest.fixture(params=sorted(FORMS))
def form(request):
    return request.param


def _run(inst, f, e, t, m, form="lock_step"):
    """(the prover's session, the verifier's session, the verifier's claims)."""
    zp = ZkProver({"advice": BANK})
    proof, _ = prover.prove(inst, f, e, t, m, _transcript(zp), **FORMS[form])
    assert proof.zero_knowledge and proof.joint == (form == "lock_step")
    parsed = CommittedTableProof.from_bytes(proof.to_bytes())
    zv = ZkSession({"advice": BANK})
    claims = verifier.verify(inst, parsed, _transcript(zv))
    return zp, zv, claims


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def test_honest_run_every_deferred_check_holds_and_claims_are_the_evaluations(form):
    rng = np.random.default_rng(5)
    inst, f, e, t = _case(rng)
    m = prover.table_multiplicities(f, e, t, inst.table_rows)
    zp, zv, claims = _run(inst, f, e, t, m, form)
    assert zv.checks and all(zp.value(c) == Fp2(0) for c in zv.checks)
    assert zv.banks_used() == zp.banks_used()
    for cl, col in [(c, f[i]) for i, c in enumerate(claims.lookup_columns)] + [(claims.numerators, e)]:
        assert not cl.value.is_public and zp.value(cl.value) == _ext(evaluate(col, list(cl.point)))
    for cl, col in [(c, t[i]) for i, c in enumerate(claims.table_columns)] + [(claims.multiplicities, m)]:
        assert not cl.value.is_public and zp.value(cl.value) == _ext(evaluate(col, list(cl.point)))


@pytest.mark.parametrize("attack", ["row_outside_table", "multiplicity_off_by_one", "count_on_padding_row"])
def test_each_lie_leaves_a_deferred_check_that_fails(attack, form):
    rng = np.random.default_rng(6)
    inst, f, e, t = _case(rng)
    m = prover.table_multiplicities(f, e, t, inst.table_rows)
    f = [c.copy() for c in f]
    if attack == "row_outside_table":
        f[1][0] ^= U64(1)  # the first looked-up row leaves the table; m still counts the original
    elif attack == "multiplicity_off_by_one":
        m = m.copy()
        m[int(np.flatnonzero(m)[0])] += U64(1)
    else:  # a looked-up row moved onto a padding row's value (0, 0), counted there
        j = int(np.flatnonzero((t[0][: inst.table_rows] == f[0][0]) & (t[1][: inst.table_rows] == f[1][0]))[0])
        f[0][0], f[1][0] = U64(0), U64(0)
        m = m.copy()
        m[j] -= U64(1)
        m[inst.table_rows] = U64(1)
    try:
        zp, zv, _ = _run(inst, f, e, t, m, form)
    except ProofRejected:
        return  # refused on the spot
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)


def test_leaf_values_must_be_the_gkr_leaves(form):
    """The GKR runs on a stranger-free copy of the looked-up rows (every row
    in the table, counts to match) while the values sent are those of the
    true rows, which the dataset's opening would confirm: only the deferred
    leaf check ties the two, and it fails."""
    import dataclasses

    rng = np.random.default_rng(7)
    inst, f, e, t = _case(rng)
    true_f = [c.copy() for c in f]
    true_f[1][0] ^= U64(1)  # the true first row is a stranger
    m = prover.table_multiplicities(f, e, t, inst.table_rows)
    zp = ZkProver({"advice": BANK})
    proof, claims = prover.prove(inst, f, e, t, m, _transcript(zp), **FORMS[form])
    rf = list(claims.lookup_columns[1].point)
    shift = _ext(evaluate(true_f[1], rf)) - _ext(evaluate(f[1], rf))
    values = list(proof.lookup_values)
    values[1] = values[1] + shift  # the pad stays, the padded value is now the true column's
    forged = dataclasses.replace(proof, lookup_values=tuple(values))
    zv = ZkSession({"advice": BANK})
    got = verifier.verify(inst, CommittedTableProof.from_bytes(forged.to_bytes()), _transcript(zv))
    assert zp.value(got.lookup_columns[1].value) == _ext(evaluate(true_f[1], rf))  # the opening would pass
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)


# ------------------------------------------------------------ the two forms' own attacks


def _proofs(nf=4, nt=5):
    rng = np.random.default_rng(8)
    inst, f, e, t = _case(rng, nf=nf, nt=nt)
    m = prover.table_multiplicities(f, e, t, inst.table_rows)
    out = {}
    for form, hooks in FORMS.items():
        zp = ZkProver({"advice": BANK})
        out[form] = prover.prove(inst, f, e, t, m, _transcript(zp), **hooks)[0], zp
    return inst, out


def _verify(inst, proof) -> tuple[bool, str]:
    """(accepted with every deferred check zero at the prover's bank, why not)."""
    zv = ZkSession({"advice": BANK})
    try:
        verifier.verify(inst, CommittedTableProof.from_bytes(proof.to_bytes()), _transcript(zv))
    except ProofRejected as exc:
        return False, str(exc)
    return True, ""


def _checks_hold(inst, proof, zp) -> bool:
    zv = ZkSession({"advice": BANK})
    verifier.verify(inst, CommittedTableProof.from_bytes(proof.to_bytes()), _transcript(zv))
    return all(zp.value(c) == Fp2(0) for c in zv.checks)


def test_lock_step_runs_as_many_layers_as_the_deepest_tree():
    inst, proofs = _proofs(nf=4, nt=5)
    tree_vars = inst.layout()[0]
    (joint, zp), (per_tree, _) = proofs["lock_step"], proofs["per_tree"]
    assert len(tree_vars) == 2 and joint.to_bytes()[4] == 3 and per_tree.to_bytes()[4] == 2
    assert len(joint.joint_layers) == max(tree_vars) and not any(joint.layers)
    assert sum(map(len, per_tree.layers)) == sum(tree_vars)
    assert _checks_hold(inst, joint, zp)
    assert len(joint.to_bytes()) < len(per_tree.to_bytes())


def test_a_changed_version_byte_is_refused():
    inst, proofs = _proofs()
    for form, (proof, _) in proofs.items():
        data = bytearray(proof.to_bytes())
        for version in ({2, 3, 1} - {data[4]}) | {4, 0}:
            data[4] = version
            with pytest.raises(ProofRejected):
                inst_proof = CommittedTableProof.from_bytes(bytes(data))
                verifier.verify(inst, inst_proof, _transcript(ZkSession({"advice": BANK})))


@pytest.mark.parametrize("edit", ["drop", "swap", "repeat"])
def test_lock_step_layers_dropped_swapped_or_repeated_are_refused(edit):
    import dataclasses

    inst, proofs = _proofs()
    proof, zp = proofs["lock_step"]
    layers = list(proof.joint_layers)
    if edit == "drop":
        layers = layers[:-1]
    elif edit == "swap":
        layers[1], layers[2] = layers[2], layers[1]
    else:
        layers = layers + [layers[-1]]
    bad = dataclasses.replace(proof, joint_layers=tuple(layers))
    try:
        ok, _ = _verify(inst, bad)
    except ProofRejected:
        return
    assert not ok or not _checks_hold(inst, bad, zp)


def test_layers_under_a_tree_in_a_lock_step_proof_are_refused():
    import dataclasses

    inst, proofs = _proofs()
    joint, _ = proofs["lock_step"]
    per_tree, _ = proofs["per_tree"]
    bad = dataclasses.replace(joint, layers=per_tree.layers)
    with pytest.raises(ValueError):
        bad.to_bytes()  # the encoder refuses it; the bytes below are built by hand
    raw = bytearray(per_tree.to_bytes())
    raw[4] = 3  # a version-2 proof relabelled: its trees' layers, then no lock-step count
    with pytest.raises(ProofRejected):
        verifier.verify(inst, CommittedTableProof.from_bytes(bytes(raw)), _transcript(ZkSession({"advice": BANK})))


def test_a_per_tree_proof_moved_into_lock_step_is_refused():
    """The per-tree run's layers of the deepest tree sent as the lock-step
    layers: the counts fit, the transcripts do not (version 3 absorbs its
    own label, and its layers combine the trees)."""
    import dataclasses

    inst, proofs = _proofs()
    per_tree, zp = proofs["per_tree"]
    moved = dataclasses.replace(per_tree, layers=tuple(() for _ in per_tree.layers),
                                joint_layers=per_tree.layers[0])
    try:
        ok, _ = _verify(inst, moved)
    except ProofRejected:
        return
    assert not ok or not _checks_hold(inst, moved, zp)

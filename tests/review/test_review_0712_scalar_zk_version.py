"""Review of inference protocol 11 (commit f73be40): zero knowledge of the
deferred equality that replaces a one-entry table's later claims, and how
the verifier treats a protocol-10 proof.

Zero knowledge. Before: the opening confirmed L_1: T - m_1 = s_1 and
L_j: T - m_j = s_j (T the table's entry, m_j the claim's bank pad, s_j
public). Now: L_1 and the deferred check D_j: (s_j - m_j) - (s_1 - m_1) = 0
folded into the bank claim. D_j = L_1 - L_j, so the equations the proof
reveals now span a subspace of those it revealed before (the bank claim's
fold is a combination of the checks). Checked exactly over GF(p), on every
scalar table of two proofs (public and committed input): each later claim
left exactly one deferred check, equal to the difference of the old
claims; the new rows lie in the old rows' span, and T is not determined by
the new rows (with the pads unknown). The advice-recovery attack of
`test_zk_attacks` on the opening's captured claims recovers no scalar
table.

Protocol 10. The review found the version bound in the transcript only,
so a protocol-10 proof was refused with the first check its protocol does
differently, the reason a forgery gets. The body now starts with its
protocol version (proof format 4): such a proof is refused naming it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import galois
import numpy as np
import pytest

from zkaudit.circuit import encode_circuit
from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.statements.inference import verifier as inference_verifier
from zkaudit.statements.inference import zk as izk
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "adversarial"))
sys.path.insert(0, str(ROOT / "tests" / "statements"))
from zk_harness import ext_to_base_block  # noqa: E402

from test_review_0712_scalar_soundness import _tiny  # noqa: E402  (the all-scalar circuit)

GF = galois.GF(P)
OPENING = bytes(range(32))




@pytest.fixture(scope="module", params=["public", "committed"])
def model(request):
    circuit, weights, record = _tiny()
    com = commit_weights(circuit, weights)[0].to_bytes()
    kw = dict(commit_input=True, input_opening=OPENING) if request.param == "committed" else {}
    return circuit, weights, com, prove(circuit, weights, record, weight_commitment=com, **kw)


def _verify(circuit, com, proof):
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


def _spy(monkeypatch):
    seen = {}
    real = izk.discharge

    def spy(circuit, body, claims, advice_names, transcript, weight_value, **kw):
        names = set(advice_names)
        seen["committed"] = body.committed_input
        seen["order"] = list(advice_names)
        seen["scalars"] = {n: [c.value for c in cl] for n, cl in claims.items()
                           if n in names and cl and all(not len(c.point) for c in cl)}
        before = len(transcript.zk.checks)
        out = real(circuit, body, claims, advice_names, transcript, weight_value, **kw)
        seen["checks"] = list(transcript.zk.checks[before:])
        seen["advice"] = out[0]["advice"]
        return out

    monkeypatch.setattr(izk, "discharge", spy)
    return seen


def _row(form: Hidden, t_coeff: Fp2, keys: list):
    """[T, m_keys...] coefficients of `form` (an Fp2-linear form), as 2 rows of GF(p)."""
    coeffs = [t_coeff] + [Fp2(0)] * len(keys)
    for k, c in form.terms:
        coeffs[1 + keys.index(k)] = coeffs[1 + keys.index(k)] + c
    blocks = [ext_to_base_block(c) for c in coeffs]
    return np.hstack(blocks)  # 2 x 2(1 + len(keys))


def test_each_later_claim_is_one_deferred_check_in_the_old_claims_span(model, monkeypatch):
    circuit, _, com, proof = model
    seen = _spy(monkeypatch)
    assert _verify(circuit, com, proof).valid
    repeated = {n: vs for n, vs in seen["scalars"].items() if len(vs) >= 2}
    assert repeated, "no repeated scalar claims"
    checks = seen["checks"]
    # every advice LinearClaim's bank keys: a later claim's pad must not be opened on its own
    for name, vals in repeated.items():
        first, later = Hidden.of(vals[0]), [Hidden.of(v) for v in vals[1:]]
        for v in later:
            d = v - first
            assert not d.is_public, "a later claim padded like the first: the check would be empty"
            assert sum(1 for c in checks if type(c) is Hidden and c.terms == d.terms and c.const == d.const) >= 1
        keys = sorted({k for v in [first] + later for k, _ in v.terms})
        # old: T - (v - const) = const  ->  the form T - terms(v); new: v - first (no T)
        old = [_row(Hidden(Fp2(0), tuple((k, -c) for k, c in v.terms)), Fp2(1), keys) for v in [first] + later]
        new = [old[0]] + [_row(v - first - Hidden.of((v - first).const), Fp2(0), keys) for v in later]
        A_old = GF(np.vstack(old).astype(object) % P)
        A_new = GF(np.vstack(new).astype(object) % P)
        r_old = np.linalg.matrix_rank(A_old)
        assert np.linalg.matrix_rank(GF(np.vstack([A_old, A_new]))) == r_old, name  # new rows in the old span
        assert np.linalg.matrix_rank(A_new) == r_old, name  # and the same span: nothing lost either
        if first.is_public:  # the output y: its first claim is the public output itself, T is public
            assert name in {s_.name for s_ in circuit.outputs}, name
            continue
        # T free: some solution of the homogeneous new system moves T (the pads absorb it)
        null = A_new.null_space()
        assert null.shape[0] and np.any(null[:, :2] != 0), f"{name}: T determined by the revealed equations"


def test_the_advice_recovery_attack_finds_no_scalar_table(model, monkeypatch):
    """`test_zk_attacks._recover` (pads unknown) on the opening's advice
    claims, for every scalar table: none is pinned down."""
    import test_zk_attacks as attacks

    circuit, weights, com, proof = model
    seen = _spy(monkeypatch)
    assert _verify(circuit, com, proof).valid
    advice_names = sorted(seen["scalars"])
    from zkaudit.layers.dispatch_verifier import advice_shapes
    from zkaudit.statements.inference import committed_range

    names = advice_shapes(circuit.nodes, circuit.specs())
    names.update(committed_range.plan(circuit, committed_inputs=seen["committed"]).advice_shapes())
    order = sorted(names)
    assert order == seen["order"][: len(order)]
    outputs = {s_.name for s_ in circuit.outputs}
    for name in advice_names:
        if name in outputs:  # public
            continue
        got = attacks._recover(seen["advice"], order.index(name), 1, pads=True)
        assert got is None or got == "inconsistent", f"{name} recovered: {got}"


def test_a_protocol_10_proof_is_refused_naming_the_protocol(monkeypatch):
    """A proof whose body says protocol 10 (and whose transcript bound 10)
    is refused through a Verdict, before any check, with a reason that
    names the protocol (the review's finding, fixed by the body's version
    field: the transcript alone gave the first broken check's reason)."""
    import zkaudit.statements.inference.proof as proof_mod

    circuit, weights, record = _tiny()
    com = commit_weights(circuit, weights)[0].to_bytes()
    with monkeypatch.context() as m:
        m.setattr(proof_mod, "PROTOCOL_VERSION", 10)
        m.setattr(inference_verifier, "PROTOCOL_VERSION", 10)
        proof = prove(circuit, weights, record, weight_commitment=com)
    verdict = _verify(circuit, com, proof)
    assert not verdict.valid
    assert verdict.reason.startswith("[inference.protocol] made by inference protocol 10,"), verdict.reason
    assert "re-prove" in verdict.reason

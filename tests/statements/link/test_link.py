"""The link proof (link-quant/v1): an honest proof verifies for the logreg
and MLP exports of a breast-cancer run, and every attack of design §3.9
(28-30) and the issue is rejected -- by the verifier, or, where a cheating
witness cannot even be proven (a value outside its range table), by the
prover; never accepted:

  * one weight off by one LSB (the registered c_W holds it);
  * the MLP's W1 transposed under pi (registered so; or pi restated);
  * a wrong bias scale (registered so; or stated so);
  * undeclared clamping: a wrong saturation count;
  * theta not the one in c_theta (another salt, one entry changed);
  * c_W of another model;
  * a malicious prover varying the free values (q and remainder,
    selectors, range columns' padding)."""

from __future__ import annotations

import numpy as np
import pytest
from link_helpers import build, hashed, theta_commitment

from zkaudit.errors import ProofRejected, ZkauditError
from zkaudit.hash import commitment as hc
from zkaudit.lookup.tables import NotInTable
from zkaudit.statements.link import plan as lp
from zkaudit.statements.link.prover import LinkMismatch, quantized_tensors, witness_columns
from zkaudit.statements.link.verifier import (
    PiMismatch, QuantSpecMismatch, StatementMismatch, plan_of,
)


@pytest.fixture(scope="module")
def logreg(tmp_path_factory):
    return build("logreg", tmp_path_factory.mktemp("logreg"))


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    return build("mlp", tmp_path_factory.mktemp("mlp"))


@pytest.fixture(scope="module")
def logreg_proof(logreg):
    return logreg.prove()


def never_accepted(model, make, **verify_kw):
    """A cheating proof is either refused by the prover (its witness misses
    a range table) or rejected by the verifier. Returns the rejection."""
    try:
        proof = make()
    except NotInTable as exc:
        return exc
    with pytest.raises(ProofRejected) as info:
        model.verify(proof, **verify_kw)
    return info.value


# ------------------------------------------------------------------ honest


def test_honest_logreg(logreg, logreg_proof):
    v = logreg.verify(logreg_proof)
    assert v.saturated == logreg.saturated == 0
    assert v.soundness_bits >= 100
    assert v.num_params == len(logreg.theta) and v.theta_limit == logreg.policy.weight_limit
    assert len(v.quant_spec_digest) == len(v.pi_digest) == 32
    # the registry holds circuit.bin: the same verdict from its bytes
    circuit_bin = (logreg.folder / "compiled" / "public" / "circuit.bin").read_bytes()
    assert logreg.verify(logreg_proof, circuit=circuit_bin).pi_digest == v.pi_digest


def test_honest_mlp(mlp):
    v = mlp.verify(mlp.prove())
    assert v.saturated == mlp.saturated and v.soundness_bits >= 100


def test_the_statement_dispatch_routes_a_link_proof(logreg, logreg_proof):
    from zkaudit.statements.verify import verify_proof

    circuit_bin = (logreg.folder / "compiled" / "public" / "circuit.bin").read_bytes()
    verdict = verify_proof(logreg_proof, circuit_bin=circuit_bin, weight_commitment=logreg.weight_commitment)
    assert verdict.valid, verdict.reason
    assert verdict.output["theta_commitment"] == logreg.theta_commitment.hex()
    other = verify_proof(logreg_proof, circuit_bin=circuit_bin, weight_commitment=b"ZKAW/no-weights/v1")
    assert not other.valid and "c_W" in other.reason


def test_clamped_model_reports_its_saturation_exactly(tmp_path):
    m = build("logreg", tmp_path / "clamped", w_scale_factor=0.5)
    assert m.saturated > 0  # the largest weights now exceed 127 steps
    v = m.verify(m.prove())
    assert v.saturated == m.saturated
    # undeclared clamping: any other count is rejected
    for wrong in (0, m.saturated - 1, m.saturated + 1):
        never_accepted(m, lambda: m.prove(saturated=wrong))


# ------------------------------------------------------------- attacks 28-30


def test_one_weight_off_by_one_lsb(logreg):
    w = {k: v.copy() for k, v in logreg.weights.items()}
    w["fc0/W"][3, 0] += 1
    cw, salt = hashed(logreg.circuit, w)
    with pytest.raises(LinkMismatch, match=r"fc0/W\[3, 0\]"):
        logreg.prove(weights=w, weight_salt=salt, weight_commitment=cw)
    # committed anyway: the wiring (virtual W vs the committed tensor) fails
    never_accepted(logreg, lambda: logreg.prove(weights=w, weight_salt=salt, weight_commitment=cw, unchecked=True),
                   weight_commitment=cw)

    # ... or the gadget's columns follow the altered weight: a gate or range fails
    def follow(cols, weights):
        i = 3  # fc0/W[3, 0] is theta[3] under the logreg map
        cols[lp.W_VIRTUAL][i] += 1
    never_accepted(logreg, lambda: logreg.prove(weights=w, weight_salt=salt, weight_commitment=cw, unchecked=True,
                                                tamper=follow), weight_commitment=cw)


def test_transposed_w1_under_pi(mlp):
    st_pi = [dict(e) for e in _pi(mlp)]
    st_pi[0]["strides"] = [8, 1]  # read W1 row-major as if it were (in x out)
    plan = plan_of(_statement(mlp, st_pi), mlp.circuit)
    w = quantized_tensors(plan, witness_columns(plan, mlp.theta))
    assert not np.array_equal(w["fc0/W"], mlp.weights["fc0/W"])
    cw, salt = hashed(mlp.circuit, w)
    # the honest prover under the trainer's map refuses
    with pytest.raises(LinkMismatch, match="fc0/W"):
        mlp.prove(weights=w, weight_salt=salt, weight_commitment=cw)
    # forced: rejected
    never_accepted(mlp, lambda: mlp.prove(weights=w, weight_salt=salt, weight_commitment=cw, unchecked=True),
                   weight_commitment=cw)
    # stating the transposed map: it proves that map, and the verifier refuses the map
    proof = mlp.prove(weights=w, weight_salt=salt, weight_commitment=cw, pi=st_pi)
    with pytest.raises(PiMismatch):
        mlp.verify(proof, weight_commitment=cw)
    assert mlp.verify(proof, weight_commitment=cw, pi=st_pi).pi_digest != mlp.verify(mlp.prove()).pi_digest


def test_wrong_bias_scale(logreg):
    wrong = [dict(layer, b_scale=layer["w_scale"]) for layer in logreg.layers]  # forgot s_in
    plan = plan_of(_statement(logreg, _pi(logreg), wrong), logreg.circuit)
    w = quantized_tensors(plan, witness_columns(plan, logreg.theta))
    assert not np.array_equal(w["fc0/B"], logreg.weights["fc0/B"])
    w = {k: np.clip(v, s.lo, s.hi) for (k, v), s in zip(w.items(), logreg.circuit.weights)}
    cw, salt = hashed(logreg.circuit, w)
    with pytest.raises(LinkMismatch, match="fc0/B"):
        logreg.prove(weights=w, weight_salt=salt, weight_commitment=cw)
    never_accepted(logreg, lambda: logreg.prove(weights=w, weight_salt=salt, weight_commitment=cw, unchecked=True),
                   weight_commitment=cw)
    # the wrong scale stated: the spec contradicts s_b = float32(s_in s_w)
    with pytest.raises(QuantSpecMismatch):
        logreg.verify(logreg.prove(weights=w, weight_salt=salt, weight_commitment=cw, layers=wrong, unchecked=True),
                      weight_commitment=cw)


def test_theta_not_in_c_theta(logreg):
    # another salt than c_theta's
    other = hc.fresh_salt()
    with pytest.raises(LinkMismatch):
        logreg.prove(theta_salt=other)
    never_accepted(logreg, lambda: logreg.prove(theta_salt=other, unchecked=True))
    # one entry changed by one unit (its quantized weight is unchanged: only the hash link can see it)
    theta = np.array(logreg.theta, dtype=np.int64)
    theta[5] += 1
    cols_a = witness_columns(_plan(logreg), logreg.theta)
    cols_b = witness_columns(_plan(logreg), theta)
    assert cols_a[lp.W_VIRTUAL] == cols_b[lp.W_VIRTUAL]
    never_accepted(logreg, lambda: logreg.prove(theta=theta, unchecked=True))
    # proven against its own c_theta, it is not the training proof's
    ct = theta_commitment(logreg.policy, theta, logreg.theta_salt)
    proof = logreg.prove(theta=theta, theta_commitment=ct)
    with pytest.raises(StatementMismatch, match="c_theta"):
        logreg.verify(proof)


def test_c_w_of_another_model(logreg, mlp, logreg_proof):
    with pytest.raises(StatementMismatch, match="c_W"):
        logreg.verify(logreg_proof, weight_commitment=mlp.weight_commitment)
    # another model's weights under this circuit's layout: a commitment the logreg weights do not open
    w = {k: v.copy() for k, v in logreg.weights.items()}
    w["fc0/W"] = -w["fc0/W"]
    cw, _ = hashed(logreg.circuit, w)
    with pytest.raises(LinkMismatch):
        logreg.prove(weight_commitment=cw)
    never_accepted(logreg, lambda: logreg.prove(weight_commitment=cw, unchecked=True), weight_commitment=cw)


def test_scales_the_circuit_does_not_use_are_refused(logreg):
    """s_w doubled (s_b kept consistent): the circuit's requantization
    multiplier was derived from the real s_w, so the spec contradicts it."""
    import numpy as np

    wrong = [dict(layer, w_scale=layer["w_scale"] * 2,
                  b_scale=float(np.float32(layer["in_scale"]) * np.float32(layer["w_scale"] * 2)))
             for layer in logreg.layers]
    with pytest.raises(LinkMismatch, match="requantization"):
        logreg.prove(layers=wrong)
    with pytest.raises(QuantSpecMismatch, match="requantization"):
        logreg.verify(logreg.prove(layers=wrong, unchecked=True))


def test_theta_outside_its_limit_is_refused(logreg):
    """A c_theta over an out-of-range theta (made by hand: commit_weights
    refuses it) does not link, though its packing is one element per entry."""
    from zkaudit.hash.merkle import merkle_root
    from zkaudit.statements.link.prover import _pack_any

    limit = logreg.policy.weight_limit
    theta = np.array(logreg.theta, dtype=np.int64)
    theta[0] = limit + 5
    layout = hc.TensorLayout("theta", (len(theta),), -limit, limit)
    salt = hc.fresh_salt()
    msg = np.concatenate([np.array(list(salt) + hc.header_elements(len(theta), hc.layout_digest([layout])),
                                   dtype=np.uint64), _pack_any(layout, theta)])
    ct = hc.WeightCommitment(hc.SCHEME_ID, merkle_root(msg), len(theta), hc.layout_digest([layout])).to_bytes()
    w = {k: v.copy() for k, v in logreg.weights.items()}
    w["fc0/W"][0, 0] = 127  # what the rule gives for theta[0] = L + 5 (clamped): registered so
    cw, w_salt = hashed(logreg.circuit, w)
    kw = dict(theta=theta, theta_salt=salt, theta_commitment=ct, weights=w, weight_salt=w_salt, weight_commitment=cw)
    with pytest.raises(LinkMismatch, match="outside"):
        logreg.prove(**kw)
    never_accepted(logreg, lambda: logreg.prove(unchecked=True, **kw), theta_commitment=ct, weight_commitment=cw)


# ---------------------------------------------------- malicious free values


@pytest.mark.parametrize("attack", ["q_up", "q_down", "false_clamp_hi", "false_clamp_lo", "remainder_padding",
                                    "range_column_padding", "e1_off"])
def test_free_values_never_give_a_wrong_weight(logreg, attack):
    """Each cheat keeps every gate of the zero-check true (the wrong weight
    is registered in c_W, the columns follow it, the count is recomputed):
    only a range check stands in the way."""
    plan = _plan(logreg)
    i = 3  # fc0/W[3, 0] is theta[3] under the logreg map
    n, den = plan.tensors[0].multiplier(plan.weight_bits)
    weights = {k: v.copy() for k, v in logreg.weights.items()}
    dq = {"q_up": 1, "q_down": -1}.get(attack, 0)
    if dq:
        weights["fc0/W"][i, 0] += dq
    if attack.startswith("false_clamp"):
        weights["fc0/W"][i, 0] = 127 if attack.endswith("hi") else -127
    changed = not np.array_equal(weights["fc0/W"], logreg.weights["fc0/W"])
    cw, salt = hashed(logreg.circuit, weights) if changed else (logreg.weight_commitment, logreg.weight_salt)

    def tamper(cols, _weights):
        if dq:  # another quotient: the remainder leaves [0, 2D)
            cols[lp.Q][i] += dq
            cols[lp.R][i] -= 2 * den * dq
            cols[lp.RR][i] += 2 * den * dq
            cols[lp.W_VIRTUAL][i] += dq
            cols[lp.E1][i] -= dq
            cols[lp.E2][i] += dq
        elif attack.startswith("false_clamp"):  # claim a clamp that did not happen
            hi = attack.endswith("hi")
            q = cols[lp.Q][i]
            cols[lp.SH if hi else lp.SL][i] = 1
            if hi:
                cols[lp.E1][i] = q - 128
            else:
                cols[lp.E2][i] = -128 - q
            cols[lp.W_VIRTUAL][i] = 127 if hi else -127
        elif attack == "remainder_padding":
            cols[lp.R][plan.d] = 1  # padding of a range-checked column
        elif attack == "range_column_padding":
            cols[lp.E2][plan.size - 1] = 5
        elif attack == "e1_off":
            cols[lp.E1][i] += 1

    never_accepted(logreg, lambda: logreg.prove(weights=weights, weight_salt=salt, weight_commitment=cw,
                                                unchecked=True, tamper=tamper), weight_commitment=cw)


def test_free_padding_of_unranged_columns_is_harmless(logreg):
    """q, s_hi, s_lo on theta's padding are multiplied by V = 0 everywhere:
    whatever the prover puts there, the proven weights are the same."""
    plan = _plan(logreg)

    def tamper(cols, weights):
        for name in (lp.Q, lp.SH, lp.SL):
            cols[name][plan.size - 1] = 7
    assert plan.size > plan.d
    assert logreg.verify(logreg.prove(tamper=tamper)).saturated == 0


def test_user_mistakes_are_errors_not_tracebacks(logreg):
    with pytest.raises(ZkauditError):
        logreg.prove(limit=10)  # theta exceeds the declared limit
    with pytest.raises(LinkMismatch):
        logreg.prove(layers=[dict(layer, in_scale=layer["in_scale"] * 2) for layer in logreg.layers])


# ------------------------------------------------------------------ helpers


def _pi(model):
    from zkaudit.statements.link.proof import default_pi

    return default_pi(model.circuit)


def _statement(model, pi, layers=None):
    from zkaudit.circuit.encoding import circuit_digest
    from zkaudit.statements.link.proof import build_statement

    return build_statement(circuit_digest=circuit_digest(model.circuit), theta_commitment=model.theta_commitment,
                           weight_commitment=model.weight_commitment, d=len(model.theta),
                           limit=model.policy.weight_limit, weight_bits=model.policy.weight_bits,
                           layers=layers or model.layers, pi=pi, saturated=0)


def _plan(model):
    return plan_of(_statement(model, _pi(model)), model.circuit)


def test_a_changed_or_damaged_proof_is_rejected(logreg, logreg_proof):
    """Statement edits (the transcript binds it), a huge theta size (refused
    before any allocation), damaged bytes: all rejected with a reason."""
    from zkaudit.errors import MalformedProof
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.link.proof import STATEMENT, LinkProof

    body = LinkProof.from_bytes(parse_envelope(logreg_proof).body)

    def with_statement(**theta):
        st = dict(body.statement, theta=dict(body.statement["theta"], **theta))
        return encode_envelope(STATEMENT, LinkProof(st, body.advice_commitment, body.stream, body.opening).to_bytes())

    with pytest.raises(ProofRejected):
        logreg.verify(with_statement(weight_bits=logreg.policy.weight_bits - 1))
    with pytest.raises(PiMismatch, match="size"):
        logreg.verify(with_statement(num_params=1 << 40))
    with pytest.raises(MalformedProof):
        logreg.verify(logreg_proof[:-7])
    damaged = bytearray(logreg_proof)
    damaged[len(damaged) // 2] ^= 1
    with pytest.raises(ProofRejected):
        logreg.verify(bytes(damaged))


@pytest.mark.parametrize("version", [2, 4, "3"])
def test_another_protocol_is_refused_naming_it(logreg, logreg_proof, version):
    """A link proof of another protocol is refused naming its protocol and
    this verifier's, before the statement's keys (an older protocol may
    have had other keys) or any check are looked at."""
    from zkaudit.errors import MalformedProof
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.link.proof import PROTOCOL_VERSION, STATEMENT, LinkProof

    body = LinkProof.from_bytes(parse_envelope(logreg_proof).body)
    st = dict(body.statement, protocol_version=version, an_older_key=1)
    old = encode_envelope(STATEMENT, LinkProof(st, body.advice_commitment, body.stream, body.opening).to_bytes())
    with pytest.raises(MalformedProof, match=f"made by link protocol {version!r}, and this verifier runs protocol "
                                             f"{PROTOCOL_VERSION}; re-prove with this version"):
        logreg.verify(old)

"""Requantize: honest reductions (per-tensor and per-channel, ties of both
signs, saturation on both sides, shift 0, wide shifts) discharge against the
real tensors and match the executor; lying advice is rejected."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from zkaudit.circuit.infer import with_inferred_specs
from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.layers.requantize import prover, verifier
from zkaudit.layers.shapes import UnsupportedLayer

_spec = importlib.util.spec_from_file_location("_clamp_helpers", pathlib.Path(__file__).with_name("test_clamp.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
discharge, forge, rejected, run_layer = _helpers.discharge, _helpers.forge, _helpers.rejected, _helpers.run_layer


def _node(m, s, axis=1, zi=0, zo=0, lo=-128, hi=127, name="rq"):
    return Node.make(name, "Requantize", ["x"], "y", axis=axis, in_zero_point=zi, multiplier=m, out_max=hi,
                     out_min=lo, out_zero_point=zo, shift=s)


def _run(node, x, xlo, xhi):
    y = kernels.requantize(x, **node.a)
    specs = {"x": TensorSpec("x", x.shape, xlo, xhi), "y": TensorSpec("y", x.shape, node.a["out_min"], node.a["out_max"])}
    return {"x": x, "y": y}, specs


def _ties(shape, s, m, rng):
    """Inputs whose product with m lands exactly halfway, of both signs (m odd -> x multiple of 2^(s-1))."""
    k = rng.integers(-20, 20, size=shape)
    return (2 * k + 1) * (1 << (s - 1))


CASES = {
    "per_tensor": (_node([1518500250], [38], zo=-3), (4, 8), -(2**20), 2**20),
    "per_channel": (_node([1073741824, 1518500250, 3, 1999999999], [31, 38, 1, 40], axis=1, zi=5, zo=2),
                    (3, 4), -(2**20), 2**20),
    "shift_zero": (_node([3], [0], zo=1), (2, 5), -40, 40),
    "relu_merged": (_node([1 << 30], [34], zo=-128, lo=-128, hi=127), (5, 3), -(2**24), 2**24),
    "wide_input": (_node([1518500250], [50], lo=-128, hi=127), (2, 8), -(2**31), 2**31 - 1),
    # shifts 41..50 on a 2^24 input range: a, b, h need per-channel companions (wide_mlp's fc1)
    "spread_shifts": (_node([1 << 30, 1800000000, 1 << 30, 1999999999], [41, 50, 45, 48], axis=1, zo=-3),
                      (2, 4), -(2**24), 2**24),
}


@pytest.mark.parametrize("case", list(CASES))
def test_honest_requantize_discharges(case):
    node, shape, xlo, xhi = CASES[case]
    rng = np.random.default_rng(7)
    x = rng.integers(xlo, xhi + 1, size=shape)
    x.flat[0], x.flat[-1] = xlo, xhi
    env, specs = _run(node, x, xlo, xhi)
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None
    assert {c.tensor for c in claims} >= {"x", "y"}


@pytest.mark.parametrize("s", [1, 2, 9])
def test_ties_of_both_signs_round_to_even(s):
    node = _node([1], [s], lo=-1000, hi=1000)
    rng = np.random.default_rng(s)
    x = _ties((4, 4), s, 1, rng)
    env, specs = _run(node, x, -(2**20), 2**20)
    q = env["y"]
    assert (q % 2 == 0).all() and (x < 0).any() and (x > 0).any()
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None


def test_spread_shifts_use_companions_and_bound_each_channel():
    node, shape, xlo, xhi = CASES["spread_shifts"]
    x = np.random.default_rng(1).integers(xlo, xhi + 1, size=shape)
    env, specs, system, values = _attack_setup(node, x, xlo, xhi)
    assert "SA" in system.public and "SA" not in verifier.requantize_system(PLAIN, specs).public
    # `above` at its channel's bound (inside the committed width, outside the channel's): the companion is out of range
    i = int(np.flatnonzero((np.arange(x.size) % 4) == 1)[0])  # channel 1, shift 50
    ka = next(q.bits for q in system.quantities if q.name == "rq/above")
    k1 = ka - (system.public["SA"].values[1]).bit_length() + 1
    vals = {k: np.array(v, dtype=object, copy=True) for k, v in values.items()}
    vals["rq/above"].flat[i] = 1 << k1
    vals.update(prover.companions(system, vals, "rq"))
    assert rejected(prover, verifier, node, specs, env, forge(system, vals, "y", env["y"])) == "LookupSumNonZero"


def test_unsupported_wide_ranges_are_refused():
    node = _node([(1 << 31) - 1], [1], lo=-(2**40), hi=2**40)
    specs = {"x": TensorSpec("x", (4,), -(2**62), 2**62), "y": TensorSpec("y", (4,), -(2**40), 2**40)}
    with pytest.raises(UnsupportedLayer):
        verifier.requantize_system(node, specs)


P = 2**64 - 2**32 + 1


def _attack_setup(node, x, xlo=-(2**20), xhi=2**20):
    env, specs = _run(node, x, xlo, xhi)
    system = verifier.requantize_system(node, specs)
    values = prover.requantize_values(node, system.shape, x)
    values.update(prover.companions(system, values, node.name))
    return env, specs, system, values


def _with_quotient(node, env, system, values, i, q_new, **overrides):
    """Element i claims quotient q_new; every quantity follows from it by the
    honest formulas (so only the rounding rule can fail), then `overrides`."""
    a = node.a
    zi, zo, lo, hi = a["in_zero_point"], a["out_zero_point"], a["out_min"], a["out_max"]
    axis, ms, ss = verifier.channels(node, len(system.shape))
    c = np.unravel_index(i, system.shape)[axis] if len(ms) > 1 else 0
    m, s = ms[c], ss[c]
    t = (int(env["x"].flat[i]) - zi) * m
    u = zo + q_new
    y_new = min(max(u, lo), hi)
    pi = q_new & 1
    g1 = t - (q_new << s) + (1 << (s - 1)) - pi
    new = {"y_minus_lo": y_new - lo, "hi_minus_y": hi - y_new, "above": max(u - hi, 0), "below": max(lo - u, 0),
           "half_q": q_new >> 1, "parity": pi, "rem_lo": g1, "rem_hi": (1 << s) - 2 * pi - g1}
    new.update(overrides)
    vals = {k: np.array(v, dtype=object, copy=True) for k, v in values.items()}
    for k, v in new.items():
        if k != "y":
            vals[f"{node.name}/{k}"].flat[i] = v
    vals.update({k: np.array(v, dtype=object) for k, v in prover.companions(system, vals, node.name).items()})
    y = env["y"].copy()
    y.flat[i] = overrides.get("y", y_new)
    if "y" in overrides:
        vals[f"{node.name}/y_minus_lo"].flat[i] = overrides["y"] - lo
        vals[f"{node.name}/hi_minus_y"].flat[i] = hi - overrides["y"]
    return forge(system, vals, node.output, y)


def _quotient(values, node, i):
    return 2 * int(values[f"{node.name}/half_q"].flat[i]) + int(values[f"{node.name}/parity"].flat[i])


PLAIN = _node([1518500250], [38], zo=-3, lo=-1000, hi=1000)


def test_forged_honest_advice_is_accepted():
    x = np.random.default_rng(0).integers(-(2**20), 2**20, size=(4, 4))
    env, specs, system, values = _attack_setup(PLAIN, x)
    advice = _with_quotient(PLAIN, env, system, values, 3, _quotient(values, PLAIN, 3))
    assert rejected(prover, verifier, PLAIN, specs, env, advice) is None


def test_remainder_out_of_range_is_rejected():
    x = np.random.default_rng(0).integers(-(2**20), 2**20, size=(4, 4))
    env, specs, system, values = _attack_setup(PLAIN, x)
    for d in (1, -1, 2):
        q = _quotient(values, PLAIN, 5) + d
        assert rejected(prover, verifier, PLAIN, specs, env,
                        _with_quotient(PLAIN, env, system, values, 5, q)) == "LookupSumNonZero"


@pytest.mark.parametrize("s", [1, 5])
def test_tie_rounded_the_wrong_way_is_rejected(s):
    node = _node([1], [s], lo=-1000, hi=1000)
    x = _ties((4, 4), s, 1, np.random.default_rng(2))
    env, specs, system, values = _attack_setup(node, x)
    for i in (int(np.flatnonzero(x.ravel() > 0)[0]), int(np.flatnonzero(x.ravel() < 0)[0])):
        q = _quotient(values, node, i)
        for q_bad in (q + 1, q - 1):  # the other neighbour of a tie: odd
            assert rejected(prover, verifier, node, specs, env,
                            _with_quotient(node, env, system, values, i, q_bad)) == "LookupSumNonZero"
        # the odd neighbour with a lying parity bit: the half-quotient is not an integer
        q_bad = q + 1
        half = q_bad * pow(2, -1, P) % P
        advice = _with_quotient(node, env, system, values, i, q_bad, parity=0, half_q=half,
                                rem_lo=int(values[f"{node.name}/rem_lo"].flat[i]) - (1 << s),
                                rem_hi=int(values[f"{node.name}/rem_hi"].flat[i]) + (1 << s))
        assert rejected(prover, verifier, node, specs, env, advice) == "LookupSumNonZero"


def test_parity_not_a_bit_is_rejected():
    """pi = parity + 2 with h one less keeps q = 2h + pi and the remainder pair
    in range: only pi (pi - 1) = 0 fails."""
    x = np.random.default_rng(0).integers(-(2**20), 2**20, size=(4, 4))
    env, specs, system, values = _attack_setup(PLAIN, x)
    i = 7
    q = _quotient(values, PLAIN, i)
    pi, g1, g2 = (int(values[f"rq/{k}"].flat[i]) for k in ("parity", "rem_lo", "rem_hi"))
    advice = _with_quotient(PLAIN, env, system, values, i, q, parity=pi + 2, half_q=(q >> 1) - 1,
                            rem_lo=g1 - 2, rem_hi=g2 - 2)
    assert rejected(prover, verifier, PLAIN, specs, env, advice) == "RoundSumMismatch"

def test_saturation_lie_is_rejected():
    node = _node([1 << 30], [30], lo=-128, hi=127)
    x = np.arange(-300, 300, 40).reshape(3, 5)
    env, specs, system, values = _attack_setup(node, x, -300, 300)
    i = int(np.flatnonzero(x.ravel() > 200)[0])
    above = int(values["rq/above"].flat[i])
    q = _quotient(values, node, i)
    # a and b swapped
    advice = _with_quotient(node, env, system, values, i, q, above=0, below=above)
    assert rejected(prover, verifier, node, specs, env, advice) == "RoundSumMismatch"
    # claims the value is not saturated but hi - 1 with a = above + 1
    advice = _with_quotient(node, env, system, values, i, q, y=126, above=above + 1)
    assert rejected(prover, verifier, node, specs, env, advice) == "RoundSumMismatch"


def test_output_off_by_one_is_rejected():
    x = np.random.default_rng(0).integers(-(2**20), 2**20, size=(4, 4))
    env, specs, system, values = _attack_setup(PLAIN, x)
    q = _quotient(values, PLAIN, 6)
    assert rejected(prover, verifier, PLAIN, specs, env,
                    _with_quotient(PLAIN, env, system, values, 6, q, y=int(env["y"].flat[6]) + 1)) == "RoundSumMismatch"
    # the remainder pair moved by one inside its range: the rounding relation fails
    g1, g2 = int(values["rq/rem_lo"].flat[6]), int(values["rq/rem_hi"].flat[6])
    assert rejected(prover, verifier, PLAIN, specs, env,
                    _with_quotient(PLAIN, env, system, values, 6, q, rem_lo=g1 + 1, rem_hi=g2 - 1)) == "RoundSumMismatch"


def test_per_channel_wrong_channel_multiplier_is_rejected():
    node = CASES["per_channel"][0]
    x = np.random.default_rng(4).integers(-(2**20), 2**20, size=(3, 4))
    env, specs, system, values = _attack_setup(node, x)
    # element in channel 1 answered with channel 0's multiplier and shift
    i = 1
    q_bad = int(np.asarray(kernels.requantize(np.array([[x.flat[i]]]), axis=1, in_zero_point=5,
                                              multiplier=[1073741824], out_max=127, out_min=-128,
                                              out_zero_point=0, shift=[31])).flat[0])
    if q_bad == _quotient(values, node, i):
        pytest.skip("same quotient under both channels")
    assert rejected(prover, verifier, node, specs, env, _with_quotient(node, env, system, values, i, q_bad)) == "LookupSumNonZero"


# ---------------------------------------------------------------- end to end through statements/inference

def _mlp(per_channel: bool, table: bool, relu: bool = False):
    from zkaudit.circuit import Circuit

    rng = np.random.default_rng(11)
    acc = (-(2**19), 2**19)
    x = TensorSpec("x", (1, 8), -128, 127, 0.1, 3)
    w1, w2 = TensorSpec("w1", (8, 16), -127, 127), TensorSpec("w2", (16, 4), -127, 127)
    specs = [TensorSpec("h1", (1, 16), *acc), TensorSpec("r1", (1, 16), -128, 127)]
    m1 = [int(v) for v in rng.integers(1 << 29, 1 << 31, 16)] if per_channel else [1518500250]
    s1 = [int(v) for v in rng.integers(36, 42, 16)] if per_channel else [39]
    nodes = [Node.make("mm1", "MatMul", ["x", "w1"], "h1", a_zero_point=3, b_zero_point=0),
             Node.make("rq1", "Requantize", ["h1"], "r1", axis=1, in_zero_point=0, multiplier=m1, out_max=127,
                       out_min=-5 if relu else -128, out_zero_point=-5, shift=s1)]
    mid = "r1"
    if table:
        values = [int(v) for v in np.round(127 * np.tanh(np.arange(-128, 128) / 32.0))]
        specs.append(TensorSpec("t1", (1, 16), -127, 127))
        nodes.append(Node.make("tab", "Table", ["r1"], "t1", function="tanh", in_min=-128, values=values))
        mid = "t1"
    if relu:
        specs.append(TensorSpec("c1", (1, 16), -5, 100))
        nodes.append(Node.make("clip", "Clip", [mid], "c1", lo=-5, hi=100))
        mid = "c1"
    specs += [TensorSpec("h2", (1, 4), *acc), TensorSpec("y", (1, 4), -128, 127)]
    nodes += [Node.make("mm2", "MatMul", [mid, "w2"], "h2", a_zero_point=-5, b_zero_point=0),
              Node.make("rq2", "Requantize", ["h2"], "y", axis=1, in_zero_point=0, multiplier=[1 << 30],
                        out_max=127, out_min=-128, out_zero_point=0, shift=[38])]
    circuit = with_inferred_specs(Circuit("rq-mlp", (x,), (specs[-1],), (w1, w2), tuple(nodes), tuple(specs)))
    from zkaudit.circuit.weights import Weights

    weights = Weights({"w1": rng.integers(-127, 128, (8, 16)), "w2": rng.integers(-127, 128, (16, 4))})
    return circuit, weights, rng.integers(-128, 128, (1, 8))


E2E = {"per_tensor": (False, False, False), "per_channel": (True, False, False),
       "table": (True, True, False), "clip": (False, True, True)}


@pytest.fixture(scope="module", params=list(E2E))
def e2e(request):
    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.inference.prover import commit_weights, prove

    circuit, weights, x = _mlp(*E2E[request.param])
    commitment = commit_weights(circuit, weights)[0].to_bytes()
    return circuit, weights, x, encode_circuit(circuit), commitment, prove(circuit, weights, {"x": x})


def test_end_to_end_proof_verifies_with_the_reference_output(e2e):
    from zkaudit.statements.verify import verify_proof

    circuit, weights, x, circuit_bin, commitment, proof = e2e
    verdict = verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment)
    assert verdict.valid, verdict.reason
    assert verdict.output == {k: v.tolist() for k, v in circuit.execute(weights, {"x": x}).items()}


def _verify(e2e, proof):
    from zkaudit.statements.verify import verify_proof

    _, _, _, circuit_bin, commitment, _ = e2e
    return verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment)


def test_end_to_end_wrong_output_is_rejected(e2e):
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.inference.proof import STATEMENT, InferenceBody

    circuit, _, _, _, _, proof = e2e
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    outputs = {k: v.copy() for k, v in body.outputs.items()}
    outputs["y"].flat[1] += 1 if outputs["y"].flat[1] < 127 else -1
    forged = InferenceBody(body.inputs, outputs, body.advice_commitment, body.layers, body.weight_opening,
                           body.advice_opening)
    verdict = _verify(e2e, encode_envelope(STATEMENT, forged.to_bytes(circuit)))
    assert not verdict.valid


def test_end_to_end_lying_requantize_advice_is_rejected(e2e, monkeypatch):
    """The prover answers rq1 off by one at one element (its quotient moved,
    every other quantity by the honest formulas) and runs the rest of the
    circuit on that lie, so every other layer is consistent: the rounding
    check of rq1 (its lookup) rejects."""
    from zkaudit.circuit import Circuit
    from zkaudit.layers import dispatch_prover
    from zkaudit.statements.inference.prover import prove

    circuit, weights, x, *_ = e2e
    honest_advice, honest_execute = dispatch_prover.ADVICE["Requantize"], Circuit.execute
    rq1 = next(n for n in circuit.nodes if n.name == "rq1")
    specs = circuit.specs()
    system = verifier.requantize_system(rq1, specs)

    def lie(env):
        values = prover.requantize_values(rq1, system.shape, env["h1"])
        fake_env = {"x": env["h1"], "y": env["r1"]}
        return _with_quotient(rq1, fake_env, system, values, 2, _quotient(values, rq1, 2) + 1)

    def lying_execute(self, weights, inputs, *, return_all=False):
        env = honest_execute(self, weights, inputs, return_all=True)
        env["r1"] = lie(env)["r1"]
        after = False
        for node in self.nodes:
            if after:
                env[node.output] = kernels.KERNELS[node.op](*[env[i] for i in node.inputs], **node.a)
            after = after or node.name == "rq1"
        return env

    def lying_advice(node, specs, env):
        return lie(env) if node.name == "rq1" else honest_advice(node, specs, env)

    monkeypatch.setattr(Circuit, "execute", lying_execute)
    monkeypatch.setitem(dispatch_prover.ADVICE, "Requantize", lying_advice)
    proof = prove(circuit, weights, {"x": x})
    monkeypatch.undo()
    verdict = _verify(e2e, proof)
    assert not verdict.valid and "lookup" in verdict.reason and "LogUp" in verdict.reason, verdict.reason


def test_tampered_requantize_proof_bytes_are_rejected():
    from zkaudit.errors import ProofRejected
    from zkaudit.layers.stream import ProofReader
    from zkaudit.layers.tensor import embed
    from zkaudit.transcript import Transcript

    def t():
        tr = Transcript()
        tr.absorb_statement("clamp-test", 1)
        return tr

    node, shape, xlo, xhi = CASES["per_channel"]
    x = np.random.default_rng(3).integers(xlo, xhi + 1, size=shape)
    env, specs = _run(node, x, xlo, xhi)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **prover._advice(node, specs, env)}.items()}
    out: list[bytes] = []
    prover._handler(node, specs, None, tables, t(), out)
    blob = b"".join(out)
    for pos in np.random.default_rng(9).integers(0, len(blob), 16):
        bad = bytearray(blob)
        bad[pos] ^= 0x40
        reader = ProofReader(bytes(bad))
        with pytest.raises(ProofRejected):
            verifier._handler(node, specs, None, reader, t())
            reader.finish()
    with pytest.raises(ProofRejected):  # truncated
        verifier._handler(node, specs, None, ProofReader(blob[:-1]), t())


def test_small_shift_wide_quotient_per_tensor_is_accepted():
    """A per-tensor layer whose quotient is wide (small shift) needs no companions."""
    node = _node([(1 << 30) + 1], [3], lo=-128, hi=127)
    x = np.random.default_rng(5).integers(-(2**20), 2**20, size=(2, 4))
    env, specs = _run(node, x, -(2**20), 2**20)
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=12, deadline=None)
@given(st.data())
def test_random_layers_prove_exactly_the_executor(data):
    """Random multipliers, shifts (0..62, per tensor or per channel), zero
    points and clip ranges: the honest proof verifies and every claim
    discharges against the executor's tensors."""
    channels_ = data.draw(st.sampled_from([1, 3]))
    ms = data.draw(st.lists(st.integers(1, (1 << 31) - 1), min_size=channels_, max_size=channels_))
    ss = data.draw(st.lists(st.integers(0, 62), min_size=channels_, max_size=channels_))
    zi, zo = data.draw(st.integers(-100, 100)), data.draw(st.integers(-100, 100))
    lo = data.draw(st.integers(-300, 100))
    hi = data.draw(st.integers(lo, lo + 400))
    bound = data.draw(st.sampled_from([1 << 8, 1 << 20, (1 << 31) - 1]))
    node = _node(ms, ss, axis=1, zi=zi, zo=zo, lo=lo, hi=hi)
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    x = rng.integers(-bound, bound + 1, size=(2, 3))
    x.flat[0] = -bound
    env, specs = _run(node, x, -bound, bound)
    try:
        verifier.requantize_system(node, specs)
    except UnsupportedLayer:
        return  # refused up front (ranges too wide to rule out wrap-around), never a wrong proof
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None

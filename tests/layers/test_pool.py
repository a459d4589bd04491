"""MaxPool (window maximum): honest reductions with every claim discharged,
an end-to-end inference proof, and the attack catalogue (a non-maximum, a
selector that is not one-hot, a wrong output, tampered bytes)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from zkaudit.circuit.infer import with_inferred_specs
from zkaudit.circuit import Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit import kernels as ir
from zkaudit.circuit.weights import Weights
from zkaudit.errors import ProofRejected
from zkaudit.field import Fp, Fp2
from zkaudit.layers.pool import prover, verifier
from zkaudit.layers.pool.proof import WindowMaxProof
from zkaudit.layers.tensor import embed
from zkaudit.lookup import LookupSumNonZero
from zkaudit.sumcheck.errors import RoundSumMismatch
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof
from zkaudit.transcript import Transcript


def _t():
    t = Transcript()
    t.absorb_statement("pool-test", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def discharge(claims, tables):
    for c in claims:
        got = _ext(evaluate(tables[c.tensor], c.point))
        assert got == c.value, c.tensor


def _node(attrs, name="mp"):
    return Node.make(name, "MaxPool", ["x"], "y", **attrs)


CASES = [  # (input shape, attrs, range)
    ((1, 2, 4, 4), dict(dilations=(1, 1), kernel_shape=(2, 2), pads=(0, 0, 0, 0), strides=(2, 2)), (-128, 127)),
    ((1, 1, 5, 5), dict(dilations=(1, 1), kernel_shape=(3, 3), pads=(1, 1, 1, 1), strides=(2, 2)), (-128, 127)),
    ((2, 3, 6, 5), dict(dilations=(2, 1), kernel_shape=(2, 3), pads=(0, 1, 1, 0), strides=(1, 2)), (0, 127)),
    ((1, 1, 3, 3), dict(dilations=(1, 1), kernel_shape=(3, 3), pads=(0, 0, 0, 0), strides=(1, 1)), (-(2**20), 2**20)),
]


def _setup(shape, attrs, rng_range, *, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    lo, hi = rng_range
    x = rng.integers(lo, hi + 1, size=shape)
    if ties:
        x = x // 64 * 64  # many equal maxima
        x = np.clip(x, lo, hi)
    y = ir.maxpool(x, **attrs)
    specs = {"x": TensorSpec("x", shape, lo, hi), "y": TensorSpec("y", y.shape, lo, hi)}
    node = _node(attrs)
    return node, specs, {"x": x, "y": y}


def _run(node, specs, env, advice=None):
    advice = prover.maxpool_advice(node, specs, env) if advice is None else advice
    tables = {"x": embed(env["x"]), **{k: embed(v) for k, v in advice.items()}}
    windows, bits, names = verifier.maxpool_setup(node, specs)
    proof, pclaims = prover.prove_max(windows, bits, names, tables, _t())
    proof2, _ = WindowMaxProof.read(proof.to_bytes(), 0)
    claims = verifier.verify_max(windows, bits, names, proof2, _t())
    assert claims == pclaims
    return claims, tables


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("ties", [False, True])
def test_honest_reduction_discharges(case, ties):
    node, specs, env = _setup(*CASES[case], ties=ties)
    claims, tables = _run(node, specs, env)
    assert {c.tensor for c in claims} >= {"x", "y", "mp/select"}
    discharge(claims, tables)
    shapes = verifier.maxpool_advice_shapes(node, specs)
    advice = prover.maxpool_advice(node, specs, env)
    assert set(shapes) == set(advice) and all(tuple(advice[k].shape) == shapes[k] for k in shapes)


def test_padding_never_wins():
    attrs = dict(dilations=(1, 1), kernel_shape=(3, 3), pads=(1, 1, 1, 1), strides=(1, 1))
    x = -np.arange(1, 17).reshape(1, 1, 4, 4) * 5  # all negative: a zero pad would win
    y = ir.maxpool(x, **attrs)
    specs = {"x": TensorSpec("x", x.shape, -128, 127), "y": TensorSpec("y", y.shape, -128, 127)}
    claims, tables = _run(_node(attrs), specs, {"x": x, "y": y})
    discharge(claims, tables)


# -- attacks: a malicious prover builds its own advice -------------------------

def _forged_advice(windows, bits, names, x_t, y_t, select):
    """A cheater's advice: its selector, and multiplicities of the differences
    wrapped into [0, 2^b) (the best it can do when some difference is negative)."""
    d = prover.differences(windows, x_t, y_t)
    col = np.mod(d, 1 << bits)
    return {names.select: np.asarray(select, dtype=np.int64),
            names.mults[0]: np.bincount(col, minlength=1 << bits)}


def _attack(node, specs, env, y_bad, select):
    """Prove with output y_bad (committed as advice) and the given selector."""
    windows, bits, names = verifier.maxpool_setup(node, specs)
    x_t, y_t = embed(env["x"]), embed(y_bad)
    advice = _forged_advice(windows, bits, names, x_t, y_t, select)
    tables = {"x": x_t, "y": y_t, **{k: embed(v) for k, v in advice.items()}}
    proof, _ = prover.prove_max(windows, bits, names, tables, _t())
    return verifier.verify_max(windows, bits, names, proof, _t()), tables


def _small():
    return _setup((1, 1, 4, 4), dict(dilations=(1, 1), kernel_shape=(2, 2), pads=(0, 0, 0, 0), strides=(2, 2)),
                  (-128, 127), seed=3)


def test_attack_non_maximum_rejected():
    """Y picks the second largest element: its difference to the max is negative."""
    node, specs, env = _small()
    windows, _, _ = verifier.maxpool_setup(node, specs)
    x = env["x"]
    y_bad = env["y"].copy()
    win = np.sort(x[0, 0, :2, :2].ravel())
    y_bad[0, 0, 0, 0] = win[-2]
    select = prover.max_advice(windows, 8, verifier.maxpool_setup(node, specs)[2], embed(x), embed(env["y"]))[
        "mp/select"].copy()
    # point the selector at the element that equals y_bad
    kp = 1 << windows.slot_vars
    pos = [k for k in range(4) if x[0, 0, k // 2, k % 2] == win[-2]][0]
    select[0:kp] = 0
    select[pos] = 1
    with pytest.raises(LookupSumNonZero):  # Y - max < 0 wraps outside [0, 2^8)
        _attack(node, specs, env, y_bad, select)


def test_attack_output_above_every_element_rejected():
    """Y larger than the max: all differences in range, but no selected slot has D = 0."""
    node, specs, env = _small()
    windows, bits, names = verifier.maxpool_setup(node, specs)
    select = prover.max_advice(windows, bits, names, embed(env["x"]), embed(env["y"]))["mp/select"]
    y_bad = env["y"].copy()
    y_bad[0, 0, 1, 1] += 1
    with pytest.raises(RoundSumMismatch):  # sum_k s D = 1, not 0
        _attack(node, specs, env, y_bad, select)


def test_attack_selector_not_one_hot_rejected():
    """Two slots selected (both honest maxima would need equal values; here one is not)."""
    node, specs, env = _small()
    windows, bits, names = verifier.maxpool_setup(node, specs)
    select = prover.max_advice(windows, bits, names, embed(env["x"]), embed(env["y"]))["mp/select"].copy()
    select[:4] = 0
    select[0] = 2  # not Boolean; sum_k M s = 2
    with pytest.raises(RoundSumMismatch):
        _attack(node, specs, env, env["y"], select)
    select[:4] = 0
    with pytest.raises(RoundSumMismatch):  # no slot selected
        _attack(node, specs, env, env["y"], select)


def test_attack_selector_on_masked_slot_rejected():
    """The selector points at a padding slot (k >= K, where D = 0 always)."""
    node, specs, env = _setup((1, 1, 3, 3), dict(dilations=(1, 1), kernel_shape=(3, 1), pads=(0, 0, 0, 0),
                                                 strides=(1, 1)), (-128, 127))
    windows, bits, names = verifier.maxpool_setup(node, specs)
    assert windows.window == 3  # slot 3 of 4 is masked
    select = prover.max_advice(windows, bits, names, embed(env["x"]), embed(env["y"]))["mp/select"].copy()
    y_bad = env["y"].copy()
    y_bad[0, 0, 0, 0] += 1
    select[:4] = [0, 0, 0, 1]
    with pytest.raises(RoundSumMismatch):  # sum_k M s = 0 at that output
        _attack(node, specs, env, y_bad, select)


def test_attack_junk_on_output_padding_rejected():
    """Y's padded cells (here the 3x3 output padded to 4x4) must be 0: a cheater
    committing junk there is caught (the padded cell's window is {0})."""
    node, specs, env = _setup((1, 1, 5, 5), dict(dilations=(1, 1), kernel_shape=(3, 3), pads=(1, 1, 1, 1),
                                                 strides=(2, 2)), (-128, 127))
    windows, bits, names = verifier.maxpool_setup(node, specs)
    x_t, y_t = embed(env["x"]), embed(env["y"]).copy()
    pad_cell = 3  # row 0, column 3 of the padded 4x4 output
    y_t[pad_cell] = 5
    d = prover.differences(windows, x_t, y_t)
    kp = 1 << windows.slot_vars
    select = prover.max_advice(windows, bits, names, x_t, embed(env["y"]))[names.select]
    advice = {names.select: select, names.mults[0]: np.bincount(np.mod(d, 1 << bits), minlength=1 << bits)}
    assert d[pad_cell * kp] == 5
    tables = {"x": x_t, "y": y_t, **{k: embed(v) for k, v in advice.items()}}
    proof, _ = prover.prove_max(windows, bits, names, tables, _t())
    with pytest.raises(RoundSumMismatch):  # the selected zero slot has D = 5
        verifier.verify_max(windows, bits, names, proof, _t())


def test_tampered_proof_bytes_rejected():
    node, specs, env = _small()
    advice = prover.maxpool_advice(node, specs, env)
    tables = {"x": embed(env["x"]), **{k: embed(v) for k, v in advice.items()}}
    windows, bits, names = verifier.maxpool_setup(node, specs)
    proof, _ = prover.prove_max(windows, bits, names, tables, _t())
    raw = proof.to_bytes()
    rng = np.random.default_rng(1)
    for pos in rng.choice(len(raw), 25, replace=False):
        bad = bytearray(raw)
        bad[pos] ^= 0x5A
        with pytest.raises(ProofRejected):
            p2, end = WindowMaxProof.read(bytes(bad), 0)
            if end != len(bad):
                raise ProofRejected("trailing")
            claims = verifier.verify_max(windows, bits, names, p2, _t())
            discharge(claims, tables)


# -- end to end ----------------------------------------------------------------

def _circuit():
    x = TensorSpec("x", (1, 2, 4, 4), -128, 127)
    w = TensorSpec("w", (2, 3), -127, 127)
    y = TensorSpec("y", (1, 2, 2, 2), -128, 127)
    f = TensorSpec("f", (1, 8), -128, 127)
    f2 = TensorSpec("f2", (4, 2), -128, 127)
    nodes = (
        Node.make("mp", "MaxPool", ["x"], "y", dilations=(1, 1), kernel_shape=(2, 2), pads=(0, 0, 0, 0),
                  strides=(2, 2)),
        Node.make("rs", "Reshape", ["y"], "f", shape=(1, 8)),
        Node.make("rs2", "Reshape", ["f"], "f2", shape=(4, 2)),
        Node.make("mm", "MatMul", ["f2", "w"], "z4", a_zero_point=0, b_zero_point=0),
    )
    z4 = TensorSpec("z4", (4, 3), -(2**31), 2**31 - 1)
    return with_inferred_specs(Circuit("maxpool-e2e", (x,), (z4,), (w,), nodes, (y, f, f2, z4)))


@pytest.fixture(scope="module")
def e2e():
    circuit = _circuit()
    rng = np.random.default_rng(0)
    weights = Weights({"w": rng.integers(-127, 128, (2, 3))})
    commitment, _ = commit_weights(circuit, weights)
    x = rng.integers(-128, 128, (1, 2, 4, 4))
    return circuit, weights, commitment.to_bytes(), x, prove(circuit, weights, {"x": x})


def _verify(circuit, commitment, proof):
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=commitment)


def test_end_to_end_maxpool(e2e):
    circuit, weights, commitment, x, proof = e2e
    verdict = _verify(circuit, commitment, proof)
    assert verdict.valid, verdict.reason
    ref = circuit.execute(weights, {"x": x})
    assert verdict.output == {k: v.tolist() for k, v in ref.items()}


def test_end_to_end_maxpool_non_maximum_rejected(e2e, monkeypatch):
    """A prover that commits a pooled value that is not the window's maximum."""
    circuit, weights, commitment, x, _ = e2e
    from zkaudit.layers import dispatch_prover

    def lying(node, specs, env):
        windows, bits, names = verifier.maxpool_setup(node, specs)
        y = env[node.output].copy()
        y[0, 0, 0, 0] = np.sort(env["x"][0, 0, :2, :2].ravel())[-2]
        x_t, y_t = embed(env["x"]), embed(y)
        d = prover.differences(windows, x_t, y_t)
        hit = ((d == 0) & windows.mask).reshape(-1, 1 << windows.slot_vars)
        one = np.zeros_like(hit, dtype=np.int64)
        one[np.arange(hit.shape[0]), hit.argmax(axis=1)] = hit.any(axis=1)
        return {node.output: y, **_forged_advice(windows, bits, names, x_t, y_t, one.ravel())}

    monkeypatch.setitem(dispatch_prover.ADVICE, "MaxPool", lying)
    verdict = _verify(circuit, commitment, prove(circuit, weights, {"x": x}))
    assert not verdict.valid and "LogUp" in verdict.reason


# -- AveragePool ------------------------------------------------------------------

from zkaudit.field import vec  # noqa: E402
from zkaudit.layers.pool import average, average_prover  # noqa: E402
from zkaudit.layers.tensor import padded_shape  # noqa: E402

AVG_CASES = [  # (input shape, attrs, x range)
    ((1, 2, 4, 4), dict(count_include_pad=0, kernel_shape=(2, 2), pads=(0, 0, 0, 0), strides=(2, 2), zero_point=0)),
    ((1, 1, 5, 5), dict(count_include_pad=1, kernel_shape=(3, 3), pads=(1, 1, 1, 1), strides=(2, 2), zero_point=-3)),
    ((1, 2, 5, 6), dict(count_include_pad=0, kernel_shape=(3, 2), pads=(1, 0, 1, 1), strides=(1, 2), zero_point=5)),
    ((1, 3, 5, 5), dict(count_include_pad=0, kernel_shape=(5, 5), pads=(0, 0, 0, 0), strides=(1, 1), zero_point=2)),
    ((2, 1, 3, 6), dict(count_include_pad=0, kernel_shape=(1, 2), pads=(0, 0, 0, 0), strides=(1, 2), zero_point=1)),
]


def _avg_setup(shape, attrs, seed=0):
    x = np.random.default_rng(seed).integers(-128, 128, size=shape)
    y = ir.averagepool(x, **attrs)
    node = Node.make("ap", "AveragePool", ["x"], "y", **attrs)
    specs = {"x": TensorSpec("x", shape, -128, 127), "y": TensorSpec("y", y.shape, -140, 140)}
    return node, specs, x, y


def _avg_run(node, specs, x, advice):
    st = average.setup(node, specs)
    tables = {"x": embed(x), **{k: embed(v) for k, v in advice.items()}}
    proof, pclaims = average_prover.prove(st, tables, _t())
    parsed, end = average.AveragePoolProof.read(proof.to_bytes(), 0)
    assert end == len(proof.to_bytes())
    claims = average.verify(st, parsed, _t())
    assert claims == pclaims
    return claims, tables


@pytest.mark.parametrize("case", range(len(AVG_CASES)))
def test_average_honest_reduction_discharges(case):
    node, specs, x, y = _avg_setup(*AVG_CASES[case])
    advice = average_prover.average_advice(node, specs, {"x": x, "y": y})
    claims, tables = _avg_run(node, specs, x, advice)
    discharge(claims, tables)
    shapes = average.advice_shapes(node, specs)
    assert set(shapes) == set(advice) and all(tuple(np.shape(advice[k])) == shapes[k] for k in shapes)


def test_average_ties_are_exercised():
    node, specs, x, y = _avg_setup(*AVG_CASES[4])
    s = x.reshape(2, 1, 3, 3, 2).sum(axis=-1) - 2
    assert np.any(s % 2 == 1)  # sums of two: odd ones are exact halves


def _avg_forge(node, specs, x, y_bad, rem_delta=None):
    st = average.setup(node, specs)
    w = average_prover.witness(st, y_bad)
    # the cheater's remainder satisfies the division identity with its q
    s = average_prover.window_sums(st, embed(x))
    q = vec.to_signed(embed(y_bad - st.zp))
    r = (2 * s + st.c - 2 * st.c * q).reshape(padded_shape(y_bad.shape))[tuple(slice(0, d) for d in y_bad.shape)]
    out = {st.y: y_bad, st.advice("rem"): r, st.advice("half"): w["half"], st.advice("par"): w["par"]}
    tables = {k: embed(v) for k, v in out.items()}
    multi = st.multi
    widths = multi.range_widths
    mults = [np.zeros(1 << w, dtype=np.int64) for w in widths]
    for j, col in enumerate(average_prover.range_columns(st, tables)):
        if multi.limb_names(j):  # the quotient's column stays in range: honest limbs
            for name, (limb,), w in zip(multi.limb_names(j), multi.decompose(j, col), multi.widths(j)):
                out[name] = limb.astype(np.int64)
                mults[widths.index(w)] += np.bincount(limb.astype(np.int64), minlength=1 << w)
            continue
        w = multi.widths(j)[0]
        vals = col % np.uint64(1 << w)  # wrapped: the best a cheater can do
        mults[widths.index(w)] += np.bincount(vals.astype(np.int64), minlength=1 << w)
    out.update(dict(zip(multi.mult_names(), mults)))
    tables = {"x": embed(x), **{k: embed(v) for k, v in out.items()}}
    proof, _ = average_prover.prove(st, tables, _t())
    return st, proof, tables


def test_average_output_off_by_one_rejected():
    """Y + 1 with the remainder that satisfies 2S + c = 2cq + r: r < 0."""
    node, specs, x, y = _avg_setup(*AVG_CASES[0])
    y_bad = y.copy()
    y_bad[0, 0, 0, 0] += 1
    st, proof, _ = _avg_forge(node, specs, x, y_bad)
    with pytest.raises(LookupSumNonZero):
        average.verify(st, proof, _t())


def test_average_tie_rounded_odd_rejected():
    node, specs, x, y = _avg_setup(*AVG_CASES[4])
    st = average.setup(node, specs)
    s = (x.reshape(2, 1, 3, 3, 2).sum(axis=-1) - 2)  # S = sum(x - zp), c = 2
    idx = tuple(np.argwhere(s % 2 == 1)[0])
    t = s[idx] // 2  # S / 2 = t + 1/2: neighbours t and t + 1, the executor took the even one
    q = y[idx] - st.zp
    other = t if q == t + 1 else t + 1
    assert q % 2 == 0 and other % 2 == 1
    y_bad = y.copy()
    y_bad[idx] = other + st.zp
    st, proof, _ = _avg_forge(node, specs, x, y_bad)
    with pytest.raises(LookupSumNonZero):  # r = 0 or 2c with par = 1
        average.verify(st, proof, _t())


def test_average_wrong_output_with_honest_remainder_rejected():
    node, specs, x, y = _avg_setup(*AVG_CASES[1])
    st = average.setup(node, specs)
    advice = average_prover.average_advice(node, specs, {"x": x, "y": y})
    advice[st.y] = advice[st.y].copy()
    advice[st.y][0, 0, 1, 1] += 2  # parity kept, half/par not updated
    with pytest.raises(RoundSumMismatch):
        tables = {"x": embed(x), **{k: embed(v) for k, v in advice.items()}}
        proof, _ = average_prover.prove(st, tables, _t())
        average.verify(st, proof, _t())


def test_average_end_to_end():
    x_spec = TensorSpec("x", (1, 2, 4, 4), -64, 63)
    b_spec = TensorSpec("b", (1, 2, 4, 4), -64, 63)
    h_spec = TensorSpec("h", (1, 2, 4, 4), -128, 126)
    attrs = dict(count_include_pad=0, kernel_shape=(4, 4), pads=(0, 0, 0, 0), strides=(1, 1), zero_point=3)
    y_spec = TensorSpec("y", (1, 2, 1, 1), -128, 127)
    nodes = (Node.make("add", "Add", ["x", "b"], "h", a_zero_point=0, b_zero_point=0),
             Node.make("gap", "AveragePool", ["h"], "y", **attrs))
    circuit = with_inferred_specs(Circuit("gap-e2e", (x_spec,), (y_spec,), (b_spec,), nodes, (h_spec, y_spec)))
    rng = np.random.default_rng(0)
    weights = Weights({"b": rng.integers(-64, 64, (1, 2, 4, 4))})
    commitment, _ = commit_weights(circuit, weights)
    x = rng.integers(-64, 64, (1, 2, 4, 4))
    verdict = _verify(circuit, commitment.to_bytes(), prove(circuit, weights, {"x": x}))
    assert verdict.valid, verdict.reason
    assert verdict.output == {k: v.tolist() for k, v in circuit.execute(weights, {"x": x}).items()}


@settings(max_examples=25, deadline=None)
@given(hst.data())
def test_end_to_end_maxpool_any_single_byte_change_rejected(e2e, data):
    circuit, _, commitment, _, proof = e2e
    pos = data.draw(hst.integers(0, len(proof) - 1))
    raw = bytearray(proof)
    raw[pos] = (raw[pos] + data.draw(hst.integers(1, 255))) % 256
    assert not _verify(circuit, commitment, bytes(raw)).valid

"""PointerWalk: D pointer steps through a successor table S (R, 1) from T
start indices, one lookup of all T * D steps. The executor equals a naive
walk; honest runs discharge against the real tensors (several shapes, one
step, one start, one row); every lie a prover can tell is rejected, by the
verifier or by the claims it leaves on the committed tensors (the attack
catalogue below). End to end, a walk proves and verifies plain and
zero-knowledge, a wrong output is rejected, batches are refused."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.circuit.errors import CircuitError, InvalidCircuit
from zkaudit.errors import ProofRejected
from zkaudit.layers.pointer_walk import prover, verifier
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import embed

_spec = importlib.util.spec_from_file_location("_advice_harness",
                                               pathlib.Path(__file__).with_name("advice_layer_harness.py"))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)
_t, discharge = _harness._t, _harness.discharge


def _node(steps):
    return Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=steps)


def naive_walk(succ, start, steps):
    """The semantics, one index at a time."""
    out = []
    for p in start:
        p = int(p)
        for _ in range(steps):
            if not 0 <= p < len(succ):
                raise ValueError("outside")
            p = int(succ[p][0])
        out.append(p)
    return out


def _case(rows, count, steps, seed=0):
    """A successor table of `rows` rows (every entry a row), `count` start indices."""
    rng = np.random.default_rng(seed)
    succ = rng.integers(0, rows, (rows, 1))
    start = rng.integers(0, rows, count)
    specs = {"S": TensorSpec("S", (rows, 1), 0, rows - 1), "P": TensorSpec("P", (count,), 0, rows - 1),
             "Y": TensorSpec("Y", (count,), 0, rows - 1)}
    env = {"S": succ, "P": start, "Y": kernels.pointer_walk(succ, start, steps=steps)}
    return specs, env


def _run(steps, specs, env, advice=None, tamper=None, verify_steps=None):
    return _harness.run(prover, verifier, _node(steps), specs, env, advice, tamper,
                        verify_node=_node(verify_steps) if verify_steps else None)


def _rejected(steps, specs, env, advice=None, tamper=None):
    return _harness.rejected(prover, verifier, _node(steps), specs, env, advice, tamper)


@pytest.mark.parametrize("rows,count,steps", [(37, 5, 6), (16, 8, 4), (1, 1, 1), (9, 3, 1), (5, 12, 3),
                                              (100, 7, 9), (3, 1, 17)])
def test_honest_walk_discharges(rows, count, steps):
    specs, env = _case(rows, count, steps, seed=rows * 31 + count + steps)
    claims, tables = _run(steps, specs, env)
    assert not isinstance(claims, str), claims
    assert discharge(claims, tables) is None
    assert {c.tensor for c in claims} == {"S", "P", "Y", "w/levels", "w/mult"}


@pytest.mark.parametrize("seed", range(6))
def test_the_executor_equals_the_naive_walk(seed):
    rng = np.random.default_rng(seed)
    rows, count, steps = int(rng.integers(1, 40)), int(rng.integers(1, 9)), int(rng.integers(1, 12))
    succ, start = rng.integers(0, rows, (rows, 1)), rng.integers(0, rows, count)
    got = kernels.pointer_walk(succ, start, steps=steps)
    assert got.tolist() == naive_walk(succ, start, steps)
    levels = prover.walk_levels(succ, start, steps)
    assert levels[-1].tolist() == got.tolist()
    assert [naive_walk(succ, start, s + 1) for s in range(steps)] == levels.tolist()


def _advice(specs, env, steps, levels=None, output=None, mult=None):
    adv = prover._advice(_node(steps), specs, env)
    if levels is not None:
        adv["w/levels"] = np.asarray(levels, dtype=np.int64)
        prev = np.concatenate([env["P"], adv["w/levels"][:-1].ravel()])
        adv["w/mult"] = np.bincount(prev % (1 << 6), minlength=len(adv["w/mult"]))[:len(adv["w/mult"])]
    if output is not None:
        adv["Y"] = np.asarray(output, dtype=np.int64)
    if mult is not None:
        adv["w/mult"] = np.asarray(mult, dtype=np.int64)
    return adv


def test_a_changed_level_value_is_rejected():
    specs, env = _case(20, 5, 4, seed=1)
    levels = prover.walk_levels(env["S"], env["P"], 4)
    levels[1, 2] = (levels[1, 2] + 1) % 20  # a real row, but not the successor (multiplicities to match)
    assert _rejected(4, specs, env, _advice(specs, env, 4, levels=levels))


def test_a_changed_output_is_rejected():
    specs, env = _case(20, 5, 4, seed=2)
    y = env["Y"].copy()
    y[3] = (y[3] + 1) % 20
    assert _rejected(4, specs, env, _advice(specs, env, 4, output=y)) == "opening:Y"
    levels = prover.walk_levels(env["S"], env["P"], 4)  # the last level changed with it: not a step of S
    levels[-1, 3] = y[3]
    assert _rejected(4, specs, env, _advice(specs, env, 4, levels=levels, output=y))


def test_multiplicities_that_do_not_count_are_rejected():
    specs, env = _case(20, 5, 4, seed=3)
    adv = prover._advice(_node(4), specs, env)
    m = adv["w/mult"].copy()
    j = int(np.flatnonzero(m)[0])
    m[j] -= 1
    m[(j + 1) % 20] += 1
    assert _rejected(4, specs, env, dict(adv, **{"w/mult": m}))


def test_an_index_outside_the_table_is_rejected():
    specs, env = _case(6, 4, 3, seed=4)
    with pytest.raises(ValueError, match=r"step 0: index 6 at position 1 is outside the table's 6 rows"):
        kernels.pointer_walk(env["S"], np.array([0, 6, 1, 2]), steps=3)
    bad = env["S"].copy()
    bad[2, 0] = 7
    with pytest.raises(ValueError, match=r"step 1: index 7"):
        kernels.pointer_walk(bad, np.array([2, 0, 1]), steps=3)
    # start index 6: a padding row of the 8-row table (its successor 0); counted or not, never a row
    env = dict(env, P=np.array([0, 6, 1, 2]))
    levels = np.zeros((3, 4), dtype=np.int64)
    levels[:, [0, 2, 3]] = prover.walk_levels(env["S"], env["P"][[0, 2, 3]], 3)
    levels[1:, 1] = prover.walk_levels(env["S"], np.array([0]), 2)[:, 0]
    prev = np.concatenate([env["P"], levels[:-1].ravel()])
    counts = np.bincount(prev, minlength=8)
    adv = {"Y": levels[-1], "w/levels": levels, "w/mult": np.where(np.arange(8) < 6, counts, 0)}
    assert _rejected(3, specs, env, adv)
    adv["w/mult"] = counts  # counting the padding row does not help: its tag says not a row
    assert _rejected(3, specs, env, adv)


@pytest.mark.parametrize("where", ["level row", "level column", "output"])
def test_garbage_in_the_advice_padding_is_rejected(where):
    specs, env = _case(20, 5, 3, seed=5)  # levels (3, 5) padded to (4, 8); output (5,) to (8,)

    def tamper(tables):
        name, cell = {"level row": ("w/levels", 3 * 8 + 1), "level column": ("w/levels", 2 * 8 + 6),
                      "output": ("Y", 6)}[where]
        flat = tables[name].copy()
        flat[cell] = np.uint64(9)
        tables[name] = flat
        if where == "output":  # the same garbage in the last level, as the output's claim would want
            lev = tables["w/levels"].copy()
            lev[2 * 8 + 6] = np.uint64(9)
            tables["w/levels"] = lev

    assert _rejected(3, specs, env, tamper=tamper)


def test_numerators_that_skip_a_row_are_rejected(monkeypatch):
    specs, env = _case(20, 5, 4, seed=6)
    levels = prover.walk_levels(env["S"], env["P"], 4)
    levels[2, 3] = 77  # a value in no row, then left out of the lookup (and out of the next step's count)
    adv = _advice(specs, env, 4, levels=levels)
    prev = np.concatenate([env["P"], levels[:-1].ravel()])
    # the steps into and out of 77 are not counted
    adv["w/mult"] = np.bincount(np.delete(prev, [5 + 5 * 1 + 3, 5 + 5 * 2 + 3]), minlength=32)
    real = prover.columns

    def skip(lay, tables):
        lookup, numerators, table = real(lay, tables)
        numerators = numerators.copy()
        numerators[2 * 8 + 3] = 0
        numerators[3 * 8 + 3] = 0
        return lookup, numerators, table

    monkeypatch.setattr(prover, "columns", skip)
    assert _rejected(4, specs, env, adv) == "PublicColumnMismatch"


def test_an_index_column_that_is_not_the_row_number_is_rejected(monkeypatch):
    """The prover relabels the table (row j called j+1) to serve shifted rows."""
    specs, env = _case(16, 5, 3, seed=7)
    real = prover.columns

    def relabel(lay, tables):
        lookup, numerators, table = real(lay, tables)
        table = [(np.arange(16, dtype=np.uint64) + 1) % 16, table[1]]
        return lookup, numerators, table

    monkeypatch.setattr(prover, "columns", relabel)
    succ = env["S"][:, 0]
    shifted = np.roll(succ, 1)  # what the relabelled table serves at index j: S[j - 1]
    levels = prover.walk_levels(shifted.reshape(-1, 1), env["P"], 3)
    prev = np.concatenate([env["P"], levels[:-1].ravel()])
    adv = _advice(specs, env, 3, output=levels[-1], mult=np.bincount((prev - 1) % 16, minlength=16))
    adv["w/levels"] = levels
    assert _rejected(3, specs, env, adv) == "PublicColumnMismatch"


def test_a_level_sent_with_another_value_is_rejected(monkeypatch):
    specs, env = _case(20, 5, 4, seed=8)
    real = prover.level_values
    for which in range(5):
        def lie(lay, tables, r_t, which=which):
            values = real(lay, tables, r_t)
            values[which] = values[which] + 1
            return values

        monkeypatch.setattr(prover, "level_values", lie)
        assert _rejected(4, specs, env), which


def test_levels_sent_to_fit_the_lookup_but_not_the_advice_are_rejected(monkeypatch):
    """With D >= 2 the two column checks leave room: v moved along their
    common kernel passes both, and the claims it leaves (on the start, the
    output, the levels at r') fail against the committed tensors."""
    from zkaudit.field.scalar import Fp2
    from zkaudit.poly.mle import eq_bits

    specs, env = _case(20, 5, 4, seed=13)
    real = prover.level_claims

    def lie(lay, claims, r_l, r_t, sent, values, transcript):
        eq = [eq_bits(l, r_l) for l in range(lay.steps)]
        delta = [Fp2(0)] * (lay.steps + 1)  # u, v_0 .. v_3
        delta[1] = Fp2(1)  # v_0 + 1, then u and v_3 to keep both combinations
        delta[0] = -(eq[1] / eq[0])
        delta[4] = -(eq[0] / eq[3])
        sent[:] = [v + d for v, d in zip(values, delta)]  # in place: the proof carries them too
        return real(lay, claims, r_l, r_t, sent, list(sent), transcript)

    monkeypatch.setattr(prover, "level_claims", lie)
    assert _rejected(4, specs, env).startswith("opening:")


def test_a_tampered_proof_is_rejected():
    specs, env = _case(20, 5, 4, seed=9)
    adv = prover._advice(_node(4), specs, env)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **adv}.items()}
    out: list[bytes] = []
    prover._handler(_node(4), specs, None, tables, _t(), out)
    data = bytearray(b"".join(out))
    for pos in (20, len(data) // 2, len(data) - 9, len(data) - 200):
        bad = bytearray(data)
        bad[pos] ^= 1
        with pytest.raises(ProofRejected):
            reader = ProofReader(bytes(bad))
            claims = verifier._handler(_node(4), specs, None, reader, _t())
            reader.finish()
            if discharge(claims, tables) is None:
                pytest.fail(f"a flipped bit at {pos} went unnoticed")
            raise ProofRejected("the claims fail against the committed tensors")
    with pytest.raises(ProofRejected):  # trailing or missing bytes
        reader = ProofReader(bytes(data) + b"\0")
        verifier._handler(_node(4), specs, None, reader, _t())
        reader.finish()
    with pytest.raises(ProofRejected):
        verifier._handler(_node(4), specs, None, ProofReader(bytes(data[:-40])), _t())


@pytest.mark.parametrize("proven,checked", [(3, 4), (4, 3), (4, 5)])
def test_a_proof_for_another_number_of_steps_is_rejected(proven, checked):
    specs, env = _case(20, 5, proven, seed=10)
    claims, _ = _run(proven, specs, env, verify_steps=checked)
    assert claims == "ProofShapeError"


def test_the_value_count_is_bounded():
    from zkaudit.errors import MalformedProof
    from zkaudit.layers.pointer_walk.proof import PointerWalkProof

    specs, env = _case(20, 5, 2, seed=11)
    adv = prover._advice(_node(2), specs, env)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **adv}.items()}
    proof, _ = prover.prove(verifier.PointerWalkLayout(_node(2), specs), tables, _t())
    data = proof.to_bytes()
    at = len(proof.lookup.to_bytes())
    bad = data[:at] + (1 << 31).to_bytes(4, "little") + data[at + 4:]
    with pytest.raises(MalformedProof, match="value count"):
        PointerWalkProof.read(bad, 0)


def test_the_circuit_checks_name_the_node():
    from zkaudit.circuit.infer import infer

    s, p = TensorSpec("S", (6, 1), 0, 5), TensorSpec("P", (3,), 0, 5)
    assert infer(Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=4), [s, p]) == ((3,), 0, 5)
    for bad, node in [((s, p), Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=0)),
                      ((s, p), Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=(1 << 12) + 1)),
                      ((TensorSpec("S", (6, 2), 0, 5), p), Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=2)),
                      ((s, TensorSpec("P", (3, 1), 0, 5)), Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=2))]:
        with pytest.raises(InvalidCircuit, match="'w'|w"):
            infer(node, list(bad))


# --- end to end --------------------------------------------------------------------
def _walk_circuit(rows=11, count=4, steps=5):
    """x (count,) start indices, S a committed successor table; the reached
    rows' values gathered and summed (a MatMul reads the walk's padding)."""
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs
    from zkaudit.circuit.weights import Weights

    rng = np.random.default_rng(12)
    succ = rng.integers(0, rows, (rows, 1))
    vals = rng.integers(-30, 31, (rows, 1))
    weights = Weights({"S": succ, "V": vals, "ones": np.ones((1, count), dtype=np.int64)})
    wspecs = (TensorSpec("S", (rows, 1), 0, rows - 1), TensorSpec("V", (rows, 1), -30, 30),
              TensorSpec("ones", (1, count), 0, 1))
    x = TensorSpec("x", (1, count), 0, 15)  # wider than the table's rows: the executor refuses an index outside
    nodes = (Node.make("start", "Reshape", ["x"], "start", shape=(count,)),
             Node.make("walk", "PointerWalk", ["S", "start"], "reached", steps=steps),
             Node.make("leaf", "GatherRows", ["V", "reached"], "leaf"),
             Node.make("score", "MatMul", ["ones", "leaf"], "score", a_zero_point=0, b_zero_point=0))
    placeholder = tuple(TensorSpec(nd.output, (1,), 0, 0) for nd in nodes)
    out = TensorSpec("score", (1, 1), 0, 0)
    circuit = with_inferred_specs(Circuit("walk", (x,), (out,), wspecs, nodes, placeholder))
    return circuit, weights, succ, vals


@pytest.fixture(scope="module")
def walk():
    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.inference.prover import commit_weights

    circuit, weights, succ, vals = _walk_circuit()
    return circuit, weights, succ, vals, encode_circuit(circuit), commit_weights(circuit, weights)[0].to_bytes()


@pytest.mark.parametrize("zero_knowledge", [True, False])
def test_a_walk_proves_and_verifies(walk, zero_knowledge):
    from zkaudit.statements.inference.prover import prove
    from zkaudit.statements.verify import verify_proof

    circuit, weights, succ, vals, circuit_bin, commitment = walk
    for x in (np.array([[0, 3, 10, 3]]), np.array([[5, 1, 2, 9]])):
        want = int(sum(vals[p, 0] for p in naive_walk(succ, x[0], 5)))
        assert circuit.execute(weights, {"x": x})["score"].tolist() == [[want]]
        proof = prove(circuit, weights, {"x": x}, zero_knowledge=zero_knowledge)
        verdict = verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment)
        assert verdict.valid, verdict.reason
        assert verdict.output == {"score": [[want]]}


@pytest.mark.parametrize("rows,count,steps", [(1, 1, 1), (5, 3, 1), (2, 1, 2), (7, 2, 9)])
def test_small_walks_prove_and_verify_zero_knowledge(rows, count, steps):
    """One row, one start, one step, more steps than rows: no variables
    on some side of the lookup or the zero-check."""
    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.inference.prover import commit_weights, prove
    from zkaudit.statements.verify import verify_proof

    circuit, weights, succ, vals = _walk_circuit(rows, count, steps)
    commitment = commit_weights(circuit, weights)[0].to_bytes()
    x = np.arange(count).reshape(1, count) % rows
    want = int(sum(vals[p, 0] for p in naive_walk(succ, x[0], steps)))
    verdict = verify_proof(prove(circuit, weights, {"x": x}, zero_knowledge=True), circuit_bin=encode_circuit(circuit),
                           weight_commitment=commitment)
    assert verdict.valid, verdict.reason
    assert verdict.output == {"score": [[want]]}


def test_a_walk_with_a_wrong_output_is_rejected(walk):
    import dataclasses

    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
    from zkaudit.statements.inference.prover import prove
    from zkaudit.statements.verify import verify_proof

    circuit, weights, _, _, circuit_bin, commitment = walk
    proof = prove(circuit, weights, {"x": np.array([[0, 3, 10, 3]])})
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    outputs = {k: v.copy() for k, v in body.outputs.items()}
    outputs["score"].flat[0] += 1
    forged = dataclasses.replace(body, outputs=outputs)
    verdict = verify_proof(encode_envelope(STATEMENT, forged.to_bytes(circuit)), circuit_bin=circuit_bin,
                           weight_commitment=commitment)
    assert not verdict.valid


def test_the_executor_names_the_node_for_an_index_outside_the_table(walk):
    circuit, weights = walk[0], walk[1]
    with pytest.raises(CircuitError, match=r"node 'walk' \(PointerWalk\): step 0: index 11 at position 2"):
        circuit.execute(weights, {"x": np.array([[0, 3, 11, 3]])})


def test_a_batch_of_walks_is_refused():
    from zkaudit.circuit import Circuit
    from zkaudit.circuit.infer import with_inferred_specs
    from zkaudit.statements.inference.batch import BatchUnsupported, widen

    p, s = TensorSpec("P", (1,), 0, 3), TensorSpec("S", (4, 1), 0, 3)
    circuit = with_inferred_specs(Circuit("w", (p,), (TensorSpec("Y", (1,), 0, 0),), (s,),
                                          (Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=3),),
                                          (TensorSpec("Y", (1,), 0, 0),)))
    with pytest.raises(BatchUnsupported, match="PointerWalk"):
        widen(circuit, 2)


def test_advice_names_belong_to_one_node():
    """The levels and multiplicities are named after the node: a second
    node of the same name, or a node whose output takes such a name, would
    have its claims discharged as the other's."""
    from zkaudit.layers.dispatch_verifier import AmbiguousAdvice, advice_shapes

    specs = {"S": TensorSpec("S", (6, 1), 0, 5), "P": TensorSpec("P", (3,), 0, 5),
             "Y": TensorSpec("Y", (3,), 0, 5), "Z": TensorSpec("Z", (3,), 0, 5),
             "w/levels": TensorSpec("w/levels", (3,), 0, 5)}
    one = Node.make("w", "PointerWalk", ["S", "P"], "Y", steps=2)
    assert advice_shapes([one], specs) == {"Y": (3,), "w/levels": (2, 3), "w/mult": (8,)}
    with pytest.raises(AmbiguousAdvice):
        advice_shapes([one, Node.make("w", "PointerWalk", ["S", "P"], "Z", steps=2)], specs)
    with pytest.raises(AmbiguousAdvice):
        advice_shapes([one, Node.make("v", "PointerWalk", ["S", "P"], "w/levels", steps=1)], specs)

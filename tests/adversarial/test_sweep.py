"""The malicious-prover sweep: every committed and advice tensor of small
circuits with non-power-of-two dimensions (every op type) and of zoo
models, varied one value at a time; the verifier must never accept an
output other than the integer executor's. Hypothesis picks further cells
and values. The full sweep (every padding cell, more values) runs behind
the `adversarial` marker: `pytest -m adversarial tests/adversarial`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import small_circuits
from malicious_prover import Attack, coordinated, sweep

ZOO = Path(__file__).resolve().parents[2] / "circuits"


# every circuit with public inputs, plus the committed-input and batch forms
CASES = [(name, "public") for name in sorted(small_circuits.BUILDERS)]
CASES += [("mlp_exact", "committed"), ("mlp_clip", "batch")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{n}-{m}" for n, m in CASES])
def attack(request):
    name, mode = request.param
    builder = small_circuits.BUILDERS[name]
    if mode == "batch":
        return Attack(*small_circuits.instance(builder, batch=2))
    return Attack(*small_circuits.instance(builder), commit_input=mode == "committed")


def test_honest_witness_verifies(attack):
    out = attack.run(attack.honest)
    assert out.accepted and not out.forged, out.stage


def _form_specific(attack, name: str, mode: str) -> list[str] | None:
    """The tensors that the committed-input or batch form lays out
    differently from the public form (the input's commitment and range
    limbs; every batch-widened tensor). The others have the same cells and
    the same relations as in the public form, whose sweep already varies
    them; `-m adversarial`'s full sweep varies every tensor of every form.
    None (every tensor) for the public form."""
    if mode == "public":
        return None
    public = Attack(*small_circuits.instance(small_circuits.BUILDERS[name]))
    same = {n: public.cells(n) for n in public.committed() + public.advice()}
    names = attack.committed() + attack.advice()
    specific = [n for n in names
                if n not in same or [len(c) for c in attack.cells(n)] != [len(c) for c in same[n]]]
    assert specific, f"the {mode} form of {name} lays out every tensor as the public form does"
    return specific


def test_one_value_at_a_time_never_forges(attack, request):
    name, mode = request.node.callspec.params["attack"]
    names = _form_specific(attack, name, mode)
    # one value per tensor: a padding cell or a real one, by turns (both, and
    # more values, under -m adversarial)
    counts, forged = sweep(attack, np.random.default_rng(0), padding_cells=1, real_cells=1, names=names,
                           alternate=True)
    assert not forged, forged[:3]
    assert counts.get("verified", 0) < sum(counts.values())  # the sweep did reach the verifier's checks
    assert counts.get("rejected", 0) > 0, counts


def test_coordinated_changes_never_forge(attack):
    """Changes that only work together (padding meeting padding in a sum, a
    selector with its index): each is refused."""
    for changes in coordinated(attack):
        out = attack.attempt(*changes)
        assert not out.accepted, (changes, out.stage)


@pytest.mark.adversarial
def test_full_sweep_never_forges(attack):
    counts, forged = sweep(attack, np.random.default_rng(1), padding_cells=24, real_cells=8,
                           values=(1, -1, 2, 127, -(1 << 20)))
    print(attack.honest.circuit.name, counts)
    assert not forged, forged[:3]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_hypothesis_chooses_the_value(attack, data):
    names = attack.committed() + attack.advice()
    name = data.draw(st.sampled_from(names))
    size = attack.honest.table(name).size
    index = data.draw(st.integers(0, size - 1))
    value = data.draw(st.one_of(st.integers(-3, 3), st.integers(-(1 << 40), 1 << 40)))
    out = attack.attempt((name, index, value))
    assert not out.forged, out


def _zoo_attack(name, tmp_path_factory):
    from zkaudit.circuit import load_circuit, load_weights, read_inputs
    from zkaudit.cli.main import main

    folder = ZOO / name
    out = tmp_path_factory.mktemp(name) / "compiled"
    args = ["compile", str(folder / "model.onnx"), "--out", str(out)]
    if (folder / "calibration.npy").exists():
        args += ["--calibration", str(folder / "calibration.npy")]
    assert main(args) == 0
    circuit = load_circuit(out)
    sample = read_inputs(folder / "input.json", circuit).samples[0]
    return Attack(circuit, load_weights(out), sample)


@pytest.mark.parametrize("name", ["logistic_risk", "clinical_mlp", "digits_cnn"])
def test_zoo_models_never_forge(name, tmp_path_factory):
    attack = _zoo_attack(name, tmp_path_factory)
    assert attack.run(attack.honest).accepted
    rng = np.random.default_rng(2)
    names = attack.committed() + attack.advice()
    sample = sorted(rng.choice(names, size=min(len(names), 10), replace=False))  # all of them: -m adversarial
    counts, forged = sweep(attack, rng, padding_cells=1, real_cells=1, names=sample, alternate=True)
    assert not forged, forged[:3]


@pytest.mark.adversarial
@pytest.mark.parametrize("name", sorted(p.name for p in ZOO.iterdir() if (p / "model.onnx").exists()
                                        and p.name != "big_cnn"))
def test_zoo_full_sweep(name, tmp_path_factory):
    attack = _zoo_attack(name, tmp_path_factory)
    counts, forged = sweep(attack, np.random.default_rng(3), padding_cells=16, real_cells=4, values=(1, -1, 2))
    print(name, json.dumps(counts))
    assert not forged, forged[:3]

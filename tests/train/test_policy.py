"""The policy: strict parsing (every problem at once), canonical form, digest."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from zkaudit.train.errors import PolicyError
from zkaudit.train.policy import Policy, load_policy
from train_helpers import policy_doc


def test_example_policy_parses_with_exact_values():
    p = Policy.from_json(policy_doc())
    assert p.family == "logreg" and p.num_params == 31 and p.steps == 143
    assert p.rate == Fraction(p.rate_numerator, 1 << 32)
    assert p.clip_fine == 1 << 24 and p.clip_grid == 1 << 10
    assert p.words_per_step == 129 + 31 and p.tape_words == 143 * 160
    assert p.update_multiplier() == (1, 1)  # eta 2^(16-10) / 64 = 1/2 with eta = 1/2


def test_digest_is_of_the_canonical_form():
    doc = policy_doc()
    again = json.loads(json.dumps(doc, indent=3, sort_keys=False))
    assert Policy.from_json(doc).digest == Policy.from_json(again).digest
    assert Policy.from_json(policy_doc(steps=142)).digest != Policy.from_json(doc).digest
    assert Policy.from_json(policy_doc(learning_rate="0.25")).digest != Policy.from_json(doc).digest


def test_every_problem_is_reported_at_once():
    doc = policy_doc(learning_rate="0.3", clip_norm=1.0, steps=0)
    doc["extra"] = 1
    with pytest.raises(PolicyError) as err:
        Policy.from_json(doc)
    msg = str(err.value)
    for part in ("unknown keys ['extra']", "learning_rate: 0.3 is not dyadic", "clip_norm: give a decimal string",
                 "policy.steps"):
        assert part in msg, msg


@pytest.mark.parametrize("changes, fragment", [
    ({"algorithm": "dpsgd/v2"}, "only 'dpsgd/v1'"),
    ({"sampling__rate_numerator": 0}, "rate_numerator"),
    ({"sampling__rate_numerator": 1 << 32}, "rate_numerator"),
    ({"sampling__expected_batch": 48}, "power of two"),
    ({"sampling__max_batch": 32}, "below the expected batch"),
    ({"clip_norm": "1.0001"}, "must be an integer (Delta"),
    ({"noise_multiplier": "0"}, "must be positive"),
    ({"noise_multiplier": "nan"}, "not finite"),
    ({"init__kind": "pretrained"}, "never free"),
    ({"model__family": "mlp", "model__hidden": [64]}, "needs seeded initial weights"),
    ({"model__family": "cnn"}, "'logreg' or 'mlp'"),
    ({"accountant__version": "0.5.0"}, "dp-accounting==0.6.0"),
    ({"accountant__method": "rdp"}, "'pld'"),
    ({"privacy__delta": "0.5"}, "below 0.1"),
    ({"privacy__neighbouring": "replace_one"}, "add_or_remove_one"),
    ({"data__label": "f00"}, "is also a feature"),
    ({"fixed_point__grid_bits": 30}, "grid_bits"),
])
def test_invalid_policies_are_refused_with_the_field(changes, fragment):
    with pytest.raises(PolicyError, match="invalid policy") as err:
        Policy.from_json(policy_doc(**changes))
    assert fragment in str(err.value), str(err.value)


def test_mlp_policy_parses():
    p = Policy.from_json(policy_doc(model={"family": "mlp", "hidden": [64]}, init={"kind": "seeded", "seed": "0a"}))
    assert p.num_params == 30 * 64 + 64 + 64 + 1


def test_load_policy_names_the_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{not json")
    with pytest.raises(PolicyError, match="p.json: not JSON"):
        load_policy(path)
    path.write_text(json.dumps(policy_doc(steps=-1)))
    with pytest.raises(PolicyError, match=r"p.json: invalid policy: policy.steps"):
        load_policy(path)
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "missing.json")

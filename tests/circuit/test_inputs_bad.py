"""Bad input files (issue 14): each is refused with one line naming the
input, the index and what was expected and found -- never silently turned
into integers and proven, never a traceback or a segfault. Through the CLI
such an error exits 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zkaudit.circuit import Circuit, TensorSpec
from zkaudit.circuit.errors import InputError
from zkaudit.circuit.inputs import MAX_JSON_DEPTH, json_depth, parse_inputs, read_inputs

ROOT = Path(__file__).resolve().parents[2]
GOOD = [0.05, 0.1, -0.05, 0.0, 0.2, 0.3, -0.3, 0.15, 0.0, 0.05]


def _circuit(shape=(1, 10)):
    x = TensorSpec("x", shape, -128, 127, 0.05, 0)
    return Circuit("c", (x,), (x,), (), (), ())


def _read(tmp_path, text: str, circuit=None):
    p = tmp_path / "in.json"
    p.write_text(text)
    return read_inputs(p, circuit or _circuit())


def _refused(tmp_path, text: str, *needles: str) -> str:
    with pytest.raises(InputError) as err:
        _read(tmp_path, text)
    msg = str(err.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def _with(value_text: str, at: int = 3) -> str:
    values = [json.dumps(v) for v in GOOD]
    values[at] = value_text
    return '{"inputs": {"x": [[' + ", ".join(values) + "]]}}"


def test_good_file_still_reads(tmp_path):
    batch = _read(tmp_path, json.dumps({"inputs": {"x": [GOOD]}}))
    assert batch.samples[0]["x"].tolist() == [[1, 2, -1, 0, 4, 6, -6, 3, 0, 1]]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_refused_not_quantized(tmp_path, literal):
    _refused(tmp_path, _with(literal), "input 'x' at [0, 3]", "expected a finite number", f"got {literal}")


def test_float_overflowing_to_infinity_refused(tmp_path):
    _refused(tmp_path, _with("1e999"), "input 'x' at [0, 3]", "got Infinity")


def test_1e308_refused_as_out_of_the_quantized_range(tmp_path):
    _refused(tmp_path, _with("1e308"), "input 'x' at [0, 3]", "1e+308 is out of the quantized range", "[-6.4, 6.35]")


def test_outlier_still_saturates_like_quantize_linear(tmp_path):
    batch = _read(tmp_path, _with("1000.0"))
    assert batch.samples[0]["x"][0, 3] == 127


@pytest.mark.parametrize("literal,shown", [("null", "got null"), ("true", "got true"), ("false", "got false"),
                                           ('"0.5"', 'got the string "0.5"'), ("{}", "got an object")])
def test_non_numbers_refused(tmp_path, literal, shown):
    _refused(tmp_path, _with(literal), "input 'x' at [0, 3]", "expected a number", shown)


def test_400_digit_integer_refused_without_a_traceback(tmp_path):
    _refused(tmp_path, _with("9" * 400), "input 'x' at [0, 3]", "an integer of 400 digits")


def test_5000_digit_integer_refused_past_pythons_int_limit(tmp_path):
    _refused(tmp_path, _with("-" + "9" * 5000), "input 'x' at [0, 3]", "an integer of 5000 digits")


def test_integer_inputs_out_of_range_and_fractional_refused(tmp_path):
    ints = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    with pytest.raises(InputError, match=r"input 'x' at \[0, 4\]: integer input must lie in \[-128, 127\], got 128"):
        _read(tmp_path, json.dumps({"inputs_int": {"x": [ints[:4] + [128] + ints[5:]]}}))
    with pytest.raises(InputError, match=r"input 'x' at \[0, 1\]: 'inputs_int' takes integers, got 2.5"):
        _read(tmp_path, json.dumps({"inputs_int": {"x": [[1, 2.5] + ints[2:]]}}))
    with pytest.raises(InputError, match=r"at \[0, 0\].*got 9223372036854775808"):
        _read(tmp_path, json.dumps({"inputs_int": {"x": [[2**63] + ints[1:]]}}))


def test_ten_one_element_lists_not_accepted_as_ten_features(tmp_path):
    nested = [[v] for v in GOOD]
    _refused(tmp_path, json.dumps({"input_data": [nested]}), "'input_data' for input 'x' must be a flat list",
             "shape (10, 1)")
    _refused(tmp_path, json.dumps({"inputs": {"x": nested}}), "input 'x' has shape (10, 1)", "expected (1, 10)")


def test_ragged_lists_refused_with_the_index(tmp_path):
    _refused(tmp_path, json.dumps({"inputs": {"x": [GOOD, GOOD[:9]]}}), "input 'x' at [1]",
             "expected a list of 10 values, got 9")
    _refused(tmp_path, json.dumps({"inputs": {"x": [GOOD[:9] + [[0.1]]]}}), "input 'x' at [0, 9]",
             "expected a number, got a list")


def test_file_with_both_inputs_and_input_data_refused(tmp_path):
    _refused(tmp_path, json.dumps({"inputs": {"x": [GOOD]}, "input_data": [GOOD]}),
             "holds both 'inputs' and 'input_data'")
    _refused(tmp_path, json.dumps({"inputs": {"x": [GOOD]}, "inputs_int": {"x": [[0] * 10]}}),
             "holds both 'inputs' and 'inputs_int'")


def test_duplicate_keys_refused(tmp_path):
    row = json.dumps([GOOD])
    _refused(tmp_path, '{"inputs": {"x": %s, "x": %s}}' % (row, row), "key 'x' appears twice")
    _refused(tmp_path, '{"inputs": {"x": %s}, "inputs": {"x": %s}}' % (row, row), "key 'inputs' appears twice")


def test_input_data_entry_that_is_not_a_list_refused(tmp_path):
    _refused(tmp_path, json.dumps({"input_data": [0.5]}), "'input_data'[0] (input 'x') must be a list")


def test_nesting_deeper_than_the_limit_refused_before_parsing(tmp_path):
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    _refused(tmp_path, '{"inputs": {"x": %s}}' % deep, f"nests {MAX_JSON_DEPTH + 3} levels deep")


def test_json_depth_skips_brackets_inside_strings():
    assert json_depth('{"a": "[[[[{{{{\\"[[[[", "b": [[1]]}') == 3
    assert json_depth("[]" * 1000) == 1
    assert json_depth('"no containers"') == 0


def test_deeply_nested_python_values_refused_through_the_api():
    deep = [0.5]
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = [deep]
    with pytest.raises(InputError, match="nested more than"):
        parse_inputs({"inputs": {"x": deep}}, _circuit())


def test_100000_levels_of_nesting_exit_2_through_the_cli_not_a_segfault(logistic, tmp_path):
    """200 KB of '[' : the CLI (which imports the registry, and so py_ecc,
    which raises the recursion limit to 100000) answers one line, exit 2."""
    model = logistic
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for cmd in (["run", str(model), "--input", str(deep)], ["mock", str(model), "--input", str(deep)]):
        proc = subprocess.run([sys.executable, "-m", "zkaudit.cli.main", *cmd], capture_output=True, text=True,
                              timeout=120, cwd=ROOT)
        assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error")]
        assert "Traceback" not in proc.stderr, proc.stderr
        assert len(errors) == 1 and "nests 100000 levels deep" in errors[0], proc.stderr


@pytest.fixture(scope="module")
def logistic(tmp_path_factory):
    from zkaudit.cli.main import main

    model = tmp_path_factory.mktemp("logistic") / "model"
    zoo = ROOT / "circuits" / "logistic_risk"
    assert main(["compile", str(zoo / "model.onnx"), "--out", str(model), "--calibration",
                 str(zoo / "calibration.npy")]) == 0
    return model


def _ezkl(value_text: str) -> str:
    return '{"input_data": [[' + ", ".join([value_text] + ["0.5"] * 9) + "]]}"


BAD_FILES = {
    "nan": _ezkl("NaN"), "infinity": _ezkl("Infinity"), "minus_infinity": _ezkl("-Infinity"), "1e308": _ezkl("1e308"),
    "null": _ezkl("null"), "true": _ezkl("true"), "string": _ezkl('"0.5"'), "400_digits": _ezkl("9" * 400),
    "nested_ten_features": '{"input_data": [[' + ", ".join(["[0.5]"] * 10) + "]]}",
    "inputs_and_input_data": '{"inputs": {"x": [[' + ", ".join(["0.5"] * 10) + "]]}, " + _ezkl("0.5")[1:],
    "duplicate_keys": '{"input_data": [[0.5]], ' + _ezkl("0.5")[1:],
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_input_file_is_one_line_exit_2_for_every_command(logistic, tmp_path, capsys, case):
    from zkaudit.cli.main import main

    bad = tmp_path / f"{case}.json"
    bad.write_text(BAD_FILES[case])
    out = tmp_path / "written"
    for cmd in (["run", str(logistic)], ["mock", str(logistic)], ["prove", str(logistic), "--out", str(out)],
                ["commit-input", str(logistic), "--out", str(out)]):
        capsys.readouterr()
        assert main([*cmd, "--input", str(bad)]) == 2, cmd
        err = capsys.readouterr().err
        errors = [ln for ln in err.splitlines() if ln.startswith("error")]
        assert len(errors) == 1 and "Traceback" not in err, err
        assert not out.exists()  # nothing written


def test_bad_input_given_to_verify_exits_2(logistic, tmp_path, capsys):
    from zkaudit.cli.main import main

    good = tmp_path / "good.json"
    good.write_text(_ezkl("0.5"))
    proof = tmp_path / "p.zkp"
    assert main(["prove", str(logistic), "--input", str(good), "--out", str(proof)]) == 0
    assert main(["verify", str(proof), "--circuit", str(logistic), "--input", str(good)]) == 0
    bad = tmp_path / "nan.json"
    bad.write_text(BAD_FILES["nan"])
    capsys.readouterr()
    assert main(["verify", str(proof), "--circuit", str(logistic), "--input", str(bad)]) == 2
    assert "expected a finite number, got NaN" in capsys.readouterr().err


def test_importing_zkaudit_leaves_the_recursion_limit_alone():
    """py_ecc's __init__ raises the recursion limit to 100000, after which a
    deeply nested JSON document (an input file, a registry request body, a
    circuit.bin) overflows the C stack instead of raising RecursionError.
    zkaudit restores the limit where it imports py_ecc."""
    code = ("import sys; before = sys.getrecursionlimit(); import zkaudit.cli.main, zkaudit.registry.keys; "
            "print(before, sys.getrecursionlimit())")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    before, after = proc.stdout.split()
    assert after == before

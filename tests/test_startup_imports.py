"""`zkaudit verify` of a small proof stays off the heavy imports: no
scipy.linalg (numba's import-time BLAS check, masked by field.jit), no ONNX,
no SQLAlchemy, no galois, and for the logistic model no numba and no pydantic. Checked in a fresh process running the CLI entry
point, by what is in sys.modules when it exits; nothing is timed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy.linalg", "onnx", "onnxruntime", "sqlalchemy", "galois", "sklearn", "py_ecc")

_RUN_CLI = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["zkaudit"] + sys.argv[1:]
from zkaudit.cli.main import main
sys.exit(main())
"""


def _modules_after(argv: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    run = subprocess.run([sys.executable, "-c", _RUN_CLI, *argv], capture_output=True, text=True, cwd=ROOT,
                         timeout=600)
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith("MODULES ")]
    assert lines, run.stderr
    return run, set(json.loads(lines[-1][len("MODULES "):]))


@pytest.fixture(scope="module")
def small_proof(tmp_path_factory):
    import zkaudit

    work = tmp_path_factory.mktemp("startup")
    src = ROOT / "circuits" / "logistic_risk"
    zkaudit.compile(src / "model.onnx", work / "model", calibration=src / "calibration.npy")
    zkaudit.prove(work / "model", src / "input.json", out=work / "proof.zkp")
    return work


def test_verify_does_not_import_scipy_onnx_or_sqlalchemy(small_proof):
    run, modules = _modules_after(["verify", str(small_proof / "proof.zkp"), "--circuit", str(small_proof / "model")])
    assert run.returncode == 0, run.stderr
    assert "valid inference proof" in run.stdout
    assert [m for m in HEAVY if m in modules] == []


def test_verify_of_a_small_proof_loads_no_numba(small_proof):
    """Every kernel a small proof's verifier calls has a numpy path below its
    threshold (field.jit.use_kernel), and the kernel modules build their
    numba functions on first use: numba is never imported."""
    run, modules = _modules_after(["verify", str(small_proof / "proof.zkp"), "--circuit", str(small_proof / "model")])
    assert run.returncode == 0, run.stderr
    assert "numba" not in modules and "llvmlite" not in modules
    assert "pydantic" not in modules  # typer's parameter coercion is bypassed for str/bool/Path (cli/main.py)


def test_a_rejected_proof_is_rejected_without_them_too(small_proof):
    tampered = small_proof / "tampered.zkp"
    data = bytearray((small_proof / "proof.zkp").read_bytes())
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))
    run, modules = _modules_after(["verify", str(tampered), "--circuit", str(small_proof / "model")])
    assert run.returncode == 1, run.stderr
    assert [m for m in HEAVY if m in modules] == []


def test_numba_loads_without_scipy_linalg_and_scipy_still_imports_after():
    code = ("import sys\nfrom zkaudit.field import jit, vec\nimport numpy as np\n"
            "nb = jit.numba()\na = vec.random(1 << 15)\nvec.mul(a, a)\n"  # a real kernel call
            "assert 'scipy.linalg' not in sys.modules\n"
            "import scipy.linalg\nprint(scipy.linalg.__name__)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "scipy.linalg"


def test_verify_imports_only_its_statements_verifier(small_proof):
    """An inference proof's check stops discovery at the inference verifier
    (statements/verify._discover): the other statements' verifiers are not
    imported."""
    run, modules = _modules_after(["verify", str(small_proof / "proof.zkp"), "--circuit", str(small_proof / "model")])
    assert run.returncode == 0, run.stderr
    assert "zkaudit.statements.inference.verifier" in modules
    others = ("consent", "link", "training")
    assert [m for m in others if f"zkaudit.statements.{m}.verifier" in modules] == []


def test_discovery_for_an_unknown_statement_imports_every_verifier():
    code = ("import sys\nfrom zkaudit.statements import verify as v\n"
            "v._discover('no-such-statement')\n"
            "print(sorted(v.VERIFIERS))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(sorted(["consent", "inference", "link-quant", "train-dpsgd"]))

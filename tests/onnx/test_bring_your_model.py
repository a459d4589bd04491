"""docs/bring-your-model.md is tested: every ```python block (not those
marked `not-run`, which need PyTorch) runs in order, in one namespace, in a
scratch folder where the test has written what the PyTorch block would have
exported (the same graph built with the onnx helper API, saved the way
torch.onnx.export saves it: weights in model.onnx.data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from exported import digits_cnn, save_like_pytorch

DOC = Path(__file__).resolve().parents[2] / "docs" / "bring-your-model.md"
BLOCK = re.compile(r"^```python( not-run)?\n(.*?)^```", re.S | re.M)


def blocks():
    return [(bool(skip), code) for skip, code in BLOCK.findall(DOC.read_text())]


def test_the_page_has_a_recipe_per_route():
    text = DOC.read_text()
    for title in ("## 1. PyTorch", "## 2. onnxruntime's quantization", "## 3. scikit-learn"):
        assert title in text
    runnable = [code for skip, code in blocks() if not skip]
    assert len(runnable) == 3 and any("torch.onnx.export" in code for skip, code in blocks() if skip)


def test_every_recipe_on_the_page_runs(tmp_path, monkeypatch):
    pytest.importorskip("skl2onnx", reason="skl2onnx is in the dev extras (pip install -e .[dev])")
    (tmp_path / "export").mkdir()
    save_like_pytorch(digits_cnn(batch="batch_size"), tmp_path / "export" / "model.onnx")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for skip, code in blocks():
        if not skip:
            exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - the page's own recipes
    assert (tmp_path / "compiled_logistic" / "public" / "circuit.bin").exists()

"""docs/python.md, run as written: every ```python block in one namespace
and every ```bash block in a shell, in order, in a fresh folder holding a
link to the zoo (`circuits/`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "python.md"


def blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(python|bash)\n(.*?)```", text, flags=re.S)


def test_python_api_doc_runs_as_written(tmp_path, monkeypatch, capsys):
    found = blocks(DOC.read_text())
    assert [kind for kind, _ in found].count("python") >= 4 and ("bash" in [k for k, _ in found])
    (tmp_path / "circuits").symlink_to(REPO / "circuits")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZKAUDIT_REGISTRY_URL", raising=False)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    namespace: dict = {}
    for i, (kind, code) in enumerate(found):
        if kind == "python":
            exec(compile(code, f"{DOC.name} block {i}", "exec"), namespace)
        else:
            proc = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, f"block {i}:\n{code}\n{proc.stderr}"
    assert (tmp_path / "logistic" / "public" / "weights.commitment").exists()
    assert namespace["verdict"].model == "risk@1.0"

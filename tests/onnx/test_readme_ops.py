"""The README's supported-ops table is the importer's op table, row for row."""

from __future__ import annotations

from pathlib import Path

from zkaudit.circuit import OPS as IR_OPS
from zkaudit.onnx.registry import OP_NOTES, OPS, ops_markdown

README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| ONNX op | domain | becomes in the circuit | restrictions |"


def _readme_table() -> str:
    lines = README.read_text().splitlines()
    start = lines.index(HEADER)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[start:end]) + "\n"


def test_every_importable_op_is_described():
    assert set(OP_NOTES) == set(OPS), "describe each op of zkaudit.onnx.registry.OPS in OP_NOTES, and only those"


def test_descriptions_name_real_ir_ops():
    for (domain, op), (maps_to, _) in OP_NOTES.items():
        first = maps_to.split()[0].rstrip(":,")
        assert first == "nothing" or first in IR_OPS, f"{domain}:{op} maps to unknown IR op {first!r}"


def test_readme_table_matches_the_importer():
    expected = ops_markdown()
    assert _readme_table() == expected, "README's supported-ops table is stale; replace it with:\n" + expected

"""docs/cli.md is generated from the commands' help and kept in sync."""

from __future__ import annotations

from pathlib import Path

from zkaudit.cli._docs import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current():
    assert DOC.read_text() == render_markdown(), "docs/cli.md is stale: python -m zkaudit.cli._docs > docs/cli.md"


def test_every_command_and_option_is_documented():
    text = render_markdown()
    for command in ("compile", "run", "prove", "verify", "mock", "demo", "keys gen", "registry init",
                    "registry publish", "registry serve", "registry verify-log"):
        assert f"## `zkaudit {command}`" in text
    for line in text.splitlines():
        if line.startswith("| `"):
            assert line.split("|")[2].strip(), f"undocumented parameter: {line}"

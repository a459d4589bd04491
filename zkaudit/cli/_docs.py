"""Render the CLI reference (`docs/cli.md`) from the commands themselves, so
the reference cannot drift from `--help`. Regenerate with
    python -m zkaudit.cli._docs > docs/cli.md
(tests/cli/test_docs.py fails while the file is stale)."""

from __future__ import annotations


def _paragraphs(text: str | None) -> str:
    if not text:
        return ""
    paras = [" ".join(line.strip() for line in p.strip().splitlines()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paras if p)


def _param_row(param) -> str:
    # Typer carries its own copy of click, so parameters and groups are
    # recognised by what they are, not by click's classes.
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}`"
        kind = "argument"
    else:
        name = ", ".join(f"`{o}`" for o in param.opts)
        kind = "flag" if getattr(param, "is_flag", False) else "option"
    required = "required" if param.required else ""
    default = param.default if not param.required and param.default not in (None, False, ()) else ""
    help_text = _paragraphs(getattr(param, "help", "") or "").replace("|", "\\|")
    bits = [b for b in (kind, required, f"default `{default}`" if default != "" else "") if b]
    return f"| {name} | {help_text} | {', '.join(bits)} |"


def _command(path: str, cmd, out: list[str]) -> None:
    if getattr(cmd, "commands", None):
        out.append(f"## `{path}`\n\n{_paragraphs(cmd.help)}\n")
        for name in sorted(cmd.commands):
            _command(f"{path} {name}", cmd.commands[name], out)
        return
    out.append(f"## `{path}`\n\n{_paragraphs(cmd.help)}\n")
    params = [p for p in cmd.params if p.name != "help"]
    if params:
        out.append("| parameter | meaning | |\n|---|---|---|")
        out.extend(_param_row(p) for p in params)
        out.append("")


def render_markdown() -> str:
    from zkaudit.cli.main import root_command

    root = root_command(load_all=True)
    out = ["# zkaudit command reference", "",
           "Generated from the commands' own help by `python -m zkaudit.cli._docs`; do not edit by hand.", "",
           _paragraphs(root.help), ""]
    for name in sorted(root.commands):
        _command(f"zkaudit {name}", root.commands[name], out)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")

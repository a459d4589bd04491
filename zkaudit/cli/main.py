"""The `zkaudit` entry point.

Every module in this package that defines `register(app)` contributes its
commands. User mistakes (`ZkauditError`) print one line and exit with the
error's code (2 for usage/input errors, 1 for a rejected proof); they never
show a traceback.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import typer

from zkaudit import __version__
from zkaudit.errors import ZkauditError

app = typer.Typer(
    name="zkaudit",
    help=(
        "Zero-knowledge model audits: compile quantized ONNX models to circuits, "
        "commit, publish to a registry, prove and verify.\n\n"
        "New here? `zkaudit demo` runs the whole journey on a zoo model in a temporary folder.\n\n"
        "Exit codes: 0 success; 1 a proof or log was rejected (the reason on stderr); 2 a usage or input "
        "error (one line on stderr saying what is wrong and what to do)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"zkaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """zkaudit command line."""


def _register_commands() -> None:
    import zkaudit.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in ("main",) or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"zkaudit.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


def _reflow_help(typer_app: typer.Typer) -> None:
    """Commands' help from their docstrings, each paragraph on one line, so
    `--help` wraps it to the terminal instead of keeping the source's line
    breaks (which made ragged columns in the command list)."""
    for info in typer_app.registered_commands:
        text = info.help or (info.callback.__doc__ if info.callback else None)
        if text:
            paragraphs = inspect.cleandoc(text).split("\n\n")
            info.help = "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_register_commands()
_reflow_help(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (also used by tests)."""
    try:
        # With standalone_mode=False click returns a command's typer.Exit code
        # instead of raising it.
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int):
            return rc
    except ZkauditError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.secho("aborted", err=True)
        return 130
    except OSError as exc:  # a path the command read or wrote directly
        typer.secho(f"error: {_os_error(exc)}", err=True, fg=typer.colors.RED)
        return 2
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


def _os_error(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else ""
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {name} (check the path)"
    if isinstance(exc, IsADirectoryError):
        return f"{name} is a directory, expected a file"
    if isinstance(exc, PermissionError):
        return f"permission denied: {name}"
    return f"cannot access {name}: {exc.strerror or exc}"


if __name__ == "__main__":
    sys.exit(main())

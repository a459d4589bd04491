"""The `zkaudit` entry point.

Every module in this package that defines `register(app)` contributes its
commands; `_lazy.py` finds them without importing the modules, so a command
pays only for its own imports and `zkaudit --help` for none.

Exit codes (the contract a pipeline relies on):

    0  success
    1  a proof or log was rejected (the reason on stderr, or in the JSON)
    2  a usage or input error: one line saying what is wrong and what to do
    3  an internal error (a bug): one line asking for a report; the
       traceback only with --debug (or ZKAUDIT_DEBUG=1)
  130  interrupted (Ctrl-C)

Under `--json` an error is one JSON object on stdout,
`{"schema": "zkaudit.error/1", "error": ..., "code": ..., "exit_code": ...}`
(docs/json.md), and nothing is printed on stderr.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import typer
from typer.core import TyperGroup

from zkaudit import __version__
from zkaudit.errors import ProofRejected, ZkauditError

ERROR_SCHEMA = "zkaudit.error/1"
INTERNAL_ERROR = 3
INTERRUPTED = 130

ROOT_HELP = (
    "Zero-knowledge model audits: compile quantized ONNX models to circuits, "
    "commit, publish to a registry, prove and verify.\n\n"
    "New here? `zkaudit demo` runs the whole journey on a zoo model in a temporary folder.\n\n"
    "Exit codes: 0 success; 1 a proof or log was rejected (the reason on stderr); 2 a usage or input "
    "error (one line on stderr saying what is wrong and what to do); 3 an internal error (a bug: please "
    "report it with the output of the same command run with --debug)."
)


def _click():
    """The click that typer raises from: typer >= 0.29 bundles its own copy
    (`typer._click`), older releases use the `click` package. Catching the
    wrong one let every usage error escape as a traceback."""
    try:
        from typer import _click as bundled

        return bundled
    except ImportError:  # typer < 0.29
        import click

        return click


# The command whose kernels will compile (`cli._kernels`), until it is announced.
_PENDING_NOTICE: list[str | None] = [None]


def _announce_first(invoke):
    """A command's invoke that first prints the pending kernel notice: click
    calls it only once the command's arguments have parsed."""
    def run(ctx):
        command, _PENDING_NOTICE[0] = _PENDING_NOTICE[0], None
        if command is not None:
            from zkaudit.cli._kernels import announce

            announce(command)
        return invoke(ctx)
    return run


class _RootGroup(TyperGroup):
    """The root group: commands are imported when they run or their help is
    shown; the command list comes from `_lazy.discover()`."""

    _entries: dict | None = None

    def _discover(self) -> dict:
        if self._entries is None:
            from zkaudit.cli._lazy import discover

            entries, eager = discover()
            self._entries = {e.name: e for e in entries}
            for module in eager:
                self._load(module)
        return self._entries

    def _load(self, module_name: str) -> None:
        module = importlib.import_module(module_name)
        register = getattr(module, "register", None)
        if register is None:
            return
        sub = typer.Typer()
        register(sub)
        _reflow_help(sub)
        group = typer.main.get_group(sub)
        for name, command in group.commands.items():
            _polish(command)
            command.invoke = _announce_first(command.invoke)
            self.commands[name] = command

    def load_all(self) -> None:
        for entry in self._discover().values():
            if entry.name not in self.commands:
                self._load(entry.module)

    def list_commands(self, ctx) -> list[str]:
        return sorted(set(self.commands) | set(self._discover()))

    def get_command(self, ctx, cmd_name: str):
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        entry = self._discover().get(cmd_name)
        if entry is None:
            return None
        if entry.help is None:
            self._load(entry.module)
            return self.commands.get(cmd_name)
        # Listed in the root help only: a stand-in carrying the help text.
        return typer.core.TyperCommand(name=cmd_name, help=entry.help)

    def resolve_command(self, ctx, args):
        if args:
            entry = self._discover().get(args[0])
            if entry is not None and args[0] not in self.commands:
                self._load(entry.module)
        try:
            return super().resolve_command(ctx, args)
        except _click().exceptions.UsageError as exc:
            # typer suggests only among commands already imported
            from difflib import get_close_matches

            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"
            raise


def _polish(command) -> None:
    """typer 0.29 shows every flag as `--json <bool>`; a flag takes no value,
    so it shows none. Its str and Path parameters skip pydantic (`_Plain`)."""
    for param in getattr(command, "params", ()):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        _Plain.install(param)
    if not getattr(command, "_zkaudit_polished", False):
        make_help_option = command.get_help_option

        def get_help_option(ctx):
            option = make_help_option(ctx)
            if option is not None and option.metavar is None:
                option.metavar = ""
            if option is not None:
                _Plain.install(option)
            return option

        command.get_help_option = get_help_option
        command._zkaudit_polished = True
    for sub in getattr(command, "commands", {}).values():
        _polish(sub)


class _Plain:
    """Coercion of a str, bool or pathlib.Path parameter without pydantic.

    typer >= 0.29 coerces every parameter value, None included, through a
    pydantic TypeAdapter built on first use: importing pydantic and building
    the adapters cost ~0.13 s of CPU in every command with options (a third
    of `zkaudit verify`'s start-up). A command-line str, a flag's bool and a
    missing value need no coercion, and a Path goes through typer's own path checks (`coerce_cli_path`, which
    needs pydantic only for a value that is not a Path yet); any other value
    or parameter shape is left to typer. Installed only where typer has the
    same hooks (`type_descriptor`, `_runtime_param`); older typers are
    untouched."""

    def __init__(self, descriptor, coerce_path):
        self.descriptor = descriptor
        self._coerce_path = coerce_path
        self._typer = None

    @classmethod
    def install(cls, param) -> None:
        desc = getattr(param, "type_descriptor", None)
        if desc is None or getattr(param, "_runtime_param", False) is not None:
            return
        info = desc.parameter_info
        if (desc.annotation not in (str, Path, bool) or desc.file_annotation is not None
                or getattr(info, "parser", None) is not None or param.multiple or param.nargs != 1):
            return
        try:
            from typer._param_types import coerce_cli_path
        except ImportError:
            return
        param._runtime_param = cls(desc, coerce_cli_path)

    def coerce(self, value, param, ctx):
        if value is None:
            return None
        if isinstance(value, str) and self.descriptor.annotation is str:
            return value
        if isinstance(value, bool) and self.descriptor.annotation is bool:
            return value
        if isinstance(value, (str, Path)) and self.descriptor.annotation is Path:
            info = self.descriptor.parameter_info
            path_type = info.path_type or Path
            if isinstance(path_type, type) and issubclass(path_type, Path):
                value = path_type(value)
            return self._coerce_path(value, info, path_type=path_type, param=param, ctx=ctx)
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self.descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)


def _reflow_help(typer_app: typer.Typer) -> None:
    """Commands' help from their docstrings, each paragraph on one line, so
    `--help` wraps it to the terminal instead of keeping the source's line
    breaks (which made ragged columns in the command list)."""
    from zkaudit.cli._lazy import first_paragraphs

    for info in typer_app.registered_commands:
        text = info.help or (info.callback.__doc__ if info.callback else None)
        if text:
            info.help = first_paragraphs(text)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


app = typer.Typer(
    name="zkaudit",
    cls=_RootGroup,
    help=ROOT_HELP,
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
    debug: bool = typer.Option(
        False, "--debug", help="On an internal error, print the full traceback (also ZKAUDIT_DEBUG=1). "
                               "Accepted anywhere on the command line."),
) -> None:
    """zkaudit command line."""


def root_command(*, load_all: bool = False):
    """The root click group (every command imported when `load_all`: the
    reference docs and the tests that compare help with it)."""
    group = typer.main.get_command(app)
    _polish(group)
    if load_all:
        group.load_all()
    return group


def _split_flags(args: list[str]) -> tuple[list[str], bool, bool]:
    """(args without --debug, debug, json): both flags are read before
    parsing, so a usage error can still be reported as JSON and --debug
    works after the command name too. Nothing after `--` counts."""
    head, sep, tail = args, [], []
    if "--" in args:
        i = args.index("--")
        head, sep, tail = args[:i], ["--"], args[i + 1:]
    debug = "--debug" in head or os.environ.get("ZKAUDIT_DEBUG", "") not in ("", "0")
    as_json = "--json" in head
    return [a for a in head if a != "--debug"] + sep + tail, debug, as_json


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (also used by tests)."""
    args, debug, as_json = _split_flags(list(sys.argv[1:] if argv is None else argv))
    click = _click()
    command = args[0] if args and not args[0].startswith("-") else None
    cold = command is not None and "--help" not in args and _kernels_cold(command)
    # said once the command's arguments have parsed (`_announce_first`): a usage error compiles nothing
    _PENDING_NOTICE[0] = command if cold and not as_json else None
    try:
        # With standalone_mode=False click returns a command's typer.Exit code
        # instead of raising it.
        rc = root_command().main(args=args, prog_name="zkaudit", standalone_mode=False)
        rc = rc if isinstance(rc, int) else 0
        if cold and rc == 0:
            from zkaudit.cli._kernels import mark_warm

            mark_warm(command)
        return rc
    except ZkauditError as exc:
        return _fail(str(exc), _code(exc), exc.exit_code, as_json)
    except typer.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help())
        return 0
    except click.exceptions.UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        return _fail(exc.format_message() + where, "usage_error", 2, as_json)
    except click.exceptions.ClickException as exc:
        return _fail(exc.format_message(), "usage_error", exc.exit_code or 2, as_json)
    except (typer.Abort, getattr(click.exceptions, "Abort", typer.Abort)) as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt) or exc.__cause__ is None:
            return _fail("interrupted", "interrupted", INTERRUPTED, as_json)
        return _internal(exc.__cause__, debug, as_json)  # click turns EOFError into Abort
    except KeyboardInterrupt:
        return _fail("interrupted", "interrupted", INTERRUPTED, as_json)
    except OSError as exc:  # a path the command read or wrote directly
        return _fail(_os_error(exc), "input_error", 2, as_json)
    except Exception as exc:  # a bug: the one place a traceback may appear, and only when asked
        return _internal(exc, debug, as_json)
    finally:
        _PENDING_NOTICE[0] = None  # a notice not said (a usage error) is not owed to anything run later


# Commands that read, compute and write their results (atomically) before
# they return: after them the console script skips the interpreter's
# teardown (`run`).
FAST_EXIT = frozenset({"verify", "prove", "run", "commit-input", "mock"})


def run() -> None:
    """The console script: `main`, then the exit. After a FAST_EXIT command
    the process ends with os._exit once stdout and stderr are flushed: the
    interpreter's teardown (freeing every module and array, numba's and
    llvmlite's finalizers, its thread pool) took 0.2-0.3 s of a one-second
    `zkaudit verify`, and these commands leave nothing for it to finish.
    Every other command (the registry's database sessions, the server)
    exits normally. These one-shot commands run without the cyclic
    garbage collector from the start (their imports and argument parsing
    too, not only the verifier and the prover, `gc_pause`): the exit frees
    their few cycles. 0.02-0.05 s of a one-second verify; 15-108 ms of a
    0.5-2 s `zkaudit prove` (logistic_risk to breast_cancer_gb, measured
    with `gc.callbacks`), most of it in numba's imports. `verify` also starts
    numpy's OpenBLAS with one thread unless the caller chose a count: the
    verifier does no floating-point algebra, and the pool's idle threads
    spun for 0.12 s of CPU in every verify (the prover keeps its threads:
    the executor's MatMul and Conv run through float64 BLAS)."""
    args, _, _ = _split_flags(sys.argv[1:])
    command = args[0] if args and not args[0].startswith("-") else None
    if command in FAST_EXIT:
        import gc

        gc.disable()
    if command == "verify":
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    rc = main()
    if command in FAST_EXIT and "--help" not in args:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away, or a closed stream: nothing to save
            pass
        os._exit(rc)
    sys.exit(rc)


def _kernels_cold(command: str) -> bool:
    from zkaudit.cli._kernels import is_cold

    try:
        return is_cold(command)
    except Exception:  # never let the announcement break a command
        return False


def _code(exc: ZkauditError) -> str:
    return "proof_rejected" if isinstance(exc, ProofRejected) else "input_error"


def _fail(message: str, code: str, exit_code: int, as_json: bool) -> int:
    if as_json:
        typer.echo(json.dumps({"schema": ERROR_SCHEMA, "error": message, "code": code, "exit_code": exit_code}))
    else:
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return exit_code


def _internal(exc: BaseException, debug: bool, as_json: bool) -> int:
    if debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return _fail(f"internal error ({detail}); this is a bug in zkaudit: please report it with the output of "
                 "the same command run with --debug", "internal_error", INTERNAL_ERROR, as_json)


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

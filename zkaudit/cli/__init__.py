"""Command-line interface: one module per command, each a thin layer over the
library. `main.py` discovers every module here that defines
`register(app: typer.Typer)` and lets it add its command(s), so adding a
command never edits a shared file. May import every other layer."""

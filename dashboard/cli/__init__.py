"""`flowlogs`: the command line. Every query command has a `--json` twin whose
field names are those of the event contract (docs/events.md), so what a person reads
a script can fetch.

One module per concern: `output` (JSON-ready values, tables, progress bars, errors), `options` (the shared
options and the data location), `read` (the queries), `manage` (writing, deleting, upkeep), `serve` (the
dashboard) and `collect` (the collector and its ingest keys). They define the commands; this module registers
them on `app`, in the order `flowlogs --help` lists them. Importing it loads no Panel and no server: each
command imports what only it needs when it runs."""

from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Annotated

import typer

from . import collect, manage, read, serve
from .output import out

app = typer.Typer(help="Execution logs of flows: record, ingest, query, delete and retain.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"flowlogs {package_version('flowlogs')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False):
    """Execution logs of flows: record, ingest, query, delete and retain."""


# in the order `flowlogs --help` lists them; a command's name is its function's, with - for _
COMMANDS = (
    manage.demo, manage.ingest,
    read.flows, read.counts, read.executions, read.show, read.tokens, read.failures,
    manage.delete, manage.clear, read.audit, manage.retention, read.quarantine, manage.close_stale,
    manage.compact, manage.migrate,
    serve.serve,
    collect.collect,
)


def _register() -> None:
    for command in COMMANDS:
        app.command(command.__name__.replace("_", "-"))(command)
    app.add_typer(collect.keys_app, name="keys")


_register()

__all__ = ["app", "main"]
